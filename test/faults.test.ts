import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../pipeline/core/projectPath.js';
import { StageInput } from '../pipeline/core/stageInput.js';
import { HOLDER_SOURCE } from '../pipeline/demo/workspace.js';
import { dataFileDigests } from './support/compareStages.js';
import { runInProcess } from './support/inProcessCli.js';
import { exists, expectNothingLeftBeside, STACK_LINE } from './support/stageChecks.js';
import { chainCommands, runChain, type ChainRun } from './support/tinyChain.js';

/**
 * Issue #12, faults: a stage killed with SIGKILL anywhere leaves either its
 * previous complete output or nothing a later stage would accept, and a
 * rerun gives byte-identical files; a full disk is a clear DISK_FULL error
 * with nothing partial kept; two runs on one output refuse each other.
 */

interface Spawned {
  readonly child: ReturnType<typeof spawn>;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Resolves at the first log line on stderr (the stage has started its work and holds its lock). */
  readonly started: Promise<void>;
}

function spawnBoldlink(args: readonly string[]): Spawned {
  const child = spawn(process.execPath, [projectPath('dist/pipeline/cli.js'), ...args], {
    env: { ...process.env, BOLDLINK_NO_PROGRESS: '1', CI: 'true', BOLDLINK_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    markStarted();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      markStarted();
      resolve({ code, signal, stderr });
    }),
  );
  return { child, done, started };
}

