import { configureLogger } from '../../pipeline/core/log.js';
import { runCli } from '../../pipeline/core/runCli.js';

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  /** What a steward sees on stderr: the error report and every log line. */
  readonly stderr: string;
  readonly logLines: readonly string[];
}

/**
 * Run `boldlink ARGS` inside the test process: the same `runCli` the binary
 * calls, with stdout, stderr and the logger captured. A spawned CLI costs
 * seconds of start-up on a busy two-core machine; fifty malformed inputs run
 * this way instead. Calls must not overlap (they share process.stdout).
 */
export async function runInProcess(
  args: readonly string[],
  options: { logLevel?: string } = {},
): Promise<InProcessResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const logLines: string[] = [];
  const originalOut = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  const capture = (into: string[]) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    }) as typeof process.stdout.write;
  configureLogger({
    level: options.logLevel ?? 'info',
    pretty: false,
    destination: { write: (line: string) => void logLines.push(line) },
  });
  process.stdout.write = capture(stdout);
  process.stderr.write = capture(stderr);
  let code: number;
  try {
    code = await runCli(args);
  } finally {
    process.stdout.write = originalOut;
    process.stderr.write = originalErr;
  }
  return { code, stdout: stdout.join(''), stderr: [...stderr, ...logLines].join(''), logLines };
}
