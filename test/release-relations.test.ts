import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attackerIntervals, type CellBounds, type Equation } from '../pipeline/audit/attackerLp.js';
import type { MeasureRelation } from '../schemas/tables.js';
import type { LoadedTable } from '../pipeline/release/loadedTable.js';
import { type ReleaseResult, releaseTables } from '../pipeline/release/releaseTables.js';
import { countColumn, outflowTable, testRules } from './support/releaseFixtures.js';

/**
 * Counts of one row that add up (spells = censored + uncensored) are as
 * additive as a margin: release must protect them like one. Every check
 * below attacks the released table with its own LP (the audit's solver, fed
 * equations written here): margins of every count plus the relations.
 */

const rules = testRules();
const LEVEL = 10;

type Row = Record<string, string | number>;

/** A table by year (rows given with their Total row) whose counts are `columns`, tied by `relations`. */
function outflows(
  rows: Row[],
  columns: string[],
  relations: MeasureRelation[],
  rates: Record<string, string> = {},
): LoadedTable {
  return outflowTable(
    'outflow_by_year',
    ['year'],
    rows,
    columns.map((column) => countColumn(column, rates[column])),
    relations,
  );
}

const cell = (result: ReleaseResult, column: string, values: string[]) => {
  const table = result.tables[0]!;
  const at = table.dimensionValues.findIndex((v) => v.every((x, i) => x === values[i]));
  const c = table.columns.find((x) => x.name === column)!;
  return { value: c.values[at], status: c.status[at] };
};

/**
 * The attacker's exact interval of every suppressed cell of a released table:
 * published cells fixed, suppressed ones ≥ 0, every margin over every
 * dimension and every relation an equation (no rounding here).
 */
async function attack(
  result: ReleaseResult,
  relations: readonly MeasureRelation[],
): Promise<Map<string, { min: number; max: number }>> {
  const table = result.tables[0]!;
  const dims = table.dimensionColumns;
  const key = (column: string, values: readonly string[]) => `${column}|${values.join('|')}`;
  const bounds = new Map<string, CellBounds>();
  const targets: string[] = [];
  for (const column of table.columns) {
    table.dimensionValues.forEach((values, local) => {
      const k = key(column.name, values);
      if (column.status[local] === 'suppressed') {
        bounds.set(k, { lower: 0, upper: Infinity });
        targets.push(k);
      } else bounds.set(k, { lower: column.values[local]!, upper: column.values[local]! });
    });
  }
  const equations: Equation[] = [];
  for (const column of table.columns) {
    dims.forEach((_, d) => {
      const byOthers = new Map<string, { total?: readonly string[]; inner: (readonly string[])[] }>();
      for (const values of table.dimensionValues) {
        const others = values.filter((_, i) => i !== d).join('|');
        const group = byOthers.get(others) ?? { inner: [] };
        if (values[d] === 'Total') group.total = values;
        else group.inner.push(values);
        byOthers.set(others, group);
      }
      for (const group of byOthers.values()) {
        if (group.total === undefined || group.inner.length === 0) continue;
        equations.push({
          origin: `${column.name} margin`,
          terms: [
            ...group.inner.map((v) => ({ key: key(column.name, v), coefficient: 1 })),
            { key: key(column.name, group.total), coefficient: -1 },
          ],
        });
      }
    });
  }
  for (const r of relations) {
    for (const values of table.dimensionValues) {
      equations.push({
        origin: `${r.total} relation`,
        terms: [
          ...r.parts.map((p) => ({ key: key(p, values), coefficient: 1 })),
          { key: key(r.total, values), coefficient: -1 },
        ],
      });
    }
  }
  const outcome = await attackerIntervals(bounds, equations, targets);
  expect(outcome.inconsistent).toEqual([]);
  return new Map(targets.map((t) => [t, outcome.intervals.get(t)!]));
}

const width = (i: { min: number; max: number } | undefined) => (i === undefined ? 0 : i.max - i.min);