/** A tiny tmpfs needs root (or CAP_SYS_ADMIN); where mounting is refused the full-disk case is skipped. */
function canMountTmpfs(): boolean {
  const probe = join(tmpdir(), `boldlink-mount-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('rm', ['-rf', probe]);
  }
}
const CAN_MOUNT = canMountTmpfs();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('faults: SIGKILL, a full disk, two runs on one output', { timeout: 120_000 }, () => {
  let root: string;
  let reference: ChainRun;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-faults-'));
    reference = await runChain({ root: join(root, 'reference'), persons: 400, until: 'metrics' });
  }, 120_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** The reference run's command for a stage, pointed at another output folder. */
  const commandFor = (step: string, source?: string) => {
    const commands = chainCommands(reference.root, { persons: 400, keys: { source: reference.sourceKey, ttp: reference.ttpKey } });
    const command = commands.find((c) => c.step === step && (source === undefined || c.args.includes(source)));
    if (command === undefined) throw new Error(`no ${step} step`);
    return command.args;
  };
  const referenceOut = (step: string, source?: string) =>
    step === 'generate' ? reference.raw : step === 'pseudonymize' ? reference.pseudonymized[source!]! : step === 'link' ? reference.linked : reference.metrics;

  const stages = [
    { step: 'generate' },
    { step: 'pseudonymize', source: 'rotterdam' },
    { step: 'pseudonymize', source: HOLDER_SOURCE },
    { step: 'link' },
    { step: 'metrics' },
  ] as const;

  it.each(stages.map((s) => [`${s.step}${'source' in s ? ` ${s.source}` : ''}`, s] as const))(
    '%s killed with SIGKILL at a random point, then rerun: byte-identical to an undisturbed run',
    async (_label, stage) => {
      const source = 'source' in stage ? stage.source : undefined;
      const args = commandFor(stage.step, source);
      const out = join(root, 'killed', _label.replace(/\s+/g, '-'));
      await mkdir(join(root, 'killed'), { recursive: true });
      const killArgs = [...args.slice(0, -1), out];
      const run = spawnBoldlink(killArgs);
      await run.started;
      const delay = Math.floor(Math.random() * 1500);
      await sleep(delay);
      const killed = run.child.kill('SIGKILL');
      const ended = await run.done;
      const outcome = ended.signal === 'SIGKILL' ? 'killed' : `finished first (exit ${ended.code})`;
      // Whatever the moment, the folder is either absent or a complete output a later stage accepts.
      if (await exists(join(out, 'manifest.json'))) await StageInput.open(out);
      else expect(await exists(out)).toBe(false);
      process.stdout.write(`[fault] SIGKILL ${_label} ${delay} ms after its first log line: ${killed ? outcome : 'already gone'}; output ${(await exists(out)) ? 'complete' : 'absent'}\n`);

      const rerun = await runInProcess(killArgs);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await dataFileDigests(out)).toEqual(await dataFileDigests(referenceOut(stage.step, source)));
      await expectNothingLeftBeside(join(out, 'no-such-sibling'));
      if (stage.step === 'pseudonymize') {
        // The quarantine beside it belongs to the rerun too.
        expect(await dataFileDigests(`${out}.quarantine`)).toEqual(await dataFileDigests(`${referenceOut(stage.step, source)}.quarantine`));
      }
      const siblings = execFileSync('ls', ['-a', join(out, '..')], { encoding: 'utf8' }).split('\n');
      expect(siblings.filter((s) => s.startsWith(`.${_label.replace(/\s+/g, '-')}.`))).toEqual([]);
    },
  );

  it.skipIf(!CAN_MOUNT)('a full disk gives DISK_FULL, keeps nothing partial, and the old output stays intact', async () => {
    const mountPoint = join(root, 'small-disk');
    await mkdir(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
    try {
      // A small output that fits, made before the disk fills.
      const small = join(mountPoint, 'rotterdam');
      const smallArgs = commandFor('pseudonymize', 'rotterdam');
      expect((await runInProcess([...smallArgs.slice(0, -1), small])).code).toBe(0);
      const before = await dataFileDigests(small);
      // Fill the disk but for a few KiB.
      for (let n = 0; ; n++) {
        try {
          await writeFile(join(mountPoint, `ballast-${n}`), Buffer.alloc(16 * 1024, 1));
        } catch {
          break;
        }
      }
      await rm(join(mountPoint, 'ballast-0'));

      const args = commandFor('pseudonymize', HOLDER_SOURCE);
      const out = join(mountPoint, 'pseudonymized');
      const result = await runInProcess([...args.slice(0, -1), out]);
      process.stdout.write(`[fault] full disk (tmpfs, 16 KiB free) under pseudonymize ${HOLDER_SOURCE}: exit ${result.code}, ${result.stderr.split('\n').find((l) => l.startsWith('boldlink:')) ?? ''}\n`);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('[DISK_FULL]');
      expect(result.stderr).not.toMatch(STACK_LINE);
      expect(result.stderr).not.toContain('internal error');
      await expectNothingLeftBeside(out);
      expect(await exists(out)).toBe(false);
      expect(await exists(join(`${out}.quarantine`, 'quarantine.csv'))).toBe(false);

      // Replacing the small output on the full disk fails the same way; the first one survives, whole.
      const again = await runInProcess([...smallArgs.slice(0, -1), small]);
      process.stdout.write(`[fault] full disk while replacing pseudonymize rotterdam: exit ${again.code}, ${again.stderr.split('\n').find((l) => l.startsWith('boldlink:')) ?? ''}\n`);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('[DISK_FULL]');
      await StageInput.open(small, { stage: 'pseudonymize' });
      expect(await dataFileDigests(small)).toEqual(before);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });

  it('two runs on one output refuse each other: the second gets OUTPUT_LOCKED, the first completes', async () => {
    const args = commandFor('pseudonymize', HOLDER_SOURCE);
    const out = join(root, 'locked', 'pseudonymized');
    await mkdir(join(root, 'locked'));
    const first = spawnBoldlink([...args.slice(0, -1), out]);
    await first.started;
    const second = await runInProcess([...args.slice(0, -1), out]);
    const firstEnded = await first.done;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('[OUTPUT_LOCKED]');
    expect(second.stderr).toContain('another run');
    expect(firstEnded.code, firstEnded.stderr).toBe(0);
    expect(await dataFileDigests(out)).toEqual(await dataFileDigests(reference.pseudonymized[HOLDER_SOURCE]!));
  });
});
