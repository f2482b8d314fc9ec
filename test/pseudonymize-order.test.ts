import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFile } from '../keys/keyFile.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { runBoldlink } from './support/cli.js';

/**
 * The output is written in input order without a sort: P1 comes from a
 * function inside the scan and quarantined rows are skipped by a filter, both
 * of which keep DuckDB's row order (a join would not). So it must stay in
 * input order, and byte-identical across runs, even when DuckDB reads the
 * file's many small row groups on two threads; and two files of one table
 * come out one after the other, each in its order. A holder's jobs file of
 * 3,000 rows in row groups of 100: every 7th row has its BSN padded with
 * spaces (still the same person), every 500th fails the elfproef (quarantined:
 * jobs have no fallback fields), and rows 1,000 and 2,000 repeat the row
 * before them exactly (quarantined as duplicates; the first copy is kept).
 */
const ROWS = 3_000;
const BSNS = ['123456782', '111222333', '249566758', '012345672'];
const P1 = (key: Buffer, bsn: string) => createHmac('sha256', key).update(`bsn:${bsn}`).digest('hex').slice(0, 32);

function jobsRow(i: number): { bsn: string; employer: string } {
  const source = i === 1_000 || i === 2_000 ? i - 1 : i;
  const bsn = BSNS[source % BSNS.length]!;
  return { bsn: source % 500 === 0 ? '111252333' : source % 7 === 0 ? `  ${bsn} ` : bsn, employer: `E${source}` };
}

describe('boldlink pseudonymize keeps input order', { timeout: 120_000 }, () => {
  let dir: string;
  let key: Buffer;
  const outputs: { code: number | null; stderr: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'boldlink-pseudonymize-order-'));
    const keyFile = join(dir, 'source.key.json');
    await createKeyFile(keyFile, 'source', 'order-test');
    key = Buffer.from((JSON.parse(await readFile(keyFile, 'utf8')) as { key: string }).key, 'base64');
    const values = Array.from({ length: ROWS }, (_, k) => {
      const row = jobsRow(k + 1);
      return `(${k + 1}, ${sqlString(row.bsn)}, ${sqlString(row.employer)})`;
    }).join(', ');
    const duck = await Duck.open({ threads: 1 });
    try {
      const jobs = (where: string, file: string) =>
        duck.run(`COPY (SELECT bsn, employer_id, DATE '2020-01-01' AS start_date, NULL::DATE AS end_date, 'permanent' AS contract_type, 36.0 AS hours_per_week, 15.5 AS hourly_wage
          FROM (VALUES ${values}) AS t(i, bsn, employer_id) WHERE ${where} ORDER BY i) TO ${sqlString(join(dir, file))} (FORMAT parquet, ROW_GROUP_SIZE 100)`);
      await jobs('TRUE', 'jobs.parquet');
      await jobs('i <= 1500', 'jobs-a.parquet');
      await jobs('i > 1500', 'jobs-b.parquet');
    } finally {
      duck.close();
    }
    const inputs: Record<string, string[]> = {
      out1: ['jobs.parquet'],
      out2: ['jobs.parquet'],
      split: ['jobs-a.parquet', 'jobs-b.parquet'],
    };
    for (const [out, files] of Object.entries(inputs)) {
      outputs.push(
        await runBoldlink(
          [
            'pseudonymize',
            '--key',
            keyFile,
            '--source',
            'cbs',
            '--input',
            ...files.map((f) => join(dir, f)),
            '--out',
            join(dir, out),
          ],
          { env: { BOLDLINK_THREADS: '2' } },
        ),
      );
    }
  }, 90_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the kept rows in input order, each with the P1 of its (trimmed, canonical) BSN', async () => {
    expect(
      outputs.map((o) => o.code),
      outputs.map((o) => o.stderr).join('\n'),
    ).toEqual([0, 0, 0]);
    const duck = await Duck.open({ threads: 1 });
    let rows: { p1: string; employer_id: string; id_status: string }[];
    try {
      rows = await duck.jsonRows(
        `SELECT p1, employer_id, id_status FROM read_parquet(${sqlString(join(dir, 'out1', 'jobs.parquet'))})`,
      );
    } finally {
      duck.close();
    }
    const expected: { p1: string; employer_id: string; id_status: string }[] = [];
    for (let i = 1; i <= ROWS; i++) {
      if (i === 1_000 || i === 2_000 || i % 500 === 0) continue;
      expected.push({ p1: P1(key, BSNS[i % BSNS.length]!), employer_id: `E${i}`, id_status: 'bsn' });
    }
    expect(rows.length).toBe(ROWS - 6);
    expect(rows).toEqual(expected);
  });

  it('quarantines the elfproef failures and the repeated rows, and two runs give byte-identical files', async () => {
    const quarantine = (await readFile(join(dir, 'out1.quarantine', 'quarantine.csv'), 'utf8'))
      .trimEnd()
      .split('\n')
      .slice(1);
    expect(quarantine.map((line) => line.split(',').slice(1, 4).join(','))).toEqual([
      '500,bsn,bsn.elfproef',
      '1000,,duplicate_row',
      '1500,bsn,bsn.elfproef',
      '2000,,duplicate_row',
      '2500,bsn,bsn.elfproef',
      '3000,bsn,bsn.elfproef',
    ]);
    const [first, second] = await Promise.all(['out1', 'out2'].map((out) => readFile(join(dir, out, 'jobs.parquet'))));
    expect(first!.equals(second!)).toBe(true);
  });

  it('writes two files of one table one after the other, each in its order: the same rows as from one file', async () => {
    const duck = await Duck.open({ threads: 1 });
    try {
      const rows = (out: string) =>
        duck.jsonRows(
          `SELECT p1, employer_id, id_status FROM read_parquet(${sqlString(join(dir, out, 'jobs.parquet'))})`,
        );
      expect(await rows('split')).toEqual(await rows('out1'));
    } finally {
      duck.close();
    }
  });
});
