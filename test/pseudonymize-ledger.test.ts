import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFile } from '../keys/keyFile.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { looksLikeBsn } from '../schemas/bsn.js';
import { mappingFile } from '../schemas/mapping.js';
import { manifest as manifestSchema } from '../schemas/manifest.js';
import { runBoldlink } from './support/cli.js';
import { digitRunsOutsideHashes } from './support/digitRuns.js';

/**
 * The generator's dirty data (tiny scale, seed 1) through pseudonymize: every
 * defect in truth/ledger.parquet ends where the ledger says — repaired
 * (leading zero, spaces, dots, byte-order mark), pseudonymized by fallback or
 * quarantined (invalid or missing BSN), or quarantined at its row and column —
 * and nothing else is quarantined.
 */
// With seed 1 these two hold every defect kind the generator makes (checked by the first test).
const MUNICIPALITIES = ['rotterdam', 'den_haag'];

interface LedgerEntry {
  source: string;
  file: string;
  row: number | null;
  column: string | null;
  kind: string;
}
interface QuarantineRow {
  file: string;
  row: number;
  column: string;
  rule: string;
}

describe('pseudonymize on the generator output, against its defect ledger', { timeout: 300_000 }, () => {
  let dir: string;
  let ledger: LedgerEntry[];
  const quarantine = new Map<string, QuarantineRow[]>();
  const outputs = new Map<string, string>();
  const mapping = mappingFile.parse(JSON.parse(readFileSync(projectPath('examples/mappings/gemeente.json'), 'utf8')));
  const canonicalColumn = (header: string | null) => {
    if (header === null) return null;
    for (const table of Object.values(mapping.tables))
      if (table?.columns[header] !== undefined) return table.columns[header];
    return header;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'boldlink-ledger-'));
    const generated = await runBoldlink(['generate', '--scale', 'tiny', '--seed', '1', '--out', join(dir, 'gen')]);
    expect(generated.code, generated.stderr).toBe(0);
    const key = join(dir, 'source.key.json');
    await createKeyFile(key, 'source', 'ledger-test');
    const runs: [string, string[], string[]][] = [
      ...MUNICIPALITIES.map((m): [string, string[], string[]] => [
        m,
        ['--mapping', projectPath('examples/mappings/gemeente.json')],
        ['clienten.csv', 'uitkeringen.csv', 'trajecten.csv'].map((f) => join(dir, 'gen', 'gemeente', m, f)),
      ]),
      ['microdata', [], ['persons.parquet', 'jobs.parquet'].map((f) => join(dir, 'gen', 'microdata', f))],
    ];
    for (const [source, extra, inputs] of runs) {
      const out = join(dir, `p-${source}`);
      const run = await runBoldlink([
        'pseudonymize',
        '--key',
        key,
        '--source',
        source,
        ...extra,
        '--input',
        ...inputs,
        '--out',
        out,
      ]);
      expect(run.code, run.stderr).toBe(0);
      outputs.set(source, out);
      const lines = (await readFile(`${out}.quarantine/quarantine.csv`, 'utf8')).trimEnd().split('\n').slice(1);
      quarantine.set(
        source,
        lines.map((l) => {
          const [file, row, column, rule] = l.split(',');
          return { file: file!, row: Number(row), column: column ?? '', rule: rule ?? '' };
        }),
      );
    }
    const duck = await Duck.open({ threads: 1 });
    ledger = (
      await duck.jsonRows<LedgerEntry>(
        `SELECT source, file, row, "column", kind FROM read_parquet(${sqlString(join(dir, 'gen', 'truth', 'ledger.parquet'))}) ORDER BY ALL`,
      )
    )
      .map((e) => ({ ...e, row: e.row === null ? null : Number(e.row) }))
      .filter((e) => e.source === 'microdata' || MUNICIPALITIES.includes(e.source));
    duck.close();
  }, 300_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const quarantined = (e: LedgerEntry) => quarantine.get(e.source)?.find((q) => q.file === e.file && q.row === e.row);

  it('the ledger holds defects of many kinds (so this test means something)', () => {
    const kinds = new Set(ledger.map((e) => e.kind));
    for (const kind of [
      'lost_leading_zero',
      'bsn_spaces',
      'bsn_dots',
      'wrong_elfproef',
      'missing_bsn',
      'end_before_start',
      'unparsable_date',
      'unknown_code',
      'stray_quote',
      'duplicate_row',
      'empty_line',
      'byte_order_mark',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it('repairable defects (lost leading zero, spaces, dots) are repaired, not quarantined', () => {
    for (const e of ledger.filter((l) => ['lost_leading_zero', 'bsn_spaces', 'bsn_dots'].includes(l.kind))) {
      expect(quarantined(e), `${e.source}/${e.file} row ${e.row} (${e.kind})`).toBeUndefined();
    }
  });

  it('field defects are quarantined at their row and column with the matching rule', () => {
    const rules: Record<string, string[]> = {
      end_before_start: ['date.order'],
      unparsable_date: ['date.format'],
      unknown_code: ['code.unknown'],
      duplicate_row: ['duplicate_row'],
      empty_line: ['row.empty'],
    };
    for (const e of ledger.filter((l) => rules[l.kind] !== undefined)) {
      const q = quarantined(e);
      expect(q, `${e.source}/${e.file} row ${e.row} (${e.kind})`).toBeDefined();
      expect(rules[e.kind]).toContain(q!.rule);
      if (e.column !== null) expect(q!.column).toBe(canonicalColumn(e.column));
    }
  });

  it('a stray quote quarantines its row (the field no longer matches its code list or the line cannot be split)', () => {
    for (const e of ledger.filter((l) => l.kind === 'stray_quote'))
      expect(quarantined(e), `${e.source}/${e.file} row ${e.row}`).toBeDefined();
  });

  it('an invalid or missing BSN is pseudonymized by fallback in clients, and otherwise quarantined under a bsn rule', () => {
    const invalid = ledger.filter((l) => l.kind === 'wrong_elfproef' || l.kind === 'missing_bsn');
    // Both cases occur in this data, so both assertions below are exercised.
    expect(invalid.some((e) => e.file === 'clienten.csv')).toBe(true);
    expect(invalid.some((e) => e.file !== 'clienten.csv')).toBe(true);
    for (const e of invalid) {
      const q = quarantined(e);
      if (e.file === 'clienten.csv') expect(q, `${e.source} clients row ${e.row}`).toBeUndefined();
      // Benefits and trajecten rows take F1 from a clients row with the same raw BSN; the defect gave this row a
      // BSN no clients row has, so it has no pseudonym and is quarantined.
      else expect(q?.rule, `${e.source}/${e.file} row ${e.row}`).toMatch(/^bsn\./);
    }
  });

  it('nothing is quarantined that the ledger does not list', () => {
    for (const [source, rows] of quarantine) {
      for (const q of rows)
        expect(
          ledger.some((e) => e.source === source && e.file === q.file && e.row === q.row),
          `${source}/${q.file} row ${q.row} ${q.rule}`,
        ).toBe(true);
    }
  });

  it('each file with a byte-order mark is read whole; leading-zero repairs are counted per table', async () => {
    for (const source of MUNICIPALITIES) {
      const m = manifestSchema.parse(JSON.parse(await readFile(join(outputs.get(source)!, 'manifest.json'), 'utf8')));
      for (const a of m.accounting) expect(a.rowsIn).toBe(a.rowsOut + a.rowsQuarantined);
      const tables = m.summary.tables as Record<string, { bsn_repaired: number }>;
      const fileOf: Record<string, string> = {
        clients: 'clienten.csv',
        benefits: 'uitkeringen.csv',
        interventions: 'trajecten.csv',
      };
      for (const [table, file] of Object.entries(fileOf)) {
        const lost = ledger.filter(
          (e) => e.source === source && e.file === file && e.kind === 'lost_leading_zero',
        ).length;
        expect(tables[table]?.bsn_repaired, `${source} ${table}`).toBe(lost);
      }
    }
    for (const e of ledger.filter((l) => l.kind === 'byte_order_mark')) {
      expect(quarantine.get(e.source)!.filter((q) => q.file === e.file && q.rule.startsWith('row.'))).toEqual([]);
    }
  });

  it('no output file contains an elfproef-valid BSN of the input', async () => {
    const inputBsns = new Set<string>();
    for (const source of MUNICIPALITIES) {
      for (const file of ['clienten.csv', 'uitkeringen.csv', 'trajecten.csv']) {
        const text = iconv.decode(await readFile(join(dir, 'gen', 'gemeente', source, file)), 'windows-1252');
        for (const run of text.replace(/[ .]/g, '').match(/[0-9]{8,9}/g) ?? [])
          if (looksLikeBsn(run)) inputBsns.add(run.padStart(9, '0'));
      }
    }
    const duck = await Duck.open({ threads: 1 });
    for (const b of await duck.jsonRows<{ bsn: string }>(
      `SELECT DISTINCT bsn FROM read_parquet(${sqlString(join(dir, 'gen', 'microdata', 'persons.parquet'))}) USING SAMPLE reservoir(500 ROWS) REPEATABLE (1)`,
    ))
      inputBsns.add(b.bsn);
    expect(inputBsns.size).toBeGreaterThan(500);
    try {
      for (const [, out] of outputs) {
        for (const table of ['clients', 'benefits', 'interventions', 'persons', 'jobs']) {
          const path = join(out, `${table}.parquet`);
          const rows = await duck.jsonRows(`SELECT * FROM read_parquet(${sqlString(path)})`).catch(() => null);
          if (rows === null) continue;
          const found = new Set<string>();
          for (const run of digitRunsOutsideHashes(JSON.stringify(rows)))
            if (inputBsns.has(run.padStart(9, '0'))) found.add(run);
          expect([...found], path).toEqual([]);
        }
      }
    } finally {
      duck.close();
    }
  });
});
