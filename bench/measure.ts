import { spawn } from 'node:child_process';
import { projectPath } from '../pipeline/core/projectPath.js';

export interface CommandMeasurement {
  readonly seconds: number;
  /** Peak resident memory of the process, in MiB (GNU time's %M). */
  readonly peakMiB: number;
  readonly exitCode: number;
  readonly stderr: string;
}

/** Run `boldlink ARGS` as a child process under GNU time: wall time and peak memory. */
export function measureBoldlink(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandMeasurement> {
  return measureCommand(process.execPath, [projectPath('dist/pipeline/cli.js'), ...args], env);
}

export function measureCommand(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CommandMeasurement> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'BOLDLINK_TIME %e %M', command, ...args], {
      env: { ...process.env, BOLDLINK_NO_PROGRESS: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const match = /BOLDLINK_TIME ([0-9.]+) ([0-9]+)/.exec(stderr);
      resolve({
        seconds,
        peakMiB: match ? Number(match[2]) / 1024 : Number.NaN,
        exitCode: code ?? -1,
        stderr: stderr.replace(/BOLDLINK_TIME.*\n?/, ''),
      });
    });
  });
}

/** Median wall time of `fn` over `repeat` runs, in seconds. */
export async function timeMedian(repeat: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const started = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}
