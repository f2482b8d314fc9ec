import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFile } from '../keys/keyFile.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { parseBsn } from '../schemas/bsn.js';
import { runInProcess } from './support/inProcessCli.js';
import { expectRowsAccountedFor, readQuarantine } from './support/stageChecks.js';

/**
 * Issue #12, property tests of the CSV reading path, the gemeente mapping,
 * BSN canonicalisation and dates: random clienten.csv exports (valid rows and
 * corrupted ones) through `boldlink pseudonymize`. Every input line is in the
 * output or in the quarantine, never both, never neither; the counts add up;
 * and each row's fate is the one worked out independently here (schemas/bsn.ts
 * parseBsn for the BSN, the calendar for the date).
 */
const HEADER = 'BSN;Geboortedatum;Geslacht;Postcode;Huisnummer;Wijk;Huishoudtype';
const VALID_BSNS = ['123456782', '111222333', '012345672', '249566758', '100000009'];

type Fate = { out: 'bsn' | 'bsn_repaired' | 'fallback' } | { rule: string; column: string | null };

const bsnArb = fc.oneof(
  fc.constantFrom(...VALID_BSNS),
  fc
    .constantFrom(...VALID_BSNS)
    .map((b) => b.slice(1))
    .filter((b) => b.length === 8), // lost leading zero, when it was 0
  fc.constantFrom(...VALID_BSNS).map((b) => `${b.slice(0, 4)}.${b.slice(4, 6)} ${b.slice(6)}`),
  fc.stringMatching(/^[0-9]{0,11}$/),
  fc.constantFrom('', ' ', '000000000', '1.23456782E8', '１２３４５６７８２', '12345678A', '-'),
);
const dateArb = fc.oneof(
  fc
    .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2009-12-31T00:00:00Z'), noInvalidDate: true })
    .map(
      (d) =>
        `${String(d.getUTCDate()).padStart(2, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${d.getUTCFullYear()}`,
    ),
  fc
    .tuple(fc.integer({ min: 0, max: 35 }), fc.integer({ min: 0, max: 14 }), fc.integer({ min: 1000, max: 2999 }))
    .map(([d, m, y]) => `${String(d).padStart(2, '0')}-${String(m).padStart(2, '0')}-${y}`),
  fc.constantFrom('', '2020-01-13', '43831', 'onbekend'),
);
const rowArb = fc.record({
  bsn: bsnArb,
  birth: dateArb,
  sex: fc.constantFrom('M', 'V', 'X'),
  shape: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'extra', 'short', 'empty'),
});

function isCalendarDate(text: string): boolean {
  const m = /^(\d{2})-(\d{2})-(\d{4})$/.exec(text);
  if (m === null) return false;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** schemas/inputs.ts: a birth date from 1900-01-01 up to the day of the run (local time), compared as ISO text. */
function isPlausibleBirthDate(text: string): boolean {
  const [day, month, year] = text.split('-');
  const now = new Date();
  const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
  const iso = `${year}-${month}-${day}`;
  return iso >= '1900-01-01' && iso <= today;
}

interface RandomRow {
  readonly bsn: string;
  readonly birth: string;
  readonly sex: string;
  readonly shape: string;
}

function lineAndFate(row: RandomRow, index: number): { line: string; fate: Fate } {
  if (row.shape === 'empty') return { line: '', fate: { rule: 'row.empty', column: null } };
  // A unique house number per line, so no two lines are exact duplicates.
  const fields = [row.bsn, row.birth, row.sex, '3011 AB', String(index + 1), 'Centrum', 'Alleenstaand'];
  if (row.shape === 'extra') return { line: [...fields, 'x'].join(';'), fate: { rule: 'row.columns', column: null } };
  if (row.shape === 'short') return { line: fields.slice(0, 6).join(';'), fate: { rule: 'row.columns', column: null } };
  const line = fields.join(';');
  if (row.birth.trim() === '') return { line, fate: { rule: 'value.missing', column: 'birth_date' } };
  if (!isCalendarDate(row.birth)) return { line, fate: { rule: 'date.format', column: 'birth_date' } };
  if (!isPlausibleBirthDate(row.birth)) return { line, fate: { rule: 'date.range', column: 'birth_date' } };
  if (row.sex === 'X') return { line, fate: { rule: 'code.unknown', column: 'sex' } };
  const parsed = parseBsn(row.bsn);
  return { line, fate: { out: parsed.ok ? (parsed.repairedLeadingZero ? 'bsn_repaired' : 'bsn') : 'fallback' } };
}

describe('random municipal exports: every row accounted for, each with the fate worked out independently', {
  timeout: 120_000,
}, () => {
  let root: string;
  let keyFile: string;
  let duck: Duck;
  let runNo = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-fuzz-'));
    keyFile = join(root, 'source.key');
    await createKeyFile(keyFile, 'source', 'fuzz-src');
    duck = await Duck.open({ threads: 1 });
  });
  afterAll(async () => {
    duck?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('CSV reading, mapping, BSN canonicalisation and dates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { minLength: 1, maxLength: 25 }),
        fc.constantFrom('\n', '\r\n'),
        async (rows, eol) => {
          const dir = join(root, `run-${runNo++}`);
          await mkdir(dir);
          const cases = rows.map(lineAndFate);
          // UTF-8 with a byte-order mark (Excel's "CSV UTF-8"), so the look-alike digits survive.
          await writeFile(
            join(dir, 'clienten.csv'),
            Buffer.concat([
              Buffer.from([0xef, 0xbb, 0xbf]),
              Buffer.from([HEADER, ...cases.map((c) => c.line)].join(eol) + eol, 'utf8'),
            ]),
          );
          const out = join(dir, 'out');
          const result = await runInProcess([
            'pseudonymize',
            '--key',
            keyFile,
            '--source',
            'fuzz',
            '--mapping',
            projectPath('examples/mappings/gemeente.json'),
            '--input',
            join(dir, 'clienten.csv'),
            '--out',
            out,
          ]);
          expect(result.code, result.stderr).toBe(0);
          const quarantine = await readQuarantine(duck, join(dir, 'out.quarantine', 'quarantine.csv'));
          const manifest = await expectRowsAccountedFor(duck, out, quarantine);
          expect(manifest.accounting.map((a) => a.rowsIn)).toEqual([rows.length]);

          const expectedQuarantine = cases.flatMap((c, i) =>
            'rule' in c.fate ? [[i + 1, c.fate.column, c.fate.rule]] : [],
          );
          expect(quarantine.map((q) => [q.row, q.column === '' ? null : q.column, q.rule])).toEqual(expectedQuarantine);
          const statuses = (
            await duck.jsonRows<{ id_status: string }>(
              `SELECT id_status FROM read_parquet(${sqlString(join(out, 'clients.parquet'))})`,
            )
          ).map((r) => r.id_status);
          expect(statuses).toEqual(cases.flatMap((c) => ('out' in c.fate ? [c.fate.out] : [])));
          await rm(dir, { recursive: true, force: true });
          await rm(`${out}.quarantine`, { recursive: true, force: true });
        },
      ),
      { numRuns: 25, seed: 20260112 },
    );
  });
});
