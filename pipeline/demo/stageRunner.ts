import { spawn } from 'node:child_process';
import { projectPath } from '../core/projectPath.js';
import { scrubIdentifiers } from '../core/scrubIdentifiers.js';
import { DemoStageError } from './demoStageError.js';

export interface StageRun {
  readonly stdout: string;
  readonly seconds: number;
  readonly exitCode: number;
}

/**
 * Run one `boldlink` subcommand as its own process, as the role that owns it
 * would: separate memory, separate key access, its own exit code.
 */
export function runStage(
  label: string,
  args: readonly string[],
  options: { acceptFindings?: boolean } = {},
): Promise<StageRun> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [projectPath('dist/pipeline/cli.js'), ...args], {
      env: {
        ...process.env,
        BOLDLINK_NO_PROGRESS: '1',
        BOLDLINK_LOG_LEVEL: process.env.BOLDLINK_LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // An audit with findings exits 1 but still wrote its report: the caller shows the verdict.
      if (code === 0 || (code === 1 && options.acceptFindings === true && stdout.length > 0))
        resolve({ stdout, seconds, exitCode: code });
      else
        reject(new DemoStageError(label, code ?? 1, scrubIdentifiers(stderr.trim().split('\n').slice(-12).join('\n'))));
    });
  });
}
