import type { CellBounds, Equation } from './attackerLp.js';
import { roundedInterval, type DisclosureRules } from './disclosureRules.js';
import { finding, type Finding } from './finding.js';
import { cellKey, TOTAL, type ReleasedTable } from './releasedTables.js';
import { structuralRows } from './structuralRows.js';

/**
 * What an attacker knows from one release bundle, as a system of cells: a cell
 * is identified by its population, measure and non-Total dimension values, so
 * a cell that two tables share is one unknown (or one published value) in the
 * attacker's equations. Published cells are fixed, rounded cells lie within
 * the rounding interval, suppressed cells only ≥ 0; every margin of every
 * additive measure is an equation, and so is every declared relation between
 * counts of one row (total = Σ parts, from the catalogue). A rate's numerator
 * is at most its denominator: a bound where the other is published.
 */
export interface AttackerSystem {
  /** Every place each cell appears in the released tables. */
  readonly occurrences: ReadonlyMap<string, readonly Occurrence[]>;
  readonly bounds: ReadonlyMap<string, CellBounds>;
  readonly equations: readonly Equation[];
  /** Cells suppressed in at least one place. */
  readonly targets: readonly string[];
  /** Cells published with two different values. */
  readonly findings: readonly Finding[];
}

export interface Occurrence {
  readonly table: ReleasedTable;
  readonly column: string;
  readonly dims: Readonly<Record<string, string>>;
  readonly status: string;
  readonly value: number | null;
}

export function attackerSystem(tables: readonly ReleasedTable[], rules: DisclosureRules): AttackerSystem {
  const found: Finding[] = [];
  const occurrences = new Map<string, Occurrence[]>();
  const equations: Equation[] = [];
  for (const table of tables) {
    const population = table.description?.population ?? `table:${table.name}`;
    for (const measure of table.measures.filter((m) => m.additive)) {
      for (const row of table.rows) {
        const key = cellKey(population, measure.column, row.dims);
        const list = occurrences.get(key) ?? [];
        list.push({
          table,
          column: measure.column,
          dims: row.dims,
          status: row.statuses[measure.column] ?? '',
          value: row.values[measure.column] ?? null,
        });
        occurrences.set(key, list);
      }
      equations.push(...marginEquations(table, population, measure.column));
    }
    equations.push(...relationEquations(table, population));
    equations.push(...structuralEquations(table, population));
  }

  const bounds = new Map<string, CellBounds>();
  const targets: string[] = [];
  for (const [key, list] of occurrences) {
    const published = list.filter((o) => o.status === 'published' && o.value !== null);
    const values = new Set(published.map((o) => o.value));
    if (values.size > 1) {
      const first = published[0] as Occurrence;
      found.push(
        finding(
          'release',
          'release.inconsistent-shared-cell',
          first.table.file,
          `The same cell is published with different values in ${published.length} places (${[...new Set(published.map((o) => o.table.name))].join(', ')}).`,
          { column: first.column, cell: { ...first.dims }, count: published.length },
        ),
      );
    }
    const fixed = published[0]?.value;
    const rounded = list.find((o) => o.status === 'rounded' && o.value !== null)?.value;
    if (fixed !== undefined && fixed !== null) bounds.set(key, { lower: fixed, upper: fixed });
    else if (rounded !== undefined && rounded !== null) bounds.set(key, roundedInterval(rounded, rules));
    else bounds.set(key, { lower: 0, upper: Infinity });
    if (list.some((o) => o.status === 'suppressed')) targets.push(key);
  }
  for (const table of tables) rateBounds(table, table.description?.population ?? `table:${table.name}`, bounds);
  return { occurrences, bounds, equations, targets, findings: found };
}

/** The catalogue's relations between additive measures of the table: in every row, total − Σ parts = 0. */
function relationEquations(table: ReleasedTable, population: string): Equation[] {
  const additive = new Set(table.measures.filter((m) => m.additive).map((m) => m.column));
  const equations: Equation[] = [];
  for (const relation of table.description?.relations ?? []) {
    const columns = [relation.total, ...relation.parts];
    // A relation naming a column the table does not carry cannot be an equation the attacker writes down.
    if (relation.parts.length === 0 || !columns.every((c) => additive.has(c))) continue;
    for (const row of table.rows) {
      equations.push({
        origin: `${table.name}: ${relation.total} = ${relation.parts.join(' + ')}`,
        terms: [
          ...relation.parts.map((p) => ({ key: cellKey(population, p, row.dims), coefficient: 1 })),
          { key: cellKey(population, relation.total, row.dims), coefficient: -1 },
        ],
      });
    }
  }
  return equations;
}

