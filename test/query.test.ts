import { mkdtemp, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryRefusedError } from '../pipeline/query/errors.js';
import { ReleaseBundle } from '../pipeline/query/releaseBundle.js';
import { DEFAULT_LIMITS, ReleaseDatabase } from '../pipeline/query/releaseDatabase.js';
import { toArrow, toCsv } from '../pipeline/query/resultFormat.js';
import { writeSampleRelease } from '../pipeline/query/sampleRelease.js';
import { ManifestError } from '../pipeline/core/errors.js';

let dir: string;
let release: string;
let db: ReleaseDatabase;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'boldlink-query-'));
  release = await writeSampleRelease(join(dir, 'release'));
  db = await ReleaseDatabase.open(await ReleaseBundle.open(release), { threads: 1 });
});
afterAll(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const T = 'outflow_by_year_municipality';

describe('query: released tables only, read-only', () => {
  it('answers a SELECT over a released table', async () => {
    const result = await db.query(
      `SELECT municipality, spells FROM ${T} WHERE outflow_year = '2019' AND municipality <> 'Total' ORDER BY municipality`,
    );
    expect(result.rows.map((r) => r[0])).toEqual(['amsterdam', 'den_haag', 'rotterdam', 'utrecht']);
    // amsterdam 2019: 180 spells (sample: 180 + 70·i + 25·y with i = y = 0)
    expect(result.rows[0]?.[1]).toBe(180);
  });

  it.each([
    ['two statements', `SELECT 1; SELECT 2`, 'MULTIPLE_STATEMENTS'],
    ['COPY to a file', `COPY ${T} TO '/tmp/out.csv'`, 'NOT_A_QUERY'],
    ['COPY from a file', `COPY ${T} FROM '/etc/passwd'`, 'NOT_A_QUERY'],
    ['ATTACH', `ATTACH '/tmp/x.duckdb' AS x`, 'NOT_A_QUERY'],
    ['INSTALL', `INSTALL httpfs`, 'NOT_A_QUERY'],
    ['LOAD', `LOAD httpfs`, 'NOT_A_QUERY'],
    ['PRAGMA', `PRAGMA version`, 'NOT_A_QUERY'],
    ['SET', `SET enable_external_access = true`, 'NOT_A_QUERY'],
    ['RESET', `RESET lock_configuration`, 'NOT_A_QUERY'],
    ['CREATE', `CREATE TABLE x AS SELECT 1`, 'NOT_A_QUERY'],
    ['INSERT', `INSERT INTO ${T} SELECT * FROM ${T}`, 'NOT_A_QUERY'],
    ['DELETE', `DELETE FROM ${T}`, 'NOT_A_QUERY'],
    ['EXPORT', `EXPORT DATABASE '/tmp/x'`, 'NOT_A_QUERY'],
    ['CALL', `CALL pragma_version()`, 'NOT_A_QUERY'],
    ['read_csv', `SELECT * FROM read_csv('/etc/passwd')`, 'FILE_OR_NETWORK'],
    ['read_parquet on a path', `SELECT * FROM read_parquet('/tmp/x.parquet')`, 'FILE_OR_NETWORK'],
    ['read_text', `SELECT * FROM read_text('/etc/passwd')`, 'FILE_OR_NETWORK'],
    ['a file as a table', `SELECT * FROM '/etc/passwd'`, 'FILE_OR_NETWORK'],
    ['a URL as a table', `SELECT * FROM 'https://example.org/x.csv'`, 'FILE_OR_NETWORK'],
    ['glob', `SELECT * FROM glob('/*')`, 'FILE_OR_NETWORK'],
    ['getenv', `SELECT getenv('HOME')`, 'FILE_OR_NETWORK'],
    ['a catalog table', `SELECT * FROM duckdb_settings()`, 'NOT_A_RELEASED_TABLE'],
    ['an unknown table', `SELECT * FROM spells`, 'NOT_A_RELEASED_TABLE'],
    ['information_schema', `SELECT * FROM information_schema.tables`, 'NOT_A_RELEASED_TABLE'],
    ['read_csv in a subquery', `SELECT (SELECT count(*) FROM read_csv('/etc/passwd')) FROM ${T}`, 'FILE_OR_NETWORK'],
    ['garbage', `SELEC 1`, 'SYNTAX'],
    ['nothing', `  ;  `, 'EMPTY'],
  ])('refuses %s', async (_label, sql, reason) => {
    const error = await db.query(sql).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryRefusedError);
    expect((error as QueryRefusedError).reason).toBe(reason);
    expect((error as QueryRefusedError).exitCode).toBe(2);
  });

  it('runs with external access disabled and configuration locked', async () => {
    // A second line behind the guard: the engine itself refuses. A query may not read settings at all.
    expect(await db.engineSetting('enable_external_access')).toBe(false);
    expect(await db.engineSetting('lock_configuration')).toBe(true);
    const error = await db.query(`SELECT current_setting('enable_external_access') AS ext`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryRefusedError);
    expect((error as QueryRefusedError).reason).toBe('SETTINGS_OR_CATALOG');
  });

  it('refuses a tampered bundle', async () => {
    const copy = join(dir, 'release');
    await appendFile(join(copy, 'tables', `${T}.csv`), '2022,rotterdam,1,published,1,published,1,published\r\n');
    await expect(ReleaseBundle.open(copy)).rejects.toBeInstanceOf(ManifestError);
    await writeSampleRelease(copy); // restore for the other tests
  });
});

