import { type CountMeasure, type MeanMeasure, relationsOf } from '../../schemas/tables.js';
import { DataError } from '../core/errors.js';
import type { PreparedTable } from './preparedTable.js';

/** One secondary-suppression problem: what is protected as one system of cells. */
export interface Problem {
  /** One measure, or the counts that relations tie together (all of them protected as one system). */
  readonly measures: (CountMeasure | MeanMeasure)[];
  /** The tables of the population that carry at least one of them. */
  readonly tables: PreparedTable[];
}

/** The columns whose released status a measure needs before its own problem: its denominator, and what it may equal. */
export function measureDependencies(measure: CountMeasure | MeanMeasure): string[] {
  if (measure.kind !== 'count') return [];
  const sources = (measure.structural ?? []).flatMap((s) => (typeof s.equals === 'string' ? [s.equals] : []));
  return [...new Set([...(measure.rate === undefined ? [] : [measure.rate.denominator]), ...sources])];
}

/**
 * One problem per population and set of measures tied by relations (a lone
 * measure is a set of its own); a measure's dependencies (its denominator,
 * a column a structural value equals) before it, so that their released
 * statuses and the attacker's intervals for them are known.
 */
export function problemsInOrder(prepared: readonly PreparedTable[]): Problem[] {
  // Which measures relations tie together, per population: a union-find over measure columns.
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== undefined && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(k, root);
    return root;
  };
  const named = (population: string, column: string) => `${population}\u0000${column}`;
  for (const table of prepared) {
    for (const relation of relationsOf(table.loaded.spec)) {
      for (const part of relation.parts) {
        const a = find(named(table.loaded.spec.population, relation.total));
        const b = find(named(table.loaded.spec.population, part));
        if (a !== b) parent.set(b, a);
      }
    }
  }
  const byKey = new Map<string, Problem>();
  for (const table of prepared) {
    for (const measure of table.loaded.spec.measures) {
      const k = find(named(table.loaded.spec.population, measure.column));
      let problem = byKey.get(k);
      if (problem === undefined) {
        problem = { measures: [], tables: [] };
        byKey.set(k, problem);
      }
      if (!problem.measures.some((m) => m.column === measure.column)) problem.measures.push(measure);
      if (!problem.tables.includes(table)) problem.tables.push(table);
    }
  }
  for (const table of prepared)
    boundedByRelations(table, (column) => find(named(table.loaded.spec.population, column)));
  const problems = [...byKey.entries()];
  const done = new Set<string>();
  const ordered: Problem[] = [];
  while (ordered.length < problems.length) {
    const before = ordered.length;
    for (const [name, p] of problems) {
      if (done.has(name)) continue;
      const population = p.tables[0]!.loaded.spec.population;
      const waits = p.measures.some((m) =>
        measureDependencies(m).some((column) => {
          const dependency = find(named(population, column));
          return dependency !== name && byKey.has(dependency) && !done.has(dependency);
        }),
      );
      if (waits) continue;
      done.add(name);
      ordered.push(p);
    }
    if (ordered.length === before)
      throw new DataError('RELEASE_CATALOGUE', 'tables.json has a cycle of rate denominators or structural values');
  }
  return ordered;
}

/**
 * A share whose denominator relations tie to it is protected in the same
 * system, where no released denominator exists yet to bound it: safe only
 * when the denominator is a total above the numerator (spells = censored +
 * uncensored bounds censored by spells already). Anything else is refused
 * rather than protected against a weaker attacker than the real one.
 */
function boundedByRelations(table: PreparedTable, problemOf: (column: string) => string): void {
  const spec = table.loaded.spec;
  const relations = relationsOf(spec);
  const totalsAbove = (column: string): Set<string> => {
    const found = new Set<string>();
    const walk = (c: string): void => {
      for (const r of relations) {
        if (r.parts.includes(c) && !found.has(r.total)) {
          found.add(r.total);
          walk(r.total);
        }
      }
    };
    walk(column);
    return found;
  };
  for (const m of spec.measures) {
    if (m.kind !== 'count' || m.rate === undefined || problemOf(m.column) !== problemOf(m.rate.denominator)) continue;
    if (!totalsAbove(m.column).has(m.rate.denominator)) {
      throw DataError.single('RELEASE_CATALOGUE', {
        file: table.loaded.file,
        column: m.column,
        rule: 'catalogue.relations',
        message: `count '${m.column}' is a share of '${m.rate.denominator}' and relations tie the two together, but '${m.rate.denominator}' is not a total above '${m.column}' in table '${spec.name}'; declare the relation that bounds it, or drop the rate`,
      });
    }
  }
}
