import cliProgress from 'cli-progress';

/** A progress bar for long steps on a terminal; silent in CI, pipes and tests. */
export interface Progress {
  increment(by?: number): void;
  update(value: number): void;
  stop(): void;
}

const silent: Progress = { increment() {}, update() {}, stop() {} };

export function progressBar(label: string, total: number): Progress {
  const interactive =
    process.stderr.isTTY === true && process.env.CI === undefined && process.env.BOLDLINK_NO_PROGRESS === undefined;
  if (!interactive || total <= 0) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(28)} {bar} {percentage}% | {value}/{total} | {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    increment: (by = 1) => bar.increment(by),
    update: (value) => bar.update(value),
    stop: () => bar.stop(),
  };
}
