import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFiles } from '../pipeline/core/fsyncTree.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { StageInput } from '../pipeline/core/stageInput.js';
import { HOLDER_SOURCE } from '../pipeline/demo/workspace.js';
import type { DisclosureLogEntry } from '../pipeline/release/releaseTables.js';
import { DisclosureLogWriter } from '../pipeline/release/writeBundle.js';
import { dataFileDigests } from '../bench/stageDigests.js';
import { runInProcess } from './support/inProcessCli.js';
import { exists, expectNothingLeftBeside, expectRefusedForFullDisk } from './support/stageChecks.js';
import { chainCommands, runChain, type ChainRun } from './support/tinyChain.js';

/**
 * Issue #12, faults: a stage killed with SIGKILL anywhere leaves either its
 * previous complete output or nothing a later stage would accept, and a
 * rerun gives byte-identical files (for release and protect: the bundle and
 * the disclosure log beside it); a full disk is a clear DISK_FULL error
 * with nothing partial kept; two runs on one output refuse each other.
 * (`audit` writes no output folder: it prints its report.)
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

/** Poll a folder until an entry with this prefix appears (true), or the process ends first (false). */
async function waitForEntry(dir: string, prefix: string, ended: Promise<unknown>): Promise<boolean> {
  let over = false;
  void ended.then(() => (over = true));
  while (!over) {
    if ((await readdir(dir).catch(() => [] as string[])).some((e) => e.startsWith(prefix))) return true;
    await sleep(5);
  }
  return false;
}

/**
 * A steward's count table for `protect`: inner cells by gemeente, wijk and
 * year, a fifth of them below the frequency threshold, so that primary and
 * secondary suppression (and their LPs) run before the bundle is written.
 */
