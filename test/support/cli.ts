import { spawn } from 'node:child_process';
import { projectPath } from '../../pipeline/core/projectPath.js';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run the built CLI (`dist/pipeline/cli.js`, built by `npm test`'s pretest) as
 * a child process, the way a steward runs it.
 */
export function runBoldlink(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [projectPath('dist/pipeline/cli.js'), ...args], {
      cwd: options.cwd ?? projectPath(),
      env: { ...process.env, BOLDLINK_NO_PROGRESS: '1', CI: 'true', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
