import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import iconv from 'iconv-lite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DEFECTS } from '../examples/generator/defects.js';
import { bsnPermutation } from '../examples/generator/generate.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { digestFile } from '../pipeline/core/fileDigest.js';
import { parseBsn, passesElfproef } from '../schemas/bsn.js';
import { runBoldlink } from './support/cli.js';

/**
 * `boldlink generate` as the other stages see it: municipal exports in the
 * mapping's Dutch dialect, BSNs that are valid unless the ledger says
 * otherwise, byte-identical reruns, and defects at the configured rates.
 */

const MAPPING = JSON.parse(await readFile(new URL('../examples/mappings/gemeente.json', import.meta.url), 'utf8')) as {
  tables: Record<string, { columns: Record<string, string>; values: Record<string, Record<string, string>> }>;
};
const CITIES = ['rotterdam', 'amsterdam', 'utrecht', 'den_haag'];
const FILES = { 'clienten.csv': 'clients', 'uitkeringen.csv': 'benefits', 'trajecten.csv': 'interventions' } as const;

let root: string;
let duck: Duck;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-generate-'));
  duck = await Duck.open({ threads: 1 });
});
afterAll(async () => {
  duck.close();
  await rm(root, { recursive: true, force: true });
});

async function generateInto(name: string, ...extra: string[]): Promise<string> {
  const out = join(root, name);
  const result = await runBoldlink([
    'generate',
    '--scale',
    'tiny',
    '--seed',
    '11',
    '--out',
    out,
    '--log-level',
    'warn',
    ...extra,
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return out;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

interface CsvFile {
  readonly byteOrderMark: boolean;
  readonly header: string;
  /** Data lines, 1-based row = index + 1. */
  readonly lines: string[];
}

async function readExport(path: string): Promise<CsvFile> {
  const bytes = await readFile(path);
  const byteOrderMark = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const text = byteOrderMark ? bytes.subarray(3).toString('utf8') : iconv.decode(bytes, 'windows-1252');
  const lines = text.split('\n');
  expect(lines.pop()).toBe(''); // ends with a newline
  const [header, ...data] = lines;
  return { byteOrderMark, header: header ?? '', lines: data };
}

interface LedgerRow {
  source: string;
  file: string;
  row: number | null;
  column: string | null;
  kind: string;
}

async function ledgerOf(out: string): Promise<LedgerRow[]> {
  return await duck.jsonRows<LedgerRow>(
    `SELECT source, file, row::INTEGER AS row, "column", kind FROM ${sqlString(join(out, 'truth/ledger.parquet'))}`,
  );
}

describe('boldlink generate --scale tiny', () => {
  let out: string;
  let again: string;
  beforeAll(async () => {
    [out, again] = await Promise.all([generateInto('default'), generateInto('again')]);
  }, 120_000);

  it("writes the contract layout: 4 municipalities × 3 CSVs, the holder's Parquet files and the truth", async () => {
    const files = await listFiles(out);
    for (const city of CITIES)
      for (const file of Object.keys(FILES)) expect(files).toContain(`gemeente/${city}/${file}`);
    for (const f of [
      'microdata/persons.parquet',
      'microdata/jobs.parquet',
      'truth/persons.parquet',
      'truth/records.parquet',
      'truth/ledger.parquet',
      'truth/spells.parquet',
      'truth/metrics.json',
      'manifest.json',
    ]) {
      expect(files).toContain(f);
    }
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      stage: string;
      outputs: { path: string; rows: number | null }[];
    };
    expect(manifest.stage).toBe('generate');
    const persons = manifest.outputs.find((o) => o.path === 'microdata/persons.parquet');
    expect(persons?.rows).toBe(5000);
  });

  it("writes exactly the mapping's Dutch headers and code labels, in Windows-1252 unless the ledger records a byte-order mark", async () => {
    const ledger = await ledgerOf(out);
    for (const city of CITIES) {
      for (const [file, table] of Object.entries(FILES)) {
        const csv = await readExport(join(out, 'gemeente', city, file));
        const mapping = MAPPING.tables[table]!;
        expect(csv.header).toBe(Object.keys(mapping.columns).join(';'));
        const bom = ledger.some((l) => l.source === city && l.file === file && l.kind === 'byte_order_mark');
        expect(csv.byteOrderMark).toBe(bom);
        if (file === 'uitkeringen.csv' && !bom) {
          const raw = await readFile(join(out, 'gemeente', city, file));
          expect(raw.includes(Buffer.from([0xeb]))).toBe(true); // 'ë' of "Reden beëindiging" as one cp1252 byte
        }
        const canonical = Object.values(mapping.columns);
        const flagged = new Map(
          ledger.filter((l) => l.source === city && l.file === file && l.row !== null).map((l) => [l.row!, l.kind]),
        );
        csv.lines.forEach((line, index) => {
          const kind = flagged.get(index + 1);
          if (kind === 'empty_line') return expect(line).toBe('');
          const fields = line.split(';');
          expect(fields).toHaveLength(canonical.length);
          if (
            kind === 'unknown_code' ||
            kind === 'stray_quote' ||
            kind === 'unparsable_date' ||
            kind === 'end_before_start'
          )
            return;
          expect(line).not.toContain('"');
          canonical.forEach((column, i) => {
            const value = fields[i]!;
            const labels = mapping.values[column];
            if (labels !== undefined && value !== '')
              expect(Object.keys(labels), `${city}/${file} row ${index + 1} ${column}`).toContain(value);
            if (column.endsWith('_date') && value !== '') expect(value).toMatch(/^\d{2}-\d{2}-\d{4}$/);
          });
        });
      }
    }
  });

  it('every BSN passes the elfproef unless the ledger says it was corrupted, and the repairable ones repair to the true BSN', async () => {
    const ledger = await ledgerOf(out);
    const truthBsn = new Map<string, string>();
    const records = await duck.jsonRows<{ source: string; file: string; row: number; bsn: string }>(
      `SELECT r.source, r.file, r.row::INTEGER AS row, p.bsn FROM ${sqlString(join(out, 'truth/records.parquet'))} r JOIN ${sqlString(join(out, 'truth/persons.parquet'))} p USING (person_id) WHERE r.source <> 'microdata'`,
    );
    for (const r of records) truthBsn.set(`${r.source}/${r.file}/${r.row}`, r.bsn);
    const kinds = new Map(ledger.filter((l) => l.row !== null).map((l) => [`${l.source}/${l.file}/${l.row}`, l.kind]));
    let checked = 0;
    for (const city of CITIES) {
      for (const file of Object.keys(FILES)) {
        const csv = await readExport(join(out, 'gemeente', city, file));
        csv.lines.forEach((line, index) => {
          const key = `${city}/${file}/${index + 1}`;
          const kind = kinds.get(key);
          if (kind === 'empty_line') return;
          const raw = line.split(';')[0]!;
          const parsed = parseBsn(raw);
          const truth = truthBsn.get(key);
          expect(truth, key).toBeDefined();
          checked++;
          if (kind === 'wrong_elfproef') return expect(parsed).toEqual({ ok: false, reason: 'elfproef' });
          if (kind === 'missing_bsn') return expect(raw).toBe('');
          expect(parsed.ok, key).toBe(true);
          if (parsed.ok) {
            expect(parsed.bsn).toBe(truth);
            expect(parsed.repairedLeadingZero).toBe(kind === 'lost_leading_zero');
            if (kind !== 'lost_leading_zero' && kind !== 'bsn_spaces' && kind !== 'bsn_dots') expect(raw).toBe(truth);
          }
        });
      }
    }
    expect(checked).toBeGreaterThan(500);
    // The holder's persons: unique, valid, never 000000000.
    const persons = await duck.jsonRows<{ bsn: string }>(
      `SELECT bsn FROM ${sqlString(join(out, 'microdata/persons.parquet'))}`,
    );
    expect(new Set(persons.map((p) => p.bsn)).size).toBe(5000);
    expect(persons.filter((p) => !passesElfproef(p.bsn) || p.bsn === '000000000')).toEqual([]);
    // Jobs carry only repairable BSN defects, each in the ledger.
    const jobs = await duck.jsonRows<{ row: number; bsn: string; truth: string }>(
      `SELECT r.row::INTEGER AS row, j.bsn, p.bsn AS truth
       FROM (SELECT row_number() OVER () AS row, bsn FROM ${sqlString(join(out, 'microdata/jobs.parquet'))}) j
       JOIN ${sqlString(join(out, 'truth/records.parquet'))} r ON r.source = 'microdata' AND r.file = 'jobs.parquet' AND r.row = j.row
       JOIN ${sqlString(join(out, 'truth/persons.parquet'))} p USING (person_id)`,
    );
    const jobKinds = new Map(ledger.filter((l) => l.file === 'jobs.parquet').map((l) => [l.row, l.kind]));
    const wrongJobs = jobs.filter((job) => {
      const parsed = parseBsn(job.bsn);
      return !(parsed.ok && parsed.bsn === job.truth) || (!jobKinds.has(job.row) && job.bsn !== job.truth);
    });
    expect(wrongJobs).toEqual([]);
    expect(jobKinds.size).toBeGreaterThan(0);
  });

  it('gives byte-identical files for the same seed and different ones for another seed', async () => {
    const other = await runBoldlink([
      'generate',
      '--scale',
      'tiny',
      '--persons',
      '1000',
      '--seed',
      '12',
      '--out',
      join(root, 'other'),
      '--log-level',
      'warn',
    ]);
    expect(other.code).toBe(0);
    const files = (await listFiles(out)).filter((f) => f !== 'manifest.json');
    expect(await listFiles(again)).toEqual(await listFiles(out));
    for (const file of files)
      expect((await digestFile(join(again, file))).sha256, file).toBe((await digestFile(join(out, file))).sha256);
    const firstBsns = async (dir: string) =>
      (
        await duck.jsonRows<{ bsn: string }>(
          `SELECT bsn FROM ${sqlString(join(dir, 'microdata/persons.parquet'))} LIMIT 100`,
        )
      ).map((p) => p.bsn);
    const mine = new Set(await firstBsns(out));
    expect((await firstBsns(join(root, 'other'))).filter((bsn) => mine.has(bsn))).toEqual([]);
  }, 120_000);
});

describe('injected defects', () => {
  const rates = {
    lost_leading_zero: 0.3,
    bsn_spaces: 0.04,
    bsn_dots: 0.04,
    wrong_elfproef: 0.04,
    missing_bsn: 0.04,
    end_before_start: 0.04,
    unparsable_date: 0.04,
    unknown_code: 0.04,
    stray_quote: 0.04,
    duplicate_row: 0.04,
    overlapping_period: 0.04,
    empty_line: 0.02,
    byte_order_mark: 0.5,
  };
  let out: string;
  beforeAll(async () => {
    const file = join(root, 'defects.json');
    await writeFile(file, JSON.stringify({ rates }));
    out = await generateInto('dirty', '--persons', '10000', '--defects', file);
  }, 120_000);

  /** Within 4 binomial standard deviations (+1 for tiny counts). */
  function expectRate(kind: string, observed: number, eligible: number, rate: number): void {
    const sd = Math.sqrt(eligible * rate * (1 - rate));
    expect(eligible, `${kind}: eligible rows`).toBeGreaterThan(100);
    expect(
      Math.abs(observed - rate * eligible),
      `${kind}: ${observed} of ${eligible} at rate ${rate}`,
    ).toBeLessThanOrEqual(4 * sd + 1);
  }

  it('injects every kind at its configured rate among the rows it can apply to', async () => {
    const t = (f: string) => sqlString(join(out, 'truth', f));
    const counts = await duck.jsonRows<{ kind: string; observed: number; eligible: number }>(`
      WITH base AS (
        -- Rows of the municipal files before insertions, with what makes a row eligible.
        SELECT r.source, r.file, r.row, p.bsn, l.kind
        FROM ${t('records.parquet')} r JOIN ${t('persons.parquet')} p USING (person_id)
        LEFT JOIN ${t('ledger.parquet')} l USING (source, file, row)
        WHERE r.source <> 'microdata' AND l.kind IS DISTINCT FROM 'duplicate_row' AND l.kind IS DISTINCT FROM 'overlapping_period'
      )
      SELECT k.kind, (SELECT count(*) FROM base WHERE base.kind = k.kind)::INTEGER AS observed,
        (SELECT count(*) FROM base WHERE k.kind <> 'lost_leading_zero' OR (bsn LIKE '0%' AND bsn NOT LIKE '00%'))::INTEGER AS eligible
      FROM (VALUES ('lost_leading_zero'), ('bsn_spaces'), ('bsn_dots'), ('wrong_elfproef'), ('unparsable_date'), ('unknown_code'), ('stray_quote')) k(kind)`);
    for (const c of counts) expectRate(c.kind, c.observed, c.eligible, rates[c.kind as keyof typeof rates]);
    // Holder's jobs: the three repairable BSN kinds.
    const jobs = await duck.jsonRows<{ kind: string; observed: number; eligible: number }>(`
      WITH base AS (
        SELECT p.bsn, l.kind FROM ${t('records.parquet')} r JOIN ${t('persons.parquet')} p USING (person_id)
        LEFT JOIN ${t('ledger.parquet')} l USING (source, file, row) WHERE r.file = 'jobs.parquet')
      SELECT k.kind, (SELECT count(*) FROM base WHERE base.kind = k.kind)::INTEGER AS observed,
        (SELECT count(*) FROM base WHERE k.kind <> 'lost_leading_zero' OR (bsn LIKE '0%' AND bsn NOT LIKE '00%'))::INTEGER AS eligible
      FROM (VALUES ('lost_leading_zero'), ('bsn_spaces'), ('bsn_dots')) k(kind)`);
    for (const c of jobs) expectRate(`jobs ${c.kind}`, c.observed, c.eligible, rates[c.kind as keyof typeof rates]);
    // End before start applies to rows with an end date; empty lines follow any row; duplicates only clean rows.
    let withEnd = 0,
      endBeforeStart = 0,
      baseRows = 0,
      empty = 0,
      cleanRows = 0,
      duplicates = 0;
    const ledger = await ledgerOf(out);
    for (const city of CITIES) {
      for (const file of Object.keys(FILES)) {
        const csv = await readExport(join(out, 'gemeente', city, file));
        const kinds = new Map(
          ledger.filter((l) => l.source === city && l.file === file && l.row !== null).map((l) => [l.row!, l.kind]),
        );
        csv.lines.forEach((line, index) => {
          const kind = kinds.get(index + 1);
          if (kind === 'empty_line') return void empty++;
          if (kind === 'duplicate_row') {
            duplicates++;
            return expect(line).toBe(csv.lines[index - 1]);
          }
          if (kind === 'overlapping_period') return;
          baseRows++;
          if (kind === undefined) cleanRows++;
          if (file !== 'clienten.csv' && line.split(';')[file === 'uitkeringen.csv' ? 3 : 5] !== '') withEnd++;
          if (kind === 'end_before_start') endBeforeStart++;
        });
      }
    }
    expectRate('end_before_start', endBeforeStart, withEnd, rates.end_before_start);
    expectRate('empty_line', empty, baseRows, rates.empty_line);
    expectRate('duplicate_row', duplicates, cleanRows + duplicates, rates.duplicate_row);
  });

  it('records every defect in the ledger with its file, row and column', async () => {
    const ledger = await ledgerOf(out);
    const kinds = new Set(ledger.map((l) => l.kind));
    for (const kind of Object.keys(DEFAULT_DEFECTS)) expect(kinds, kind).toContain(kind);
    for (const l of ledger) {
      if (l.kind === 'byte_order_mark') expect(l.row).toBeNull();
      else expect(l.row).toBeGreaterThan(0);
      if (['duplicate_row', 'overlapping_period', 'empty_line', 'byte_order_mark'].includes(l.kind))
        expect(l.column).toBeNull();
      else expect(l.column).not.toBeNull();
    }
    const column = (kind: string, file: string) => ledger.find((l) => l.kind === kind && l.file === file)?.column;
    expect(column('wrong_elfproef', 'uitkeringen.csv')).toBe('BSN');
    expect(column('end_before_start', 'uitkeringen.csv')).toBe('Einddatum');
    expect(column('unparsable_date', 'clienten.csv')).toBe('Geboortedatum');
    expect(column('unknown_code', 'uitkeringen.csv')).toBe('Regeling');
  });
});

describe('BSN allocation', () => {
  it('maps every seed to a permutation of the 8-digit prefixes (multiplier coprime to 10), so BSNs never repeat', () => {
    const M = 100_000_000n;
    const prefix = (i: bigint, a: number, b: number) => (i * BigInt(a) + BigInt(b)) % M;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.bigInt({ min: 0n, max: M - 1n }),
        fc.bigInt({ min: 1n, max: M - 1n }),
        (seed, i, step) => {
          const { bsnA, bsnB } = bsnPermutation(seed);
          expect(bsnA % 2).toBe(1);
          expect(bsnA % 5).not.toBe(0);
          expect(bsnA).toBeLessThan(100_000_000);
          expect(bsnB).toBeLessThan(100_000_000);
          // Two different indices (i and i + step, taken mod 10^8) never get the same prefix: BSNs never repeat.
          expect(prefix((i + step) % M, bsnA, bsnB)).not.toBe(prefix(i, bsnA, bsnB));
          // And every prefix is some index's: the multiplier has an inverse mod 10^8, so the map is a permutation.
          const inverse = inverseModulo(BigInt(bsnA), M);
          expect(inverse).not.toBeNull();
          const index = ((((i - BigInt(bsnB)) % M) + M) * inverse!) % M;
          expect(prefix(index, bsnA, bsnB)).toBe(i);
          // The largest candidate index at national scale times the multiplier stays an exact BIGINT.
          expect(Number.isSafeInteger(Math.ceil(17_000_000 * 1.2 + 1000) * bsnA + bsnB)).toBe(true);
        },
      ),
    );
  });
});