function protectTable(): string {
  const lines = ['gemeente,wijk,jaar,aantal'];
  for (const [g, gemeente] of ['rotterdam', 'amsterdam', 'utrecht', 'den_haag'].entries()) {
    for (let w = 1; w <= 6; w++)
      for (let jaar = 2019; jaar <= 2023; jaar++)
        lines.push(`${gemeente},${gemeente}-wijk-${w},${jaar},${(g * 7 + w * 13 + jaar * 3) % 45}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('faults: SIGKILL, a full disk, two runs on one output', { timeout: 120_000 }, () => {
  let root: string;
  let reference: ChainRun;
  let protectInput: string;
  let protectReference: string;
  /**
   * Release and protect log their first line only when they are nearly done
   * (disclosure control runs silently), so their kill points are measured
   * from the process start instead: anywhere in the time an undisturbed run
   * of the same command took, start-up included.
   */
  const spawnedDurations = new Map<string, number>();
  /** …and how long their write phase took: from the temporary output folder's appearance to the end. */
  const writeDurations = new Map<string, number>();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-faults-'));
    reference = await runChain({ root: join(root, 'reference'), persons: 400, until: 'metrics' });
    protectInput = join(root, 'wijken.csv');
    await writeFile(protectInput, protectTable());
    protectReference = join(root, 'reference', 'wijken-protected');
    // The undisturbed release of the reference run, and a protect run: spawned as the killed ones will be, and timed.
    for (const step of ['release', 'protect'] as const) {
      const args = argsFor(step);
      const out = args.at(-1)!;
      const started = Date.now();
      const run = spawnBoldlink(args);
      const writing = await waitForEntry(dirname(out), `.${basename(out)}.tmp-`, run.done);
      const writeStarted = Date.now();
      const ended = await run.done;
      expect(ended.code, ended.stderr).toBe(0);
      expect(writing).toBe(true);
      spawnedDurations.set(step, Date.now() - started);
      writeDurations.set(step, Date.now() - writeStarted);
    }
  }, 300_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** The reference run's command for a stage, pointed at another output folder. */
  const commandFor = (step: string, source?: string) => {
    const commands = chainCommands(reference.root, {
      persons: 400,
      keys: { source: reference.sourceKey, ttp: reference.ttpKey },
    });
    const command = commands.find((c) => c.step === step && (source === undefined || c.args.includes(source)));
    if (command === undefined) throw new Error(`no ${step} step`);
    return command.args;
  };
  const protectArgs = (out: string) => [
    'protect',
    '--input',
    protectInput,
    '--dimensions',
    'gemeente,wijk,jaar',
    '--count',
    'aantal',
    '--hierarchy',
    'gemeente>wijk',
    '--out',
    out,
  ];
  const argsFor = (step: string, source?: string) =>
    step === 'protect' ? protectArgs(protectReference) : commandFor(step, source);
  const referenceOut = (step: string, source?: string) =>
    step === 'generate'
      ? reference.raw
      : step === 'pseudonymize'
        ? reference.pseudonymized[source!]!
        : step === 'link'
          ? reference.linked
          : step === 'metrics'
            ? reference.metrics
            : step === 'release'
              ? reference.release
              : protectReference;

  const stages = [
    { step: 'generate' },
    { step: 'pseudonymize', source: 'rotterdam' },
    { step: 'pseudonymize', source: HOLDER_SOURCE },
    { step: 'link' },
    { step: 'metrics' },
    // Disclosure control runs before anything is written, so besides a kill anywhere in the run, release and protect
    // are killed at a random point of their write phase: once their temporary output folder exists, before the
    // bundle and then its disclosure log are renamed into place.
    { step: 'release', phase: 'run' },
    { step: 'release', phase: 'write' },
    { step: 'protect', phase: 'run' },
    { step: 'protect', phase: 'write' },
    { step: 'protect', phase: 'write', again: true },
  ] as const;
  /** Stages with a disclosure log beside the bundle (written after it, from a temporary sibling of its own). */
  const hasDisclosureLog = (step: string) => step === 'release' || step === 'protect';

  const labelOf = (s: (typeof stages)[number]) =>
    `${s.step}${'source' in s ? ` ${s.source}` : ''}${'phase' in s ? (s.phase === 'run' ? ' (anywhere in its run)' : ` (while writing${'again' in s ? ', again' : ''})`) : ''}`;
  it.each(stages.map((s) => [labelOf(s), s] as const))(
    '%s killed with SIGKILL at a random point, then rerun: byte-identical to an undisturbed run',
    async (_label, stage) => {
      const source = 'source' in stage ? stage.source : undefined;
      const args = argsFor(stage.step, source);
      const name = _label.replace(/[^A-Za-z0-9_]+/g, '-').replace(/-$/, '');
      const out = join(root, 'killed', name);
      await mkdir(join(root, 'killed'), { recursive: true });
      const killArgs = [...args.slice(0, -1), out];
      const run = spawnBoldlink(killArgs);
      const phase = 'phase' in stage ? stage.phase : undefined;
      // The quick stages: within 1.5 s of their first log line (start-up done, lock held); release and protect: anywhere
      // in the time an undisturbed run took, or in its write phase.
      if (phase === undefined) await run.started;
      if (phase === 'write') await waitForEntry(join(out, '..'), `.${name}.tmp-`, run.done);
      const span =
        phase === undefined
          ? 1500
          : phase === 'run'
            ? spawnedDurations.get(stage.step)!
            : writeDurations.get(stage.step)!;
      const delay = Math.floor(Math.random() * span);
      await sleep(delay);
      const killed = run.child.kill('SIGKILL');
      const ended = await run.done;
      const outcome = ended.signal === 'SIGKILL' ? 'killed' : `finished first (exit ${ended.code})`;
      // Whatever the moment, the folder is either absent or a complete output a later stage accepts.
      if (await exists(join(out, 'manifest.json'))) await StageInput.open(out);
      else expect(await exists(out)).toBe(false);
      const when =
        phase === undefined
          ? `${delay} ms after its first log line`
          : phase === 'run'
            ? `${delay} ms after its start (an undisturbed run takes ${span} ms)`
            : `${delay} ms into writing (an undisturbed write phase takes ${span} ms)`;
      const leftBehind = (await readdir(join(out, '..')))
        .filter((e) => e.startsWith(`.${name}.`) || e.startsWith(`${name}.`))
        .map((e) => e.replace(/-\d+(-[a-z0-9]+)?$/, '-…'));
      process.stdout.write(
        `[fault] SIGKILL ${_label} ${when}: ${killed ? outcome : 'already gone'}; output ${(await exists(out)) ? 'complete' : 'absent'}; beside it: ${leftBehind.join(', ') || 'nothing'}\n`,
      );

      const rerun = await runInProcess(killArgs);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await dataFileDigests(out)).toEqual(await dataFileDigests(referenceOut(stage.step, source)));
      await expectNothingLeftBeside(join(out, 'no-such-sibling'));
      if (stage.step === 'pseudonymize') {
        // The quarantine beside it belongs to the rerun too.
        expect(await dataFileDigests(`${out}.quarantine`)).toEqual(
          await dataFileDigests(`${referenceOut(stage.step, source)}.quarantine`),
        );
      }
      if (hasDisclosureLog(stage.step)) {
        // So does the internal disclosure log beside the bundle.
        expect(await dataFileDigests(`${out}.disclosure-log`)).toEqual(
          await dataFileDigests(`${referenceOut(stage.step, source)}.disclosure-log`),
        );
      }
      const siblings = execFileSync('ls', ['-a', join(out, '..')], { encoding: 'utf8' }).split('\n');
      // No temporary, scratch or old copy of the output (nor of its disclosure log) outlives the rerun.
      expect(siblings.filter((s) => s.startsWith(`.${name}.`) || s.startsWith(`${name}.disclosure-log.`))).toEqual([]);
    },
  );

  it.skipIf(!CAN_MOUNT)(
    'a full disk gives DISK_FULL, keeps nothing partial, and the old output stays intact',
    async () => {
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
        process.stdout.write(
          `[fault] full disk (tmpfs, 16 KiB free) under pseudonymize ${HOLDER_SOURCE}: exit ${result.code}, ${result.stderr.split('\n').find((l) => l.startsWith('boldlink:')) ?? ''}\n`,
        );
        await expectRefusedForFullDisk(result, out);
        expect(await exists(join(`${out}.quarantine`, 'quarantine.csv'))).toBe(false);

        // Replacing the small output on the full disk fails the same way; the first one survives, whole.
        const again = await runInProcess([...smallArgs.slice(0, -1), small]);
        process.stdout.write(
          `[fault] full disk while replacing pseudonymize rotterdam: exit ${again.code}, ${again.stderr.split('\n').find((l) => l.startsWith('boldlink:')) ?? ''}\n`,
        );
        expect(again.code).toBe(1);
        expect(again.stderr).toContain('[DISK_FULL]');
        await StageInput.open(small, { stage: 'pseudonymize' });
        expect(await dataFileDigests(small)).toEqual(before);
      } finally {
        execFileSync('umount', [mountPoint]);
      }
    },
  );

  /** Fill a mounted tmpfs with 16 KiB ballast files, then free about `bytes` again. */
  const fillDiskLeaving = async (mountPoint: string, bytes: number) => {
    let n = 0;
    for (; ; n++) {
      try {
        await writeFile(join(mountPoint, `ballast-${n}`), Buffer.alloc(16 * 1024, 1));
      } catch {
        break;
      }
    }
    for (let freed = 0, i = 0; freed < bytes && i < n; i++, freed += 16 * 1024)
      await rm(join(mountPoint, `ballast-${i}`));
  };
  /** Bytes a folder takes on tmpfs (each file a whole number of 4 KiB pages). */
  const pagesOf = async (dir: string) => {
    let total = 0;
    for (const file of await listFiles(dir)) total += Math.ceil((await stat(join(dir, file))).size / 4096) * 4096;
    return total;
  };

  it.skipIf(!CAN_MOUNT).each([
    ['release', 'no room for the bundle'],
    ['protect', 'no room for the bundle'],
  ] as const)(
    'a full disk under %s (%s) gives DISK_FULL and keeps neither a partial bundle nor a partial disclosure log',
    async (step, room) => {
      const bundle = await pagesOf(referenceOut(step));
      const disclosureLog = await pagesOf(`${referenceOut(step)}.disclosure-log`);
      const mountPoint = join(root, `small-disk-${step}-${room.length}`);
      await mkdir(mountPoint);
      execFileSync('mount', [
        '-t',
        'tmpfs',
        '-o',
        `size=${Math.ceil((bundle + disclosureLog) / 1024) + 1024}k`,
        'tmpfs',
        mountPoint,
      ]);
      try {
        await fillDiskLeaving(mountPoint, 16 * 1024);
        const out = join(mountPoint, step);
        const result = await runInProcess([...argsFor(step).slice(0, -1), out]);
        const report = result.stderr.split('\n').find((l) => l.startsWith('boldlink:')) ?? '';
        process.stdout.write(
          `[fault] full disk under ${step} (${room}; bundle ${bundle} B, log ${disclosureLog} B): exit ${result.code}, ${report}\n`,
        );
        await expectRefusedForFullDisk(result, out);
        expect(await exists(`${out}.disclosure-log`)).toBe(false);
        expect((await readdir(mountPoint)).filter((e) => !e.startsWith('ballast-'))).toEqual([]);
      } finally {
        execFileSync('umount', [mountPoint]);
      }
    },
  );

  // The bundle is written first, then the disclosure log into a temporary sibling, then both are renamed into place.
  it.skipIf(!CAN_MOUNT)(
    'a disclosure log that does not fit leaves no partial temporary beside the bundle',
    async () => {
      const mountPoint = join(root, 'small-disk-log');
      await mkdir(mountPoint);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
      try {
        const entries: DisclosureLogEntry[] = Array.from({ length: 5000 }, (_, i) => ({
          table: 'outflow_by_year_sex',
          cell: `cell-${i}`,
          column: 'spells',
          suppression: 'secondary' as const,
          rule: 'frequency',
          reason: 'protects a suppressed cell',
          intervalLow: 0,
          intervalHigh: 20,
          protectionLevel: 10,
        }));
        await expect(DisclosureLogWriter.prepare(join(mountPoint, 'release'), entries, {})).rejects.toMatchObject({
          code: 'ENOSPC',
        });
        expect(await readdir(mountPoint)).toEqual([]);
      } finally {
        execFileSync('umount', [mountPoint]);
      }
    },
  );

  it('a disclosure log left half-committed by a killed run is cleared by the next one', async () => {
    const dir = join(root, 'half-committed');
    await mkdir(join(dir, '.release.disclosure-log.tmp-999999-abc'), { recursive: true });
    await mkdir(join(dir, 'release.disclosure-log.old-999999'), { recursive: true });
    await writeFile(join(dir, '.release.disclosure-log.tmp-999999-abc', 'disclosure-log.csv'), 'partial');
    const writer = await DisclosureLogWriter.prepare(join(dir, 'release'), [], { note: 'rerun' });
    await writer.commit();
    expect((await readdir(dir)).sort()).toEqual(['release.disclosure-log']);
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
