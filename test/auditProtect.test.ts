import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { digestFile } from '../pipeline/core/fileDigest.js';
import { runBoldlink } from './support/cli.js';

/**
 * The audit against the real disclosure-control code path: a table protected
 * by `boldlink protect` passes the audit's own re-check; the same bundle with
 * every suppression but one undone by hand (checksums "fixed") does not.
 */

// Inner cells: outflows by year × municipality, worked out so that 3, 4, 6 and 2 are small.
const INNER = [
  ['2019', 'rotterdam', 40],
  ['2019', 'utrecht', 3],
  ['2019', 'den_haag', 25],
  ['2020', 'rotterdam', 35],
  ['2020', 'utrecht', 4],
  ['2020', 'den_haag', 30],
  ['2021', 'rotterdam', 50],
  ['2021', 'utrecht', 6],
  ['2021', 'den_haag', 2],
  ['2022', 'rotterdam', 45],
  ['2022', 'utrecht', 20],
  ['2022', 'den_haag', 28],
] as const;

const env = { BOLDLINK_LOG_LEVEL: 'warn' };
let root: string;
let bundle: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-audit-protect-'));
  await writeFile(join(root, 'outflow.csv'), `year,municipality,n\n${INNER.map((r) => r.join(',')).join('\n')}\n`);
  bundle = join(root, 'workspace', 'protected');
  const run = await runBoldlink(
    [
      'protect',
      '--input',
      join(root, 'outflow.csv'),
      '--dimensions',
      'year,municipality',
      '--count',
      'n',
      '--out',
      bundle,
    ],
    { env },
  );
  if (run.code !== 0) throw new Error(`protect failed: ${run.stderr}`);
}, 60_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('boldlink audit on a bundle made by boldlink protect', { timeout: 60_000 }, () => {
  it('passes the bundle as protect wrote it, with the rules its manifest names', async () => {
    const audit = await runBoldlink(['audit', '--workspace', join(root, 'workspace'), '--format', 'json'], { env });
    const report = JSON.parse(audit.stdout) as {
      verdict: string;
      findings: unknown[];
      rules: { source: string };
      checks: { check: string; covered: string[] }[];
    };
    expect(report.findings).toEqual([]);
    expect(audit.code).toBe(0);
    expect(report.rules.source).toContain('named in the release manifest');
    // The small cells (3, 4, 6, 2) are suppressed at least, and each was bounded by two programmes.
    expect(report.checks.find((c) => c.check === 'release')?.covered.join(' ')).toMatch(/[1-9][0-9]* suppressed cells/);
  });

  it('finds the one suppression left when all others are undone by hand', async () => {
    const table = join(bundle, 'tables', 'outflow.parquet');
    const duck = await Duck.open({ threads: 1 });
    try {
      await duck.run(`CREATE TABLE released AS SELECT * FROM read_parquet(${sqlString(table)})`);
      // True values of every cell, margins included, from the input.
      await duck.run(
        `CREATE TABLE truth AS SELECT * FROM (VALUES ${INNER.map(([y, m, n]) => `('${y}', '${m}', ${n})`).join(', ')}) t(year, municipality, n)`,
      );
      await duck.run(
        `CREATE TABLE truthWithMargins AS SELECT coalesce(year, 'Total') AS year, coalesce(municipality, 'Total') AS municipality, sum(n) AS n FROM truth GROUP BY CUBE (year, municipality)`,
      );
      // Keep (2021, den_haag) = 2 suppressed; publish every other suppressed cell with its true value.
      await duck.run(`UPDATE released SET n = t.n, n_status = 'published' FROM truthWithMargins t
        WHERE released.year = t.year AND released.municipality = t.municipality AND released.n_status = 'suppressed'
          AND NOT (released.year = '2021' AND released.municipality = 'den_haag')`);
      const suppressed = await duck.jsonRows<{ year: string; municipality: string }>(
        `SELECT year, municipality FROM released WHERE n_status = 'suppressed'`,
      );
      expect(suppressed).toEqual([{ year: '2021', municipality: 'den_haag' }]);
      for (const [ext, format] of [
        ['parquet', 'FORMAT parquet'],
        ['csv', 'FORMAT csv, HEADER true'],
        ['json', 'FORMAT json, ARRAY true'],
      ] as const) {
        await duck.run(`COPY released TO ${sqlString(join(bundle, 'tables', `outflow.${ext}`))} (${format})`);
      }
    } finally {
      duck.close();
    }
    await refreshManifest(bundle);

    const audit = await runBoldlink(['audit', '--workspace', join(root, 'workspace'), '--format', 'json'], { env });
    expect(audit.code).toBe(1);
    const report = JSON.parse(audit.stdout) as {
      findings: { rule: string; file: string; column?: string; cell?: Record<string, string> }[];
    };
    // Integrity holds (the checksums were fixed); the re-check sees the lone suppressed cell fall out of its margins.
    expect(report.findings.filter((f) => f.rule.startsWith('integrity.'))).toEqual([]);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        rule: 'release.cell-recomputable',
        file: 'protected/tables/outflow.parquet',
        column: 'n',
        cell: { year: '2021', municipality: 'den_haag' },
      }),
    );
    // The small cells now published break the primary rule too.
    const primary = report.findings
      .filter((f) => f.rule === 'release.primary-frequency')
      .map((f) => `${f.cell?.year}/${f.cell?.municipality}`)
      .sort();
    expect(primary).toEqual(['2019/utrecht', '2020/utrecht', '2021/utrecht']);
  });
});

async function refreshManifest(dir: string): Promise<void> {
  const path = join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as {
    outputs: { path: string; sha256: string; bytes: number }[];
  };
  for (const output of manifest.outputs) {
    const digest = await digestFile(join(dir, output.path));
    output.sha256 = digest.sha256;
    output.bytes = digest.bytes;
  }
  await writeFile(path, JSON.stringify(manifest, null, 2));
}
