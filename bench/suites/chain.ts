import { mkdir, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createKeyFile } from '../../keys/keyFile.js';
import { Duck, sqlString } from '../../pipeline/core/duckdb.js';
import { projectPath } from '../../pipeline/core/projectPath.js';
import { DemoWorkspace, HOLDER_SOURCE, MUNICIPALITIES } from '../../pipeline/demo/workspace.js';
import type { BenchFigure, BenchSuite } from '../figure.js';
import { measureBoldlink, type CommandMeasurement } from '../measure.js';
import { runLinkSqlDirectly } from './link.js';
import { runMetricsSqlDirectly } from './metrics.js';
import { pseudonymizeWithSqlOnly } from '../pseudonymizeSql.js';

/**
 * Issue #11: the whole chain per scale, every stage as its own process with
 * wall time and peak memory (docs/performance.md is written from these), and
 * pseudonymize → link → metrics against the same chain as plain DuckDB SQL in
 * the same run. BOLDLINK_BENCH_CHAIN_SCALES=small,city (default) picks scales.
 */
export const suite: BenchSuite = {
  name: 'chain',
  async run({ workDir, say }) {
    const scales = (process.env.BOLDLINK_BENCH_CHAIN_SCALES ?? 'small,city').split(',').map((s) => s.trim());
    const figures: BenchFigure[] = [];
    for (const scale of scales) figures.push(...(await chainAt(scale, join(workDir, scale), say)));
    return figures;
  },
};

async function chainAt(scale: string, root: string, say: (m: string) => void): Promise<BenchFigure[]> {
  const ws = new DemoWorkspace(root);
  const stages: { stage: string; run: CommandMeasurement }[] = [];
  const stage = async (name: string, args: string[]) => {
    say(`${scale}: ${name}`);
    const run = await measureBoldlink([...args, '--log-level', 'warn']);
    if (run.exitCode !== 0 && !(name === 'audit' && run.exitCode === 1))
      throw new Error(`${name} at ${scale} failed (exit ${run.exitCode}): ${run.stderr.slice(-800)}`);
    stages.push({ stage: name, run });
    return run;
  };

  // National data takes most of an hour to generate: BOLDLINK_BENCH_CHAIN_GENERATED=DIR reuses a committed
  // `boldlink generate` output of that scale (its own time and peak are then measured by hand, outside the chain).
  const generated = process.env.BOLDLINK_BENCH_CHAIN_GENERATED;
  if (generated === undefined) {
    await stage('generate', ['generate', '--scale', scale, '--seed', '1', '--out', ws.raw]);
  } else {
    await mkdir(root, { recursive: true });
    await symlink(resolve(generated), ws.raw, 'dir');
  }
  await mkdir(join(root, 'keys', 'source'), { recursive: true });
  await mkdir(join(root, 'keys', 'ttp'), { recursive: true });
  await createKeyFile(ws.sourceKey, 'source', 'bench-src');
  await createKeyFile(ws.ttpKey, 'ttp', 'bench-ttp');
  const mapping = projectPath('examples/mappings/gemeente.json');
  for (const m of MUNICIPALITIES) {
    await stage(`pseudonymize ${m}`, [
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
    ]);
  }
  await stage(`pseudonymize ${HOLDER_SOURCE}`, [
    'pseudonymize',
    '--key',
    ws.sourceKey,
    '--source',
    HOLDER_SOURCE,
    '--input',
    ...ws.holderFiles(),
    '--out',
    ws.pseudonymized(HOLDER_SOURCE),
  ]);
  // The holder's output first: the reference run's layout expects it there.
  const sourceDirs = [ws.pseudonymized(HOLDER_SOURCE), ...MUNICIPALITIES.map((m) => ws.pseudonymized(m))];
  await stage('link', ['link', '--key', ws.ttpKey, '--project', 'bench', '--input', ...sourceDirs, '--out', ws.linked]);
  await stage('metrics', ['metrics', '--input', ws.linked, '--out', ws.metrics]);
  await stage('release', ['release', '--input', ws.metrics, '--out', ws.release]);
  await stage('audit', ['audit', '--workspace', ws.workspace, '--keys', ws.keysDir, '--format', 'json']);

  say(`${scale}: the same chain as plain DuckDB SQL`);
  const plain = await plainChainSeconds(ws, mapping, join(root, 'plain'));
  say(`${scale}: the bare copy (no checks, F1 or coarsening) and the same link and metrics SQL`);
  const bare = await bareCopyChainSeconds(ws, sourceDirs, join(root, 'bare'));

  const figures: BenchFigure[] = stages.map(({ stage: name, run }) => ({
    issue: 11,
    name: `${scale}: ${name}`,
    value: run.seconds,
    unit: 's',
    note: `peak ${Math.round(run.peakMiB)} MiB`,
  }));
  const total = stages.reduce((s, x) => s + x.run.seconds, 0);
  const peak = Math.max(...stages.map((x) => x.run.peakMiB));
  figures.push({
    issue: 11,
    name: `${scale}: whole chain, ${generated === undefined ? 'generate' : 'pseudonymize'} to audit`,
    value: total,
    unit: 's',
    target: scale === 'city' ? '< 60 s' : scale === 'small' ? '< 60 s (npm start)' : '',
    ...(scale === 'city' || scale === 'small' ? { met: total < 60 } : {}),
    note: `peak ${Math.round(peak)} MiB in one stage`,
  });
  const core = stages
    .filter((x) => x.stage.startsWith('pseudonymize') || x.stage === 'link' || x.stage === 'metrics')
    .reduce((s, x) => s + x.run.seconds, 0);
  figures.push({
    issue: 11,
    name: `${scale}: pseudonymize → link → metrics`,
    value: core,
    unit: 's',
    reference: { name: 'same chain as plain DuckDB SQL', value: plain },
    ratio: core / plain,
    // The issue sets the 1.5× for national scale; below it, a Node process per stage (about 0.5 s each) weighs most.
    ...(scale === 'national'
      ? { target: '≤ 1.5×', met: core / plain <= 1.5 }
      : { note: 'target (≤ 1.5×) set for national scale; here six processes start up' }),
  });
  figures.push({
    issue: 11,
    name: `${scale}: pseudonymize → link → metrics, against a bare copy`,
    value: core,
    unit: 's',
    reference: { name: 'read, sha256 of the BSN, write; same link and metrics SQL', value: bare },
    ratio: core / bare,
    note: 'the floor: the copy validates nothing, computes no F1 and keeps birth dates and addresses',
  });
  return figures;
}

