import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CountMeasure, MeanMeasure, StructuralValue } from '../schemas/tables.js';
import { DataError } from '../pipeline/core/errors.js';
import type { LoadedTable } from '../pipeline/release/loadedTable.js';
import { type ReleaseResult, releaseTables } from '../pipeline/release/releaseTables.js';
import { testRules } from './support/releaseFixtures.js';

const rules = testRules();

type Row = Record<string, string | number>;

/** A table by year × municipality (two municipalities) with its margins summed by hand from the inner rows. */
function yearTable(
  name: string,
  population: string,
  inner: Row[],
  measures: (CountMeasure | MeanMeasure)[],
  relations: { total: string; parts: string[] }[] = [],
): LoadedTable {
  const columns = measures.flatMap((m) => (m.kind === 'count' ? [m.column] : [m.column, m.contributors, m.sum]));
  const rows = new Map<string, Row>();
  for (const row of inner) {
    for (const year of [String(row.year), 'Total']) {
      for (const municipality of [String(row.municipality), 'Total']) {
        const key = `${year}|${municipality}`;
        const out = rows.get(key) ?? { year, municipality, ...Object.fromEntries(columns.map((c) => [c, 0])) };
        for (const c of columns) out[c] = Number(out[c]) + Number(row[c] ?? 0);
        out.persons = Number(out.persons ?? 0) + Number(row[columns[0]!] ?? 0);
        rows.set(key, out);
      }
    }
  }
  for (const m of measures) {
    if (m.kind !== 'mean') continue;
    for (const row of rows.values())
      row[m.column] = Number(row[m.contributors]) > 0 ? Number(row[m.sum]) / Number(row[m.contributors]) : 0;
  }
  return {
    file: `${name}.parquet`,
    rows: [...rows.values()].map((r) => {
      const out: Record<string, string | number | null> = { ...r };
      for (const m of measures) if (m.kind === 'mean' && Number(r[m.contributors]) === 0) out[m.column] = null;
      return out;
    }),
    spec: {
      name,
      title: name,
      description: name,
      dimensions: ['year', 'municipality'],
      hierarchies: [],
      population,
      measures,
      ...(relations.length === 0 ? {} : { relations }),
      internal: ['persons'],
    },
  };
}

const units = (column: string): CountMeasure => ({ column, kind: 'count', nature: 'units' });
const share = (column: string, denominator: string, structural?: StructuralValue[]): CountMeasure => ({
  column,
  kind: 'count',
  nature: 'attribute',
  rate: { denominator },
  ...(structural === undefined ? {} : { structural }),
});
const timing = (column: string, structural?: StructuralValue[]): CountMeasure => ({
  column,
  kind: 'count',
  nature: 'timing',
  ...(structural === undefined ? {} : { structural }),
});
const fixed = (from: number | undefined, through: number | undefined, equals: 0 | string): StructuralValue => ({
  dimension: 'year',
  ...(from === undefined ? {} : { from }),
  ...(through === undefined ? {} : { through }),
  equals,
  why: 'by the year and T',
});

function cell(result: ReleaseResult, table: string, column: string, year: string, municipality: string) {
  const t = result.tables.find((x) => x.spec.name === table)!;
  const at = t.dimensionValues.findIndex((v) => v[0] === year && v[1] === municipality);
  const c = t.columns.find((x) => x.name === column)!;
  return { value: c.values[at], status: c.status[at] };
}

