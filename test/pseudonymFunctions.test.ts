import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { BSN_STATUSES, PseudonymFunctions } from '../pipeline/pseudonymize/pseudonymFunctions.js';
import { parseBsn } from '../schemas/bsn.js';

/**
 * pseudonymize canonicalises and hashes BSNs inside DuckDB's scan, through JS
 * functions reading DuckDB's vectors. They must agree exactly with
 * schemas/bsn.ts parseBsn and with an independent HMAC (node:crypto), on every
 * shape of vector DuckDB hands them (a table's flat vectors, a Parquet
 * column's dictionary, constants, NULLs), or sources would compute different
 * pseudonyms for the same person.
 */

const key = randomBytes(32);
const nodeHex16 = (message: string) => createHmac('sha256', key).update(message, 'utf8').digest('hex').slice(0, 32);

let duck: Duck;
let dir: string;
let functions: PseudonymFunctions;
beforeAll(async () => {
  duck = await Duck.open({ threads: 2 });
  functions = PseudonymFunctions.register(duck, key);
  dir = await mkdtemp(join(tmpdir(), 'boldlink-fn-'));
});
afterAll(async () => {
  duck.close();
  await rm(dir, { recursive: true, force: true });
});

async function tableOf(values: readonly (string | null)[]): Promise<void> {
  await duck.run('CREATE OR REPLACE TABLE raw_values (i INTEGER, raw VARCHAR)');
  const appender = await duck.connection.createAppender('raw_values');
  values.forEach((v, i) => {
    appender.appendInteger(i);
    if (v === null) appender.appendNull();
    else appender.appendVarchar(v);
    appender.endRow();
  });
  appender.closeSync();
}

const expected = (raw: string | null) => {
  const parsed = parseBsn(raw);
  return parsed.ok
    ? { status: parsed.repairedLeadingZero ? 'repaired' : 'valid', p1: nodeHex16(`bsn:${parsed.bsn}`) }
    : { status: parsed.reason, p1: null };
};

async function checked(source: string): Promise<{ raw: string | null; status: string; p1: string | null }[]> {
  const rows = await duck.jsonRows<{ raw: string | null; code: number; p1: string | null }>(
    `SELECT raw, bsn_check(raw) AS code, bsn_p1(raw) AS p1 FROM ${source} ORDER BY i`,
  );
  return rows.map((r) => ({ raw: r.raw, status: BSN_STATUSES[r.code]!, p1: r.p1 }));
}

describe('bsn_check and bsn_p1', { timeout: 60_000 }, () => {
  it('give the worked examples of docs/design.md', async () => {
    const examples = [
      '123456782',
      '111222333',
      '249566758',
      '012345672',
      '12345672',
      '111252333',
      '123456789',
      '1112223334',
      '000000000',
      'abc',
      '',
      ' 1234.56.782 ',
      '00000000',
      '1234 5678 2',
      null,
    ];
    await tableOf(examples);
    for (const row of await checked('raw_values'))
      expect({ status: row.status, p1: row.p1 }, JSON.stringify(row.raw)).toEqual(expected(row.raw));
    expect(await duck.scalar(`SELECT bsn_p1('12345672')`)).toBe(nodeHex16('bsn:012345672'));
  });

  it('agree with parseBsn and node:crypto on random raw values (digits, separators, Unicode spaces, letters, lengths 0–14)', async () => {
    const chars = [
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '0',
      '1',
      ' ',
      '.',
      '-',
      'a',
      '+',
      '/',
      '\t',
      '\n',
      '\r',
      '\v',
      '\f',
      '\x1c',
      '\u00a0',
      '\u2007',
      '\u3000',
      '\ufeff',
      'é',
    ];
    const raw = fc.array(fc.constantFrom(...chars), { maxLength: 14 }).map((cs) => cs.join(''));
    const digits = fc.stringMatching(/^[0-9]{8,9}$/);
    const values = fc.sample(fc.oneof(raw, digits, digits, fc.constant(null)), 6000);
    await tableOf(values);
    for (const row of await checked('raw_values'))
      expect({ status: row.status, p1: row.p1 }, JSON.stringify(row.raw)).toEqual(expected(row.raw));
  });

  it('give the same values through a Parquet column DuckDB reads as a dictionary', async () => {
    // Few distinct values over many rows: the Parquet writer dictionary-encodes them, and DuckDB calls the functions per dictionary entry.
    const distinct = fc.sample(fc.stringMatching(/^[0-9]{8,9}$/), 300);
    const values = Array.from({ length: 50_000 }, (_, i) =>
      i % 997 === 0 ? null : distinct[(i * 7919) % distinct.length]!,
    );
    await tableOf(values);
    const file = join(dir, 'dictionary.parquet');
    await duck.run(
      `COPY (SELECT * FROM raw_values ORDER BY i) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 4096)`,
    );
    const rows = await checked(`read_parquet(${sqlString(file)})`);
    expect(rows).toHaveLength(values.length);
    rows.forEach((row, i) => {
      expect(row.raw).toBe(values[i]);
      expect({ status: row.status, p1: row.p1 }).toEqual(expected(row.raw));
    });
  });
});

describe('fallback_f1', () => {
  it('is HMAC("fallback:" + birth|sex|PC6|house) for short, lane-sized and multi-block messages, NULL when a part is', async () => {
    const parts: (readonly (string | null)[])[] = [
      ['1980-02-29', 'F', '3011AB', '12'],
      ['1975-12-01', 'M', '1012XK', '1-3 hs'],
      ['2001-01-01', 'X', '9999ZZ', '7'.repeat(80)],
      ['', '', '', ''],
      ['1980-02-29', null, '3011AB', '12'],
    ];
    const literal = (v: string | null) => (v === null ? 'NULL' : sqlString(v));
    const rows = await duck.jsonRows<{ f1: string | null }>(
      `SELECT fallback_f1(b, s, p, h) AS f1 FROM (VALUES ${parts.map((p, i) => `(${i}, ${p.map(literal).join(', ')})`).join(', ')}) t(i, b, s, p, h) ORDER BY i`,
    );
    expect(rows.map((r) => r.f1)).toEqual(
      parts.map((p) => (p.includes(null) ? null : nodeHex16(`fallback:${p.join('|')}`))),
    );
  });
});

describe('held_back_<n>', () => {
  it('flags exactly the listed row numbers', async () => {
    await functions.holdBack(7, 'SELECT * FROM (VALUES (1), (5), (4096), (9999)) t(row_no)', 10_000);
    const flagged = await duck.jsonRows<{ row_no: number }>(
      'SELECT range AS row_no FROM range(1, 10001) WHERE held_back_7(CAST(range AS DOUBLE)) ORDER BY 1',
    );
    expect(flagged.map((r) => Number(r.row_no))).toEqual([1, 5, 4096, 9999]);
  });
});