describe('query: suppressed cells stay suppressed', () => {
  // Sample: durable is suppressed for (2021, utrecht) and (2021, den_haag).
  it('returns a suppressed cell as NULL with its status, never a number', async () => {
    const result = await db.query(
      `SELECT municipality, durable, durable_status FROM ${T} WHERE outflow_year = '2021' AND municipality = 'utrecht'`,
    );
    expect(result.rows).toEqual([['utrecht', null, 'suppressed']]);
  });

  it('marks a sum over a column with suppressed cells as suppressed instead of summing the published ones', async () => {
    const result = await db.query(
      `SELECT sum(durable) AS total FROM ${T} WHERE outflow_year = '2021' AND municipality <> 'Total'`,
    );
    expect(result.columns.map((c) => c.name)).toEqual(['total', 'total_status']);
    expect(result.rows).toEqual([[null, 'suppressed']]);
    expect(result.warnings.join(' ')).toMatch(/total.*suppressed/);
  });

  it('sums normally where every contributing cell is published', async () => {
    // 2019 durable = round(round(n·(0.31 + 0.01·i))·0.55) for n = 180, 250, 320, 390:
    // to_work 56, 80, 106, 133 → durable 31, 44, 58, 73 (worked out by hand). No status column is added.
    const result = await db.query(
      `SELECT sum(durable) AS total FROM ${T} WHERE outflow_year = '2019' AND municipality <> 'Total'`,
    );
    expect(result.columns.map((c) => c.name)).toEqual(['total']);
    expect(result.rows).toEqual([[31 + 44 + 58 + 73]]);
  });

  it('keeps the taint through arithmetic, coalesce, aliases and subqueries', async () => {
    for (const sql of [
      `SELECT coalesce(durable, 0) + 1 AS x FROM ${T} WHERE outflow_year = '2021' AND municipality = 'utrecht'`,
      `SELECT sum(d) AS x FROM (SELECT durable AS d FROM ${T} WHERE outflow_year = '2021') q`,
      `WITH c AS (SELECT durable * 2 AS twice FROM ${T}) SELECT avg(twice) AS x FROM c`,
      `SELECT max(durable) AS x FROM ${T}`,
    ]) {
      const result = await db.query(sql);
      expect(result.rows[0]?.[0], sql).toBeNull();
      expect(result.rows[0]?.[1], sql).toBe('suppressed');
    }
  });

  // Each of these used to skip the suppressed cells silently (and was refused); now the answer is marked.
  it.each([
    ['min', `SELECT min(durable) AS x FROM ${T}`],
    ['median', `SELECT median(durable) AS x FROM ${T}`],
    ['quantile', `SELECT quantile_cont(durable, 0.5) AS x FROM ${T}`],
    ['arg_max', `SELECT arg_max(municipality, durable) AS x FROM ${T}`],
    ['list', `SELECT list(durable) AS x FROM ${T}`],
    ['least', `SELECT least(durable, to_work) AS x FROM ${T} WHERE outflow_year = '2021' AND municipality = 'utrecht'`],
    ['min through an alias', `SELECT min(d) AS x FROM (SELECT durable AS d FROM ${T}) q`],
    [
      'min through CTE column names',
      `WITH c(m, d) AS (SELECT municipality, durable FROM ${T}) SELECT min(d) AS x FROM c`,
    ],
    [
      'min through a union',
      `SELECT min(municipality) AS x FROM (SELECT municipality FROM ${T} UNION ALL SELECT durable::VARCHAR FROM ${T}) u`,
    ],
    ['min over a window', `SELECT min(durable) OVER () AS x FROM ${T} LIMIT 1`],
  ])('marks %s over a column with suppressed cells as suppressed', async (_label, sql) => {
    const result = await db.query(sql);
    expect(result.columns.slice(0, 2).map((c) => c.name)).toEqual(['x', 'x_status']);
    expect(result.rows[0]?.slice(0, 2)).toEqual([null, 'suppressed']);
  });

  it.each([
    ['SUMMARIZE', `SUMMARIZE ${T}`, 'SUPPRESSION_BYPASS'],
    ['UNPIVOT', `SELECT min(v) FROM (UNPIVOT ${T} ON durable, to_work INTO NAME k VALUE v)`, 'UNSUPPORTED'],
    ['COLUMNS()', `SELECT min(COLUMNS('dur.*')) FROM ${T}`, 'UNSUPPORTED'],
    [
      'PIVOT',
      `SELECT * FROM (PIVOT ${T} ON municipality IN ('rotterdam', 'utrecht') USING min(durable) GROUP BY outflow_year)`,
      'UNSUPPORTED',
    ],
  ])('refuses %s, naming it', async (label, sql, reason) => {
    const error = await db.query(sql).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryRefusedError);
    expect((error as QueryRefusedError).reason).toBe(reason);
    expect((error as QueryRefusedError).message).toMatch(new RegExp(label.replace('()', ''), 'i'));
  });

  it('allows min over dimensions, and over published cells when asked explicitly', async () => {
    expect((await db.query(`SELECT min(outflow_year) FROM ${T}`)).rows).toEqual([['2019']]);
    const published = await db.query(
      `SELECT min(durable) FILTER (WHERE durable_status <> 'suppressed') AS m FROM ${T}`,
    );
    expect(published.rows[0]?.[0]).toBe(31);
    // min(x) = -max(-x): the contagious form marks the suppressed answer instead of skipping it.
    expect((await db.query(`SELECT -max(-durable) AS m FROM ${T} WHERE outflow_year = '2021'`)).rows).toEqual([
      [null, 'suppressed'],
    ]);
  });

  it('never writes a suppressed cell as a number in CSV or Arrow', async () => {
    const result = await db.query(`SELECT outflow_year, municipality, durable, durable_status FROM ${T} ORDER BY ALL`);
    const csv = toCsv(result).trim().split('\r\n');
    expect(csv).toContain('2021,utrecht,,suppressed');
    const arrow = tableFromIPC(toArrow(result));
    const rows = arrow.toArray().map((r) => r.toJSON() as Record<string, unknown>);
    for (const row of rows) if (row.durable_status === 'suppressed') expect(row.durable).toBeNull();
    expect(rows.filter((r) => r.durable_status === 'suppressed')).toHaveLength(2);
  });
});