/** x with a·x ≡ 1 (mod m), or null when a and m share a factor (extended Euclid). */
function inverseModulo(a: bigint, m: bigint): bigint | null {
  let [r0, r1, t0, t1] = [m, a % m, 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, t0, t1] = [r1, r0 - q * r1, t1, t0 - q * t1];
  }
  return r0 === 1n ? ((t0 % m) + m) % m : null;
}

describe('generate options', () => {
  it('refuses an unknown scale or a bad seed with a usage error (exit 2)', async () => {
    const scale = await runBoldlink(['generate', '--scale', 'huge', '--seed', '1', '--out', join(root, 'x')]);
    expect(scale.code).toBe(2);
    const seed = await runBoldlink(['generate', '--scale', 'tiny', '--seed', 'abc', '--out', join(root, 'x')]);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/--seed/);
  }, 60_000);

  it('refuses a defects file with an unknown kind or a rate above 1, naming the field (exit 1)', async () => {
    const file = join(root, 'bad-defects.json');
    await writeFile(file, JSON.stringify({ rates: { bsn_spaces: 1.5 } }));
    const high = await runBoldlink([
      'generate',
      '--scale',
      'tiny',
      '--seed',
      '1',
      '--out',
      join(root, 'x'),
      '--defects',
      file,
    ]);
    expect(high.code).toBe(1);
    expect(high.stderr).toMatch(/bsn_spaces/);
    await writeFile(file, JSON.stringify({ rates: { typo: 0.1 } }));
    const unknown = await runBoldlink([
      'generate',
      '--scale',
      'tiny',
      '--seed',
      '1',
      '--out',
      join(root, 'x'),
      '--defects',
      file,
    ]);
    expect(unknown.code).toBe(1);
  }, 60_000);
});
