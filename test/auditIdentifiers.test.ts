import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { looksLikeBsn } from '../schemas/bsn.js';

/**
 * The audit's own identifier tests, written in SQL (identifierMacros.sql):
 * they must agree with the BSN definition of docs/design.md as schemas/bsn.ts has it,
 * and find BSNs the way people write them in free text without taking dates,
 * amounts or pseudonyms for BSNs.
 */

let duck: Duck;
beforeAll(async () => {
  duck = await Duck.open({ threads: 1 });
  await duck.run(await readFile(projectPath('pipeline/audit/identifierMacros.sql'), 'utf8'));
});
afterAll(() => duck.close());

const bsnValues = async (cells: readonly string[]): Promise<string[][]> => {
  const rows = await duck.jsonRows<{ found: string[] }>(
    `SELECT audit_bsn_values(cell) AS found FROM (VALUES ${cells.map((c, i) => `(${i}, ${sqlString(c)})`).join(', ')}) t(i, cell) ORDER BY i`,
  );
  return rows.map((r) => r.found);
};

describe("the audit's BSN test in SQL", () => {
  it('agrees with the elfproef of schemas/bsn.ts on any 8- or 9-digit value', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.stringMatching(/^[0-9]{9}$/), fc.stringMatching(/^[0-9]{8}$/)), {
          minLength: 1,
          maxLength: 200,
        }),
        async (values) => {
          const rows = await duck.jsonRows<{ ok: boolean }>(
            `SELECT audit_bsn_like(v) AS ok FROM (VALUES ${values.map((v, i) => `(${i}, ${sqlString(v)})`).join(', ')}) t(i, v) ORDER BY i`,
          );
          expect(rows.map((r) => r.ok)).toEqual(values.map((v) => looksLikeBsn(v)));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('finds a BSN written with dots, spaces or hyphens, or next to letters, and two in one text', async () => {
    // 123456782 and 111222333 pass the elfproef.
    expect(
      await bsnValues([
        'client 123456782 called',
        '1234.56.782',
        '123 456 782',
        '123-45-6782',
        'bsn:123456782',
        '111222333 and 123456782',
      ]),
    ).toEqual([['123456782'], ['123456782'], ['123456782'], ['123456782'], ['123456782'], ['111222333', '123456782']]);
  });

  it('does not take dates, amounts, failing numbers or hex pseudonyms for BSNs', async () => {
    const notBsns = [
      '2019-05-01',
      '01-05-2019',
      '01.05.2019',
      '1234567.82',
      '123456789',
      'ab3f123456782deadbeef0123456789ab',
      '00000000',
      '000000000',
      '12345678',
    ];
    expect(await bsnValues(notBsns)).toEqual(notBsns.map(() => []));
  });

  it('does not join neighbouring numbers into a BSN: an age band beside a year, a year range', async () => {
    // 18-26 2016 and 2015-2024 would give 18262016 and 20152024, both "valid" once padded with a zero.
    expect(await bsnValues(['<title>18-26 2016: suppressed</title>', 'jaren 2015-2024'])).toEqual([[], []]);
  });

  it('never skips a cell with a BSN-like value in its cheap first look (audit_may_hold_bsn)', async () => {
    // Cells made of digits, the separators a BSN is written with, hex letters and other text, often with a valid BSN inside.
    const piece = fc.oneof(
      fc.stringMatching(/^[0-9]{1,10}$/),
      fc.constantFrom(
        ' ',
        '.',
        '-',
        'a',
        'F',
        'x',
        ':',
        '<',
        '\n',
        '123456782',
        '12345678',
        '0123 456 78',
        '1234.56.782',
        'deadbeefdeadbeef',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(piece, { maxLength: 12 }).map((parts) => parts.join('')),
          { minLength: 1, maxLength: 100 },
        ),
        async (cells) => {
          const rows = await duck.jsonRows<{ found: number; may: boolean }>(
            `SELECT len(audit_bsn_values(cell)) AS found, audit_may_hold_bsn(cell) AS may FROM (VALUES ${cells.map((c, i) => `(${i}, ${sqlString(c)})`).join(', ')}) t(i, cell) ORDER BY i`,
          );
          for (const row of rows) if (Number(row.found) > 0) expect(row.may).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('finds pseudonym-shaped values (32 hex) but not checksums (64 hex)', async () => {
    const rows = await duck.jsonRows<{ found: string[] }>(
      `SELECT audit_hex32_values(${sqlString(`x 0123456789ABCDEF0123456789abcdef y ${'a'.repeat(64)}`)}) AS found`,
    );
    expect(rows[0]?.found).toEqual(['0123456789abcdef0123456789abcdef']);
  });
});