describe('query: limits', () => {
  it('refuses a result larger than the row limit', async () => {
    await expect(
      db.query(`SELECT * FROM range(100)`, { ...DEFAULT_LIMITS, maxRows: 10, timeoutMs: 10_000 }),
    ).rejects.toMatchObject({
      code: 'RESULT_TOO_LARGE',
    });
  });

  it('never returns a partial answer when a limit stops it part way', async () => {
    // DuckDB stops at the 1,001st row, long after the first rows were made: the answer is refused, not cut.
    await expect(
      db.query(`SELECT range, CASE WHEN range > 500000 THEN 'late' END AS s FROM range(2000000)`, {
        ...DEFAULT_LIMITS,
        maxRows: 1000,
      }),
    ).rejects.toMatchObject({ code: 'RESULT_TOO_LARGE' });
    await expect(
      db.query('SELECT * FROM range(50000000)', {
        ...DEFAULT_LIMITS,
        maxRows: 100_000_000,
        maxBytes: 2 ** 40,
        timeoutMs: 100,
      }),
    ).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' });
  });

  it('interrupts a query that runs too long', async () => {
    await expect(
      db.query(`SELECT count(*) FROM range(1000000000) a, range(1000) b`, {
        ...DEFAULT_LIMITS,
        maxRows: 10,
        timeoutMs: 200,
      }),
    ).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' });
  });
});
