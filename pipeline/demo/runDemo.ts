import { mkdir, rm, writeFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import { dirname } from 'node:path';
import { projectPath } from '../core/projectPath.js';
import { headlineFigures, type Headline } from './headline.js';
import { runStage } from './stageRunner.js';
import { DemoWorkspace, HOLDER_SOURCE, MUNICIPALITIES } from './workspace.js';

export interface DemoOptions {
  readonly scale: 'tiny' | 'small' | 'city' | 'national';
  readonly out: string;
  readonly seed: number;
  readonly project: string;
}

export interface DemoResult {
  readonly workspace: DemoWorkspace;
  readonly steps: readonly { label: string; seconds: number }[];
  readonly headline: Headline;
  readonly auditPassed: boolean;
  readonly seconds: number;
}

/**
 * The whole chain on generated data: each role's step as its own process,
 * each role's key in its own folder, in the order of DESIGN.md.
 */
export async function runDemo(options: DemoOptions, say: (line: string) => void): Promise<DemoResult> {
  const started = process.hrtime.bigint();
  const ws = new DemoWorkspace(options.out);
  // A demo run starts clean: old keys must not be reused with new data.
  await rm(ws.root, { recursive: true, force: true });
  await mkdir(dirname(ws.sourceKey), { recursive: true, mode: 0o700 });
  await mkdir(dirname(ws.ttpKey), { recursive: true, mode: 0o700 });

  const steps: { label: string; seconds: number }[] = [];
  const step = async (label: string, args: string[], acceptFindings = false) => {
    const run = await runStage(label, args, { acceptFindings });
    steps.push({ label, seconds: run.seconds });
    say(`  ✓ ${label.padEnd(34)} ${run.seconds.toFixed(1).padStart(6)} s`);
    return run;
  };

  say(`boldlink demo — ${options.scale} scale, seed ${options.seed}, workspace ${ws.root}`);
  // The keys do not depend on the data: each role makes its own while the sources' data is generated.
  await Promise.all([
    step(`generate (${options.scale})`, [
      'generate',
      '--scale',
      options.scale,
      '--seed',
      String(options.seed),
      '--out',
      ws.raw,
    ]),
    (async () => {
      await step('keys new (source, K_src)', [
        'keys',
        'new',
        '--role',
        'source',
        '--key-id',
        'demo-src',
        '--out',
        ws.sourceKey,
      ]);
      await step('keys new (trusted third party)', [
        'keys',
        'new',
        '--role',
        'ttp',
        '--key-id',
        'demo-ttp',
        '--out',
        ws.ttpKey,
      ]);
    })(),
  ]);

  const mapping = projectPath('examples/mappings/gemeente.json');
  // Two at a time: one per core; each source is its own organisation anyway.
  const twoAtATime = pLimit(2);
  await Promise.all([
    ...MUNICIPALITIES.map((m) =>
      twoAtATime(() =>
        step(`pseudonymize ${m}`, [
          'pseudonymize',
          '--key',
          ws.sourceKey,
          '--source',
          m,
          '--mapping',
          mapping,
          '--input',
          ...ws.municipalExports(m),
          '--out',
          ws.pseudonymized(m),
        ]),
      ),
    ),
    twoAtATime(() =>
      step(`pseudonymize ${HOLDER_SOURCE} (microdata)`, [
        'pseudonymize',
        '--key',
        ws.sourceKey,
        '--source',
        HOLDER_SOURCE,
        '--input',
        ...ws.holderFiles(),
        '--out',
        ws.pseudonymized(HOLDER_SOURCE),
      ]),
    ),
  ]);

  await step('link (trusted third party)', [
    'link',
    '--key',
    ws.ttpKey,
    '--project',
    options.project,
    '--input',
    ...MUNICIPALITIES.map((m) => ws.pseudonymized(m)),
    ws.pseudonymized(HOLDER_SOURCE),
    '--out',
    ws.linked,
  ]);
  await step('metrics (secure environment)', ['metrics', '--input', ws.linked, '--out', ws.metrics]);
  await step('release (disclosure control)', ['release', '--input', ws.metrics, '--out', ws.release]);
  const audit = await step(
    'audit (privacy officer)',
    ['audit', '--workspace', ws.workspace, '--keys', ws.keysDir, '--format', 'html'],
    true,
  );
  await writeFile(ws.auditReport, audit.stdout);

  const headline = await headlineFigures(ws);
  return {
    workspace: ws,
    steps,
    headline,
    auditPassed: audit.exitCode === 0,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}