describe('what a count says decides the rules that protect it', () => {
  // Inflows started 2023 are all 12 months old by T = 2024-12-31; those of 2024 are known only once they ended.
  const inflows = () =>
    yearTable(
      'inflow_by_year_municipality',
      'inflows',
      [
        { year: 2023, municipality: 'a', spells: 30, known_12m: 30, ended_within_12m: 12, censored_12m: 0 },
        { year: 2023, municipality: 'b', spells: 25, known_12m: 25, ended_within_12m: 10, censored_12m: 0 },
        { year: 2024, municipality: 'a', spells: 40, known_12m: 15, ended_within_12m: 15, censored_12m: 25 },
        { year: 2024, municipality: 'b', spells: 42, known_12m: 16, ended_within_12m: 16, censored_12m: 26 },
      ],
      [
        units('spells'),
        timing('known_12m', [fixed(undefined, 2023, 'spells')]),
        share('ended_within_12m', 'known_12m', [fixed(2024, undefined, 'known_12m')]),
        share('censored_12m', 'spells', [fixed(undefined, 2023, 0)]),
      ],
      [{ total: 'spells', parts: ['known_12m', 'censored_12m'] }],
    );

  it('publishes a structural zero and a structural 100% share, which anyone works out from the year', async () => {
    const result = await releaseTables([inflows()], rules);
    // 0 still running of 30 would be a 0% share: here every spell of 2023 is 12 months old by T.
    expect(cell(result, 'inflow_by_year_municipality', 'censored_12m', '2023', 'a')).toEqual({
      value: 0,
      status: 'published',
    });
    // 15 of 15 ended within 12 months: a spell of 2024 is known only once it has ended.
    expect(cell(result, 'inflow_by_year_municipality', 'ended_within_12m', '2024', 'a')).toEqual({
      value: 15,
      status: 'published',
    });
    expect(cell(result, 'inflow_by_year_municipality', 'known_12m', '2023', 'Total')).toEqual({
      value: 55,
      status: 'published',
    });
    expect(result.log).toEqual([]);
    expect(result.attack.narrowedBelowProtection).toBe(0);
  });

  it('without the structural declaration the same 100% share is primary', async () => {
    const table = inflows();
    const plain: LoadedTable = {
      ...table,
      spec: {
        ...table.spec,
        measures: table.spec.measures.map((m) => (m.kind === 'count' ? { ...m, structural: undefined } : m)),
      },
    };
    const result = await releaseTables([plain], rules);
    expect(cell(result, 'inflow_by_year_municipality', 'ended_within_12m', '2024', 'a').status).toBe('suppressed');
    expect(
      result.log.find((e) => e.column === 'ended_within_12m' && e.cell === 'year=2024, municipality=a'),
    ).toMatchObject({ suppression: 'primary', rule: 'rate.complement' });
  });

  it('refuses a table whose values contradict what tables.json declares structural, naming the cell', async () => {
    const table = inflows();
    const wrong: LoadedTable = {
      ...table,
      rows: table.rows.map((r) => (r.year === '2023' && r.municipality === 'a' ? { ...r, censored_12m: 3 } : r)),
    };
    const refusal = await releaseTables([wrong], rules).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(DataError);
    expect((refusal as DataError).issues[0]).toMatchObject({ column: 'censored_12m', rule: 'table.structural' });
    expect((refusal as DataError).issues[0]!.message).toContain('year=2023, municipality=a');
  });

  it('a timing count keeps the frequency rule but no rate rule: every outflow of the last year is censored', async () => {
    const result = await releaseTables(
      [
        yearTable(
          'outflow_by_year_municipality',
          'outflows',
          [
            { year: 2023, municipality: 'a', spells: 30, censored: 0, uncensored: 30 },
            { year: 2023, municipality: 'b', spells: 35, censored: 0, uncensored: 35 },
            { year: 2024, municipality: 'a', spells: 25, censored: 25, uncensored: 0 },
            { year: 2024, municipality: 'b', spells: 28, censored: 28, uncensored: 0 },
          ],
          [units('spells'), timing('censored'), timing('uncensored')],
          [{ total: 'spells', parts: ['censored', 'uncensored'] }],
        ),
      ],
      rules,
    );
    // 25 of 25 censored (100%) and 0 of 30 (0%): when the outflows happened, not what the persons did.
    expect(cell(result, 'outflow_by_year_municipality', 'censored', '2024', 'a')).toEqual({
      value: 25,
      status: 'published',
    });
    expect(cell(result, 'outflow_by_year_municipality', 'censored', '2023', 'a')).toEqual({
      value: 0,
      status: 'published',
    });
    expect(result.log).toEqual([]);
  });

  it('a zero count in a row with persons is published where zeros are not sensitive, and never a secondary', async () => {
    const result = await releaseTables(
      [
        yearTable(
          'outflow_by_year_municipality',
          'outflows',
          [
            { year: 2021, municipality: 'a', spells: 30, unknown_wage: 0 },
            { year: 2021, municipality: 'b', spells: 4, unknown_wage: 0 },
            { year: 2022, municipality: 'a', spells: 35, unknown_wage: 0 },
            { year: 2022, municipality: 'b', spells: 26, unknown_wage: 3 },
          ],
          [units('spells'), units('unknown_wage')],
        ),
      ],
      rules,
    );
    for (const [year, municipality] of [
      ['2021', 'a'],
      ['2021', 'b'],
      ['2022', 'a'],
      ['2021', 'Total'],
    ] as const)
      expect(cell(result, 'outflow_by_year_municipality', 'unknown_wage', year, municipality)).toEqual({
        value: 0,
        status: 'published',
      });
    // The 3 is protected without a zero: its year's total and the other year's cells carry the pattern.
    expect(cell(result, 'outflow_by_year_municipality', 'unknown_wage', '2022', 'b').status).toBe('suppressed');
    expect(result.attack.narrowedBelowProtection).toBe(0);
  });

  it('a mean without contributors is released empty: not suppressed, and not in the disclosure log', async () => {
    const wage: MeanMeasure = {
      column: 'mean_wage',
      kind: 'mean',
      contributors: 'wage_n',
      sum: 'wage_sum',
      top1: 'wage_top1',
      top2: 'wage_top2',
    };
    const table = yearTable(
      'outflow_by_year_municipality',
      'outflows',
      [
        { year: 2021, municipality: 'a', spells: 30, wage_n: 20, wage_sum: 300 },
        { year: 2021, municipality: 'b', spells: 30, wage_n: 0, wage_sum: 0 },
        { year: 2022, municipality: 'a', spells: 35, wage_n: 22, wage_sum: 330 },
        { year: 2022, municipality: 'b', spells: 26, wage_n: 15, wage_sum: 225 },
      ],
      [units('spells'), wage],
    );
    const withTops: LoadedTable = {
      ...table,
      rows: table.rows.map((r) => ({
        ...r,
        wage_top1: Number(r.wage_n) > 0 ? 16 : null,
        wage_top2: Number(r.wage_n) > 1 ? 16 : null,
      })),
    };
    const result = await releaseTables([withTops], rules);
    expect(cell(result, 'outflow_by_year_municipality', 'mean_wage', '2021', 'b')).toEqual({
      value: null,
      status: 'empty',
    });
    expect(result.log.filter((e) => e.column === 'mean_wage')).toEqual([]);
    const loss = result.loss.outflow_by_year_municipality!;
    expect(loss.empty).toBe(1);
    expect(loss.suppressed).toBe(0);
  });

  it('reports what is published: values, suppressed, empty, margin counts of 100+ and persons in suppressed cells', async () => {
    const result = await releaseTables(
      [
        yearTable(
          'outflow_by_year_municipality',
          'outflows',
          [
            { year: 2021, municipality: 'a', spells: 130, to_work: 60 },
            { year: 2021, municipality: 'b', spells: 4, to_work: 2 },
            { year: 2022, municipality: 'a', spells: 150, to_work: 70 },
            { year: 2022, municipality: 'b', spells: 20, to_work: 9 },
          ],
          [units('spells'), share('to_work', 'spells')],
        ),
      ],
      rules,
    );
    const loss = result.loss.outflow_by_year_municipality!;
    expect(loss.cells).toBe(9);
    expect(loss.values).toBe(18);
    expect(loss.published + loss.suppressed).toBe(18);
    // Inner cells with their persons: 130 + 4 + 150 + 20; the 4 is suppressed, and so is its partner.
    expect(loss.personsTotal).toBe(304);
    // The 4 is suppressed with a partner in its row or column: at least its own 4 persons are in suppressed cells.
    expect(loss.personsSuppressed).toBeGreaterThanOrEqual(4);
    // Margin counts of 100 or more: spells 2021/Total 134, 2022/Total 170, Total/a 280, Total/Total 304;
    // to_work Total/a 130, Total/Total 141.
    expect(loss.largeMarginValues).toBe(6);
  });
});

