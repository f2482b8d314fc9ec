import type { CountMeasure, MeasureRelation } from '../../pipeline/release/metricsCatalogue.js';
import type { LoadedTable } from '../../pipeline/release/releaseTables.js';
import { rulesSchema, type Rules } from '../../schemas/rules.js';

/** The default rules of docs/design.md ("Disclosure control") (threshold 10, rates 10/10/10, (2, 90%) dominance, p = 10%) with the rounding a test asks for. */
export function testRules(rounding: Rules['rounding'] = { method: 'none' }): Rules {
  return rulesSchema.parse({
    format: 'boldlink-rules/v1',
    frequency: { minPersons: 10, zerosAreSensitive: false },
    rates: { minNumerator: 10, minDenominator: 10, minComplement: 10 },
    magnitude: { minContributors: 10, dominance: { n: 2, kPercent: 90 }, pPercent: 10, protectionPercent: 10 },
    rounding,
  });
}

/** A count column; with `denominator`, the numerator of a share of that column. */
export function countColumn(column: string, denominator?: string): CountMeasure {
  return denominator === undefined ? { column, kind: 'count' } : { column, kind: 'count', rate: { denominator } };
}

/**
 * An outflows table as metrics hands it to release: its rows (margins
 * included), its counts, and the relations among them. Each row's persons
 * are its first count (spells, in these tests).
 */
export function outflowTable(
  name: string,
  dimensions: string[],
  rows: Record<string, string | number>[],
  measures: CountMeasure[],
  relations?: MeasureRelation[],
): LoadedTable {
  return {
    file: `${name}.parquet`,
    rows: rows.map((r) => ({ ...r, persons: r[measures[0]!.column]! })),
    spec: {
      name,
      title: 't',
      description: 'd',
      dimensions,
      hierarchies: [],
      population: 'outflows',
      measures,
      ...(relations === undefined ? {} : { relations }),
      internal: ['persons'],
    },
  };
}