describe('release protects counts that add up within a row (relations)', () => {
  const spellsRelation: MeasureRelation[] = [{ total: 'spells', parts: ['censored', 'uncensored'] }];
  // One row: 40 outflows, 3 of them censored (a small cell), 37 not.
  const oneRow = [{ year: 'Total', spells: 40, censored: 3, uncensored: 37 }];

  it('a small part with its total and the other part published: one more of them is suppressed', async () => {
    const result = await releaseTables(
      [outflows(oneRow, ['spells', 'censored', 'uncensored'], spellsRelation, { censored: 'spells' })],
      rules,
    );
    expect(cell(result, 'censored', ['Total']).status).toBe('suppressed');
    // 40 − 37 would give 3 back: either the total or the other part goes too; the cheaper one (37 < 40) is uncensored.
    expect(cell(result, 'uncensored', ['Total']).status).toBe('suppressed');
    expect(cell(result, 'spells', ['Total'])).toEqual({ value: 40, status: 'published' });
    expect(result.log.filter((e) => e.suppression === 'secondary').map((e) => e.column)).toEqual(['uncensored']);
    // censored + uncensored = 40: each anywhere in [0, 40].
    const intervals = await attack(result, spellsRelation);
    expect(intervals.get('censored|Total')).toEqual({ min: 0, max: 40 });
    expect(width(intervals.get('censored|Total'))).toBeGreaterThanOrEqual(LEVEL);
    expect(result.attack).toMatchObject({ exactlyRecoverable: 0, narrowedBelowProtection: 0 });
  });

  it('without the relation declared, the same table gives the small cell away (the hole relations close)', async () => {
    const result = await releaseTables(
      [outflows(oneRow, ['spells', 'censored', 'uncensored'], [], { censored: 'spells' })],
      rules,
    );
    expect(cell(result, 'uncensored', ['Total']).status).toBe('published');
    expect(cell(result, 'spells', ['Total']).status).toBe('published');
    // An attacker who knows spells = censored + uncensored: 40 − 37 = 3 exactly.
    expect((await attack(result, spellsRelation)).get('censored|Total')).toEqual({ min: 3, max: 3 });
  });

  it('two relations sharing a total: each is protected, and the total is one cell in both', async () => {
    // to_work = lasted_known + lasted_censored = wage_below + wage_above; lasted_censored 3 and wage_below 2 are small.
    const relations: MeasureRelation[] = [
      { total: 'to_work', parts: ['lasted_known', 'lasted_censored'] },
      { total: 'to_work', parts: ['wage_below', 'wage_above'] },
    ];
    const columns = ['to_work', 'lasted_known', 'lasted_censored', 'wage_below', 'wage_above'];
    const result = await releaseTables(
      [
        outflows(
          [{ year: 'Total', to_work: 40, lasted_known: 37, lasted_censored: 3, wage_below: 2, wage_above: 38 }],
          columns,
          relations,
        ),
      ],
      rules,
    );
    // Each small part takes its cheaper partner (37 and 38 are lighter than the total 40): the total stays published.
    expect(Object.fromEntries(columns.map((c) => [c, cell(result, c, ['Total']).status]))).toEqual({
      to_work: 'published',
      lasted_known: 'suppressed',
      lasted_censored: 'suppressed',
      wage_below: 'suppressed',
      wage_above: 'suppressed',
    });
    const intervals = await attack(result, relations);
    expect(intervals.get('lasted_censored|Total')).toEqual({ min: 0, max: 40 });
    expect(intervals.get('wage_below|Total')).toEqual({ min: 0, max: 40 });
  });

  it('two relations sharing a total over years: a total suppressed for one relation is not given back by the other', async () => {
    // 2021 is small throughout (to_work 8); its year margin forces a second year's to_work out, which both
    // relations of 2022 would recompute from published parts unless a part of each is suppressed too.
    const relations: MeasureRelation[] = [
      { total: 'to_work', parts: ['lasted_known', 'lasted_censored'] },
      { total: 'to_work', parts: ['wage_below', 'wage_above'] },
    ];
    const columns = ['to_work', 'lasted_known', 'lasted_censored', 'wage_below', 'wage_above'];
    const years: Row[] = [
      { year: '2021', to_work: 8, lasted_known: 5, lasted_censored: 3, wage_below: 6, wage_above: 2 },
      { year: '2022', to_work: 60, lasted_known: 35, lasted_censored: 25, wage_below: 28, wage_above: 32 },
      { year: '2023', to_work: 70, lasted_known: 40, lasted_censored: 30, wage_below: 33, wage_above: 37 },
    ];
    const total: Row = { year: 'Total' };
    for (const c of columns) total[c] = years.reduce((s, r) => s + (r[c] as number), 0);
    const result = await releaseTables([outflows([...years, total], columns, relations)], rules);
    for (const c of columns) expect(cell(result, c, ['2021']).status).toBe('suppressed');
    const intervals = await attack(result, relations);
    for (const entry of result.log.filter((e) => e.protectionLevel !== null)) {
      const year = entry.cell.replace('year=', '');
      expect(width(intervals.get(`${entry.column}|${year}`)), `${entry.column} ${year}`).toBeGreaterThanOrEqual(
        entry.protectionLevel! - 1e-6,
      );
    }
    // The same to_work cell in both relations: one log line per year, not one per relation.
    const toWorkLines = result.log.filter((e) => e.column === 'to_work').map((e) => e.cell);
    expect(new Set(toWorkLines).size).toBe(toWorkLines.length);
  });

  it('refuses a relation that names a column the table does not count', async () => {
    await expect(
      releaseTables(
        [outflows(oneRow, ['spells', 'censored', 'uncensored'], [{ total: 'spells', parts: ['censored', 'nowhere'] }])],
        rules,
      ),
    ).rejects.toMatchObject({
      code: 'RELEASE_CATALOGUE',
    });
  });

  it('refuses a share whose denominator relations tie to it without being a total above it', async () => {
    // uncensored as a share of censored: the relation does not bound one part by the other.
    await expect(
      releaseTables(
        [outflows(oneRow, ['spells', 'censored', 'uncensored'], spellsRelation, { uncensored: 'censored' })],
        rules,
      ),
    ).rejects.toMatchObject({
      code: 'RELEASE_CATALOGUE',
    });
  });
});

