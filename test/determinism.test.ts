import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MUNICIPALITIES, HOLDER_SOURCE } from '../pipeline/demo/workspace.js';
import { comparableManifest, dataFileDigests } from '../bench/stageDigests.js';
import { runInProcess } from './support/inProcessCli.js';
import { runChain, type ChainRun } from './support/tinyChain.js';

/**
 * Issue #12, determinism: the same inputs, keys and parameters give
 * byte-identical data files and manifests identical apart from timestamps
 * (and the run's own folder in paths), at every stage. Two runs of the whole
 * chain in different folders, the second with the first one's keys.
 */
describe('the same inputs, keys and parameters give the same outputs', { timeout: 120_000 }, () => {
  let root: string;
  let first: ChainRun;
  let second: ChainRun;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-determinism-'));
    first = await runChain({ root: join(root, 'first'), persons: 400, until: 'metrics' });
    second = await runChain({
      root: join(root, 'second'),
      persons: 400,
      until: 'metrics',
      keys: { source: first.sourceKey, ttp: first.ttpKey },
    });
  }, 240_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const stages: readonly [string, (run: ChainRun) => string][] = [
    ['generate', (run) => run.raw],
    ...[...MUNICIPALITIES, HOLDER_SOURCE].map((s): [string, (run: ChainRun) => string] => [
      `pseudonymize ${s}`,
      (run) => run.pseudonymized[s]!,
    ]),
    ...[...MUNICIPALITIES, HOLDER_SOURCE].map((s): [string, (run: ChainRun) => string] => [
      `pseudonymize ${s} quarantine`,
      (run) => `${run.pseudonymized[s]!}.quarantine`,
    ]),
    ['link', (run) => run.linked],
    ['metrics', (run) => run.metrics],
  ];

  it.each(stages)('%s: byte-identical data files', async (_stage, dirOf) => {
    const a = await dataFileDigests(dirOf(first));
    expect(Object.keys(a).length).toBeGreaterThan(0);
    expect(await dataFileDigests(dirOf(second))).toEqual(a);
  });

  it.each(stages.filter(([name]) => !name.endsWith('quarantine')))(
    '%s: manifests identical apart from timestamps and folders',
    async (_stage, dirOf) => {
      // The key files sit in the first run's folder for both runs.
      const a = await comparableManifest(dirOf(first), first.root);
      const b = JSON.parse(
        JSON.stringify(await comparableManifest(dirOf(second), second.root))
          .split(first.root)
          .join('<root>'),
      ) as unknown;
      expect(JSON.stringify(b, null, 1)).toEqual(JSON.stringify(a, null, 1));
    },
  );

  it('metrics three more times on the same linked data: byte-identical each time (sums do not depend on thread order)', async () => {
    const expected = await dataFileDigests(first.metrics);
    for (let i = 0; i < 3; i++) {
      const out = join(root, `metrics-again-${i}`);
      const result = await runInProcess(['metrics', '--input', first.linked, '--out', out]);
      expect(result.code, result.stderr).toBe(0);
      expect(await dataFileDigests(out)).toEqual(expected);
    }
  });

  it('protect (the release disclosure control) twice: byte-identical tables and disclosure log', async () => {
    const input = join(root, 'wijken.csv');
    await writeFile(
      input,
      [
        'gemeente,wijk,leeftijd,aantal',
        'rotterdam,Charlois,jong,3',
        'rotterdam,Charlois,oud,40',
        'rotterdam,Noord,jong,25',
        'rotterdam,Noord,oud,33',
        'utrecht,Oost,jong,18',
        'utrecht,Oost,oud,27',
        'utrecht,West,jong,21',
        'utrecht,West,oud,30',
        '',
      ].join('\n'),
    );
    const outs = [join(root, 'protect-a'), join(root, 'protect-b')];
    for (const out of outs) {
      const result = await runInProcess([
        'protect',
        '--input',
        input,
        '--dimensions',
        'gemeente,wijk,leeftijd',
        '--count',
        'aantal',
        '--hierarchy',
        'gemeente>wijk',
        '--out',
        out,
      ]);
      expect(result.code, result.stderr).toBe(0);
    }
    const [a, b] = await Promise.all(outs.map(dataFileDigests));
    // Every file, the report included (it names its input, not the time it was written).
    expect(b).toEqual(a);
    const [logA, logB] = await Promise.all(
      outs.map((o) => readFile(join(`${o}.disclosure-log`, 'disclosure-log.csv'), 'utf8')),
    );
    expect(logB).toBe(logA);
  });

  it('release twice on the same metrics: byte-identical bundle (tables, catalogue, report) and disclosure log', async () => {
    const outs = [join(root, 'release-a'), join(root, 'release-b')];
    for (const out of outs) {
      const result = await runInProcess(['release', '--input', first.metrics, '--out', out]);
      expect(result.code, result.stderr).toBe(0);
    }
    const [a, b] = await Promise.all(outs.map(dataFileDigests));
    expect(Object.keys(a!)).toEqual(expect.arrayContaining(['report.html', 'tables.json']));
    expect(b).toEqual(a);
    expect(await comparableManifest(outs[1]!, root)).toEqual(await comparableManifest(outs[0]!, root));
    const [logA, logB] = await Promise.all(
      outs.map((o) => readFile(join(`${o}.disclosure-log`, 'disclosure-log.csv'), 'utf8')),
    );
    expect(logB).toBe(logA);
  }, 600_000);
});
