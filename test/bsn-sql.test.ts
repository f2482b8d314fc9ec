import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../pipeline/core/duckdb.js';
import { besideModule } from '../pipeline/core/projectPath.js';
import { parseBsn } from '../schemas/bsn.js';

/**
 * pseudonymize canonicalises BSNs in SQL (over the distinct raw values); it
 * must agree with schemas/bsn.ts parseBsn exactly, or sources would compute
 * different pseudonyms for the same person.
 */
const sqlFile = besideModule(new URL('../pipeline/pseudonymize/pseudonymize.ts', import.meta.url).href, 'canonicalBsn.sql');

let duck: Duck;
beforeAll(async () => {
  duck = await Duck.open({ threads: 1 });
});
afterAll(() => duck.close());

async function canonicalInSql(values: readonly string[]): Promise<Map<string, { status: string; bsn: string | null }>> {
  await duck.run('CREATE OR REPLACE TABLE raw_values (raw VARCHAR)');
  const appender = await duck.connection.createAppender('raw_values');
  for (const v of values) {
    appender.appendVarchar(v);
    appender.endRow();
  }
  appender.closeSync();
  await duck.runFile(sqlFile, { rawValues: 'SELECT raw FROM raw_values' });
  const rows = await duck.jsonRows<{ raw: string; status: string; bsn: string | null }>('SELECT raw, status, bsn FROM bsn_canonical');
  return new Map(rows.map((r) => [r.raw, { status: r.status, bsn: r.bsn }]));
}

const expectedStatus = (raw: string) => {
  const parsed = parseBsn(raw);
  return parsed.ok ? { status: parsed.repairedLeadingZero ? 'repaired' : 'valid', bsn: parsed.bsn as string } : { status: parsed.reason, bsn: null };
};

describe('canonicalBsn.sql', { timeout: 60_000 }, () => {
  it('gives the worked examples of DESIGN.md', async () => {
    const examples = ['123456782', '111222333', '249566758', '012345672', '12345672', '111252333', '123456789', '1112223334', '000000000', 'abc', '', ' 1234.56.782 ', '00000000'];
    const sql = await canonicalInSql(examples);
    for (const raw of examples) expect(sql.get(raw), raw).toEqual(expectedStatus(raw));
  });

  it('agrees with parseBsn on random raw values (digits, separators, letters, lengths 0–11)', async () => {
    const raw = fc.array(fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '1', ' ', '.', '-', 'a', '\t'), { maxLength: 12 }).map((cs) => cs.join(''));
    const valid = fc.stringMatching(/^[0-9]{8,9}$/);
    const values = fc.sample(fc.oneof(raw, valid), 4000);
    const sql = await canonicalInSql([...new Set(values)]);
    for (const v of new Set(values)) expect(sql.get(v), JSON.stringify(v)).toEqual(expectedStatus(v));
  });
});