describe('property: with a relation, no suppressed cell can be narrowed below its protection level', () => {
  // year × sex with margins; spells = censored + uncensored in every cell; censored a share of spells.
  const randomTable = fc
    .record({
      years: fc.integer({ min: 1, max: 3 }),
      sexes: fc.integer({ min: 1, max: 2 }),
      counts: fc.array(
        fc.record({ censored: fc.integer({ min: 0, max: 25 }), uncensored: fc.integer({ min: 0, max: 40 }) }),
        { minLength: 6, maxLength: 6 },
      ),
    })
    .map(({ years, sexes, counts }) => {
      const rows = new Map<string, Row>();
      for (let y = 0; y < years; y++) {
        for (let s = 0; s < sexes; s++) {
          const { censored, uncensored } = counts[y * 2 + s]!;
          for (const year of [`${2020 + y}`, 'Total']) {
            for (const sex of [['F', 'M'][s]!, 'Total']) {
              const row = rows.get(`${year}|${sex}`) ?? { year, sex, spells: 0, censored: 0, uncensored: 0 };
              row.spells = (row.spells as number) + censored + uncensored;
              row.censored = (row.censored as number) + censored;
              row.uncensored = (row.uncensored as number) + uncensored;
              rows.set(`${year}|${sex}`, row);
            }
          }
        }
      }
      return [...rows.values()];
    });

  it('holds for random year × sex tables (an independent LP with the relation as equations)', async () => {
    const relations: MeasureRelation[] = [{ total: 'spells', parts: ['censored', 'uncensored'] }];
    await fc.assert(
      fc.asyncProperty(randomTable, async (rows) => {
        const loaded = outflows(rows, ['spells', 'censored', 'uncensored'], relations, { censored: 'spells' });
        const result = await releaseTables(
          [{ ...loaded, spec: { ...loaded.spec, dimensions: ['year', 'sex'] } }],
          rules,
        );
        const intervals = await attack(result, relations);
        const table = result.tables[0]!;
        for (const entry of result.log) {
          if (entry.protectionLevel === null) continue;
          const values = table.dimensionValues.find((v) => entry.cell === `year=${v[0]}, sex=${v[1]}`)!;
          expect(
            width(intervals.get(`${entry.column}|${values.join('|')}`)),
            `${entry.column} ${entry.cell}`,
          ).toBeGreaterThanOrEqual(entry.protectionLevel - 1e-6);
        }
      }),
      { numRuns: 20, seed: 11 },
    );
  }, 120_000);
});
