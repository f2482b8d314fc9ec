import { describe, expect, it } from 'vitest';
import { attackerIntervals } from '../pipeline/audit/attackerLp.js';
import { attackerSystem } from '../pipeline/audit/attackerSystem.js';
import { rulesFrom } from '../pipeline/audit/disclosureRules.js';
import { cellKey, type ReleasedRow, type ReleasedTable } from '../pipeline/audit/releasedTables.js';

/**
 * The audit's attacker knows what the catalogue declares: counts of one row
 * that add up (relations, from the bundle's tables.json) and that a rate's
 * numerator is at most its denominator. Hand-made released tables, intervals
 * worked out by hand.
 */

const rules = rulesFrom({}, 'defaults');

function outflows(rows: ReleasedRow[], description: NonNullable<ReleasedTable['description']>): ReleasedTable {
  const columns = Object.keys(rows[0]!.values);
  return {
    name: 'outflow_by_year',
    file: 'release/tables/outflow_by_year.parquet',
    formats: [],
    dimensions: ['year'],
    measures: columns.map((column) => ({ column, additive: true })),
    unmarked: [],
    rows,
    description,
  };
}

const row = (year: string, cells: Record<string, number | null>): ReleasedRow => ({
  dims: { year },
  values: cells,
  statuses: Object.fromEntries(Object.entries(cells).map(([c, v]) => [c, v === null ? 'suppressed' : 'published'])),
});

async function intervalsOf(table: ReleasedTable): Promise<Map<string, { min: number; max: number }>> {
  const system = attackerSystem([table], rules);
  const outcome = await attackerIntervals(system.bounds, system.equations, system.targets);
  expect(outcome.inconsistent).toEqual([]);
  return new Map([...outcome.intervals]);
}

const key = (column: string, year: string) => cellKey('outflows', column, { year });

describe("the audit's attacker with the catalogue's relations and rates", () => {
  // What a release without relations wrote: censored 3 suppressed alone, spells 40 and uncensored 37 published.
  const withoutRelations = [row('Total', { spells: 40, censored: null, uncensored: 37 })];
  const measures = [
    { column: 'spells', kind: 'count' },
    { column: 'censored', kind: 'count', rate: { denominator: 'spells' } },
    { column: 'uncensored', kind: 'count' },
  ];

  it('catches a release made without the relations: the bundle declares spells = censored + uncensored, so 40 − 37 = 3', async () => {
    const table = outflows(withoutRelations, {
      name: 'outflow_by_year',
      population: 'outflows',
      measures,
      relations: [{ total: 'spells', parts: ['censored', 'uncensored'] }],
    });
    expect((await intervalsOf(table)).get(key('censored', 'Total'))).toEqual({ min: 3, max: 3 });
  });

  it('without the declaration the same table only bounds censored by spells (the rate): [0, 40]', async () => {
    const table = outflows(withoutRelations, { name: 'outflow_by_year', population: 'outflows', measures });
    expect((await intervalsOf(table)).get(key('censored', 'Total'))).toEqual({ min: 0, max: 40 });
  });

  it('bounds a suppressed denominator from below by its published numerator', async () => {
    // spells 2021 + 2022 = 30 (published); to_work 2021 = 25 is published, so spells 2021 ∈ [25, 30]: width 5.
    const table = outflows(
      [
        row('2021', { spells: null, to_work: 25 }),
        row('2022', { spells: null, to_work: 2 }),
        row('Total', { spells: 30, to_work: 27 }),
      ],
      {
        name: 'outflow_by_year',
        population: 'outflows',
        measures: [
          { column: 'spells', kind: 'count' },
          { column: 'to_work', kind: 'count', rate: { denominator: 'spells' } },
        ],
      },
    );
    const intervals = await intervalsOf(table);
    expect(intervals.get(key('spells', '2021'))).toEqual({ min: 25, max: 28 });
    expect(intervals.get(key('spells', '2022'))).toEqual({ min: 2, max: 5 });
    // Without the rate the attacker would only know [0, 30].
    const plain = outflows([...table.rows], {
      name: 'outflow_by_year',
      population: 'outflows',
      measures: [
        { column: 'spells', kind: 'count' },
        { column: 'to_work', kind: 'count' },
      ],
    });
    expect((await intervalsOf(plain)).get(key('spells', '2021'))).toEqual({ min: 0, max: 30 });
  });

  it('a protected release (a second part suppressed) keeps censored in [0, 40] with the relation known', async () => {
    const table = outflows([row('Total', { spells: 40, censored: null, uncensored: null })], {
      name: 'outflow_by_year',
      population: 'outflows',
      measures,
      relations: [{ total: 'spells', parts: ['censored', 'uncensored'] }],
    });
    expect((await intervalsOf(table)).get(key('censored', 'Total'))).toEqual({ min: 0, max: 40 });
  });
});