describe('values the known cells fix', () => {
  it("publishes a primary cell that the row's fixed years already give away, instead of refusing to protect it", async () => {
    // first_lasted_censored is 0 for everyone in 2021 (by the year) and 0 of 0 in 2022 (no outflow to work):
    // the Total over the years, 0 of 5, is then known; no pattern could hide it, and it tells nothing new.
    const result = await releaseTables(
      [
        yearTable(
          'outflow_by_year_municipality',
          'outflows',
          [
            { year: 2021, municipality: 'a', to_work: 3, still_running: 0 },
            { year: 2021, municipality: 'b', to_work: 2, still_running: 0 },
            { year: 2022, municipality: 'a', to_work: 0, still_running: 0 },
            { year: 2022, municipality: 'b', to_work: 0, still_running: 0 },
          ],
          [units('to_work'), share('still_running', 'to_work', [fixed(undefined, 2021, 0)])],
        ),
      ],
      rules,
    );
    expect(cell(result, 'outflow_by_year_municipality', 'still_running', 'Total', 'a')).toEqual({
      value: 0,
      status: 'published',
    });
    expect(result.log.filter((e) => e.column === 'still_running')).toEqual([]);
  });
});

describe('zeros', () => {
  it('no zero is suppressed unless a rule makes it primary (property)', async () => {
    const count = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 10, max: 60 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(count, count), { minLength: 6, maxLength: 6 }), async (cells) => {
        const inner = cells.map(([spells, other], i) => ({
          year: 2019 + Math.floor(i / 2),
          municipality: i % 2 === 0 ? 'a' : 'b',
          spells,
          other: Math.min(other, spells),
        }));
        const table = yearTable('outflow_by_year_municipality', 'outflows', inner, [units('spells'), units('other')]);
        let result: ReleaseResult;
        try {
          result = await releaseTables([table], rules);
        } catch (error) {
          // A table no pattern can protect is refused, never released narrow.
          expect(error).toBeInstanceOf(DataError);
          return;
        }
        const primary = new Set(
          result.log.filter((e) => e.suppression === 'primary').map((e) => `${e.cell}|${e.column}`),
        );
        const t = result.tables[0]!;
        for (const c of t.columns) {
          t.dimensionValues.forEach((v, i) => {
            if (c.status[i] !== 'suppressed') return;
            const truth = table.rows.find((r) => r.year === v[0] && r.municipality === v[1])![c.name];
            if (Number(truth) === 0) expect(primary.has(`year=${v[0]}, municipality=${v[1]}|${c.name}`)).toBe(true);
          });
        }
        expect(result.attack.narrowedBelowProtection).toBe(0);
      }),
      { numRuns: 30, seed: 2026 },
    );
  });
});