/**
 * What the catalogue says the row's dimensions fix (schemas/tables.ts): a
 * cell that is 0 for everyone, or equal to another column of its row. The
 * attacker knows it from the year and the observation end alone.
 */
function structuralEquations(table: ReleasedTable, population: string): Equation[] {
  const additive = new Set(table.measures.filter((m) => m.additive).map((m) => m.column));
  const equations: Equation[] = [];
  for (const measure of table.description?.measures ?? []) {
    if (!additive.has(measure.column)) continue;
    const fixed = structuralRows(table, measure);
    fixed?.forEach((structural, at) => {
      if (structural === undefined) return;
      const dims = table.rows[at]!.dims;
      if (structural.equals !== 0 && !additive.has(structural.equals)) return;
      equations.push({
        origin: `${table.name}: ${measure.column} fixed by its row`,
        terms: [
          { key: cellKey(population, measure.column, dims), coefficient: 1 },
          ...(structural.equals === 0 ? [] : [{ key: cellKey(population, structural.equals, dims), coefficient: -1 }]),
        ],
      });
    });
  }
  return equations;
}

/**
 * numerator ≤ denominator for every count the catalogue names a rate of
 * another, as bounds: a published (or rounded) numerator is a floor under its
 * denominator, a published (or rounded) denominator a ceiling over its
 * numerator. Where both are suppressed no bound is added: release bounds each
 * from the other's attacker interval in turn, not jointly, and a joint
 * inequality here would hold it to a model it does not claim (README, known
 * limits).
 */
function rateBounds(table: ReleasedTable, population: string, bounds: Map<string, CellBounds>): void {
  const additive = new Set(table.measures.filter((m) => m.additive).map((m) => m.column));
  const known = (b: CellBounds | undefined): b is CellBounds => b !== undefined && Number.isFinite(b.upper);
  for (const measure of table.description?.measures ?? []) {
    const denominator = measure.rate?.denominator;
    if (denominator === undefined || !additive.has(measure.column) || !additive.has(denominator)) continue;
    for (const row of table.rows) {
      const numeratorKey = cellKey(population, measure.column, row.dims);
      const denominatorKey = cellKey(population, denominator, row.dims);
      const numerator = bounds.get(numeratorKey);
      const whole = bounds.get(denominatorKey);
      if (known(numerator) && whole !== undefined && numerator.lower > whole.lower && numerator.lower <= whole.upper)
        bounds.set(denominatorKey, { lower: numerator.lower, upper: whole.upper });
      const updated = bounds.get(denominatorKey);
      if (
        known(updated) &&
        numerator !== undefined &&
        updated.upper < numerator.upper &&
        updated.upper >= numerator.lower
      )
        bounds.set(numeratorKey, { lower: numerator.lower, upper: updated.upper });
    }
  }
}

/** For each dimension: within every combination of the other dimensions, the non-Total values add up to the Total. */
function marginEquations(table: ReleasedTable, population: string, measure: string): Equation[] {
  const equations: Equation[] = [];
  for (const dim of table.dimensions) {
    const groups = new Map<
      string,
      { total: Readonly<Record<string, string>> | undefined; inner: Readonly<Record<string, string>>[] }
    >();
    for (const row of table.rows) {
      const others = JSON.stringify(table.dimensions.filter((d) => d !== dim).map((d) => row.dims[d]));
      const group = groups.get(others) ?? { total: undefined, inner: [] };
      if (row.dims[dim] === TOTAL) group.total = row.dims;
      else group.inner.push(row.dims);
      groups.set(others, group);
    }
    for (const group of groups.values()) {
      if (group.total === undefined || group.inner.length === 0) continue;
      equations.push({
        origin: `${table.name}: ${measure} over ${dim}`,
        terms: [
          ...group.inner.map((dims) => ({ key: cellKey(population, measure, dims), coefficient: 1 })),
          { key: cellKey(population, measure, group.total), coefficient: -1 },
        ],
      });
    }
  }
  return equations;
}