/**
 * The reference: the same chain with nothing but DuckDB in one process. Each source's pseudonymize is the stage's own
 * SQL with SQL macros for the pseudonyms (pseudonymizeSql.ts): the same checks, quarantine, duplicates, P1 and F1
 * (sha256 for the HMAC), coarsening and dropped identifiers; then the link and metrics SQL files run directly. No
 * manifests, checksums, key files, atomic commits or process per stage.
 */
async function plainChainSeconds(ws: DemoWorkspace, mappingPath: string, plainRoot: string): Promise<number> {
  const started = process.hrtime.bigint();
  const dirs = [join(plainRoot, 'pseudonymized', HOLDER_SOURCE)];
  await pseudonymizeWithSqlOnly(ws.holderFiles(), undefined, dirs[0]!, join(plainRoot, 'scratch', HOLDER_SOURCE));
  for (const m of MUNICIPALITIES) {
    const dir = join(plainRoot, 'pseudonymized', m);
    await pseudonymizeWithSqlOnly(ws.municipalExports(m), mappingPath, dir, join(plainRoot, 'scratch', m));
    dirs.push(dir);
  }
  await runLinkSqlDirectly(dirs, join(plainRoot, 'linked'), join(plainRoot, 'tmp'));
  await runMetricsSqlDirectly(join(plainRoot, 'linked'), join(plainRoot, 'metrics'), join(plainRoot, 'tmp'));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * The floor, reported beside the reference: read each source, replace the BSN by a hash (sha256), write Parquet; then
 * the link and metrics SQL files run directly (on the stages' real outputs: the copies lack F1 and coarsening). No
 * validation, quarantine, duplicates, F1, coarsening, checksums, manifests or atomic commits.
 */
async function bareCopyChainSeconds(
  ws: DemoWorkspace,
  sourceDirs: readonly string[],
  plainRoot: string,
): Promise<number> {
  const started = process.hrtime.bigint();
  const duck = await Duck.open({ tempDirectory: join(plainRoot, 'tmp') });
  try {
    await mkdir(join(plainRoot, 'pseudonymized'), { recursive: true });
    for (const m of MUNICIPALITIES) {
      for (const file of ws.municipalExports(m)) {
        // Positional columns: the BSN is the first column of every municipal export (and a byte-order mark cannot rename it).
        const source = `read_csv(${sqlString(file)}, delim = ';', header = false, skip = 1, all_varchar = true, encoding = 'latin-1', ignore_errors = true)`;
        await duck.run(
          `COPY (SELECT sha256('k' || column0) AS p1, * EXCLUDE (column0) FROM ${source}) TO ${sqlString(join(plainRoot, 'pseudonymized', `${m}-${file.split('/').pop()}.parquet`))} (FORMAT parquet)`,
        );
      }
    }
    for (const file of ws.holderFiles()) {
      await duck.run(
        `COPY (SELECT sha256('k' || bsn) AS p1, * EXCLUDE (bsn) FROM read_parquet(${sqlString(file)})) TO ${sqlString(join(plainRoot, 'pseudonymized', `cbs-${file.split('/').pop()}`))} (FORMAT parquet)`,
      );
    }
  } finally {
    duck.close();
  }
  // Link and metrics SQL run on the real pseudonymized and linked files (the plain files above lack F1 and coarsening).
  await runLinkSqlDirectly(sourceDirs, join(plainRoot, 'linked'), join(plainRoot, 'tmp'));
  await runMetricsSqlDirectly(join(plainRoot, 'linked'), join(plainRoot, 'metrics'), join(plainRoot, 'tmp'));
  return Number(process.hrtime.bigint() - started) / 1e9;
}
