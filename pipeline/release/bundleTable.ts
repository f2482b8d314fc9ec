import { type CountMeasure, type MeanMeasure, type MeasureRelation, relationsOf } from '../../schemas/tables.js';
import type { ReleasedEffects } from './releaseEffects.js';
import type { ReleasedTable } from './releasedTable.js';

/** A table as it leaves the secure environment: what the bundle files and the catalogue are written from. */
export interface BundleColumn {
  readonly name: string;
  readonly type: 'VARCHAR' | 'BIGINT' | 'DOUBLE';
  readonly role: 'dimension' | 'count' | 'value' | 'status';
  readonly description: string;
}

export interface BundleTable {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly columns: readonly BundleColumn[];
  readonly rows: readonly (string | number | null)[][];
  /** Counts of one row that add up (total = Σ parts): public structure, like the margins, that the attacker's model includes. */
  readonly relations?: readonly MeasureRelation[];
  /**
   * Tables with the same population count the same people, so their shared
   * margins are the same cells; and a rate's numerator is at most its
   * denominator. Public structure too: with it an auditor who holds only the
   * bundle models the attacker as fully as one who holds the metrics output.
   */
  readonly population?: string;
  /** Why the population holds the units it holds, where that is a choice (a trial's arms). */
  readonly populationWhy?: string;
  /**
   * What each measure says about its units (nature and why), which count a
   * share divides by, and the rows its dimensions fix: public structure the
   * audit and a researcher read the rules by.
   */
  readonly measures?: readonly (
    | Pick<CountMeasure, 'column' | 'kind' | 'nature' | 'why' | 'rate' | 'structural'>
    | Pick<MeanMeasure, 'column' | 'kind' | 'why'>
  )[];
}

const STATUS_DESCRIPTION = (column: string) =>
  `Disclosure status of ${column}: published, suppressed (value NULL), rounded, or empty (no value: a mean or share of no units).`;

export function bundleFromAggregate(table: ReleasedTable): BundleTable {
  const columns: BundleColumn[] = table.dimensionColumns.map((c) => ({
    name: c,
    type: 'VARCHAR',
    role: 'dimension',
    description: `Dimension ${c}; 'Total' on margin rows.`,
  }));
  for (const column of table.columns) {
    columns.push({
      name: column.name,
      type: column.kind === 'count' ? 'BIGINT' : 'DOUBLE',
      role: column.kind === 'count' ? 'count' : 'value',
      description: column.description,
    });
    columns.push({
      name: `${column.name}_status`,
      type: 'VARCHAR',
      role: 'status',
      description: STATUS_DESCRIPTION(column.name),
    });
  }
  const rows = table.dimensionValues.map((dims, local) => {
    const row: (string | number | null)[] = [...dims];
    for (const column of table.columns) {
      const v = column.values[local] ?? null;
      row.push(v === null ? null : column.kind === 'count' ? Math.round(v) : v);
      row.push(column.status[local]!);
    }
    return row;
  });
  const relations = relationsOf(table.spec);
  return {
    name: table.spec.name,
    title: table.spec.title,
    description: table.spec.description,
    columns,
    rows,
    ...(relations.length > 0 ? { relations: relations.map((r) => ({ total: r.total, parts: [...r.parts] })) } : {}),
    population: table.spec.population,
    ...(table.spec.populationWhy === undefined ? {} : { populationWhy: table.spec.populationWhy }),
    measures: table.spec.measures.map((m) =>
      m.kind === 'count'
        ? {
            column: m.column,
            kind: m.kind,
            nature: m.nature,
            ...(m.why === undefined ? {} : { why: m.why }),
            ...(m.rate === undefined ? {} : { rate: { denominator: m.rate.denominator } }),
            ...(m.structural === undefined ? {} : { structural: m.structural.map((s) => ({ ...s })) }),
          }
        : { column: m.column, kind: m.kind, ...(m.why === undefined ? {} : { why: m.why }) },
    ),
  };
}

export function bundleFromEffects(effects: ReleasedEffects): BundleTable {
  const columns: BundleColumn[] = effects.labelColumns.map((c) => ({
    name: c,
    type: 'VARCHAR',
    role: 'dimension',
    description: `Label ${c}.`,
  }));
  for (const column of effects.columns) {
    columns.push({
      name: column.name,
      type: column.kind === 'count' ? 'BIGINT' : 'DOUBLE',
      role: column.kind === 'count' ? 'count' : 'value',
      description: `${column.name} (see the table description).`,
    });
    columns.push({
      name: `${column.name}_status`,
      type: 'VARCHAR',
      role: 'status',
      description: STATUS_DESCRIPTION(column.name),
    });
  }
  const rows = effects.labels.map((labels, i) => {
    const row: (string | number | null)[] = [...labels];
    for (const column of effects.columns) {
      const v = column.values[i] ?? null;
      row.push(v === null ? null : column.kind === 'count' ? Math.round(v) : v);
      row.push(column.status[i]!);
    }
    return row;
  });
  return { name: effects.name, title: effects.title, description: effects.description, columns, rows };
}
