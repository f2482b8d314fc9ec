import { DataError } from '../core/errors.js';
import { countProtectionLevel, type Rules } from '../../schemas/rules.js';
import type { AggregateTableSpec, CountMeasure, MeanMeasure } from './metricsCatalogue.js';
import { CellSystem, TableLayout } from './sdc/cellSystem.js';
import { DimensionBuilder, HierarchyShapeError, TOTAL } from './sdc/dimension.js';
import { countFinding, magnitudeFinding, rateFinding } from './sdc/primaryRules.js';
import { defaultWeights, type SuppressionProblem } from './sdc/problem.js';
import { protectCells, ProtectionRefusal, verifyPattern, type PrimaryFinding, type ProtectionOutcome } from './sdc/protect.js';
import { attackIntervals } from './sdc/attack.js';
import { roundCount, roundingPreimage } from './sdc/rounding.js';

/** One aggregate table as read from the metrics stage: dimension values as strings, measures as numbers (NULL → null). */
export interface LoadedTable {
  readonly spec: AggregateTableSpec;
  /** For messages: where the rows came from. */
  readonly file: string;
  readonly rows: readonly Record<string, string | number | null>[];
}

export type CellStatus = 'published' | 'suppressed' | 'rounded';

export interface ReleasedColumn {
  readonly name: string;
  readonly kind: 'count' | 'mean';
  readonly description: string;
  readonly values: (number | null)[];
  readonly status: CellStatus[];
}

export interface ReleasedTable {
  readonly spec: AggregateTableSpec;
  readonly layout: TableLayout;
  /** Dimension columns in catalogue order. */
  readonly dimensionColumns: readonly string[];
  /** Per row (layout cell), the dimension values in `dimensionColumns` order. */
  readonly dimensionValues: readonly string[][];
  readonly columns: readonly ReleasedColumn[];
}

/** One line of the internal disclosure log: never part of the bundle. */
export interface DisclosureLogEntry {
  readonly table: string;
  readonly cell: string;
  readonly column: string;
  readonly suppression: 'primary' | 'secondary';
  readonly rule: string;
  readonly reason: string;
  readonly intervalLow: number | null;
  readonly intervalHigh: number | null;
  readonly protectionLevel: number | null;
}

export interface TableLoss {
  readonly cells: number;
  readonly suppressedValues: number;
  readonly primaryValues: number;
  readonly secondaryValues: number;
  /** Persons in suppressed inner cells of the table's population count (its first count measure). */
  readonly personsSuppressed: number;
  readonly personsTotal: number;
}

export interface ReleaseResult {
  readonly tables: readonly ReleasedTable[];
  readonly log: readonly DisclosureLogEntry[];
  readonly loss: Readonly<Record<string, TableLoss>>;
  readonly lpSolves: number;
  readonly attack: { readonly suppressedCells: number; readonly exactlyRecoverable: number; readonly narrowedBelowProtection: number };
  /** Measures (population:column) protected without their denominator's bound, because no pattern existed with it. */
  readonly boundsRelaxed: readonly string[];
}

/** One measure's protected pattern, kept until a later numerator has told what it reveals of this denominator. */
interface SolvedProblem {
  readonly measure: CountMeasure | MeanMeasure;
  readonly tables: PreparedTable[];
  readonly problem: SuppressionProblem;
  readonly primary: ReadonlyMap<number, PrimaryFinding>;
  readonly outcome: ProtectionOutcome;
  /** The attacker's interval of every suppressed cell, after every bound the release gives away. */
  intervals: ReadonlyMap<number, { readonly lo: number; readonly hi: number }>;
}

interface PreparedTable {
  readonly loaded: LoadedTable;
  readonly layout: TableLayout;
  readonly dimensionColumns: readonly string[];
  readonly groups: readonly (readonly string[])[];
  /** Column name → value per layout cell (NaN for NULL). */
  readonly data: Map<string, Float64Array>;
}

/**
 * Disclosure control over every aggregate table of a metrics stage: primary
 * rules per cell and measure, secondary suppression per measure across the
 * tables of one population (linked tables share their common cells), the
 * interval attack as check, optional rounding. Refuses (DataError) when a
 * cell cannot be protected, naming table, cell, column and why.
 */
export async function releaseTables(loaded: readonly LoadedTable[], rules: Rules): Promise<ReleaseResult> {
  const prepared = loaded.map(prepareTable);
  const status = new Map<string, CellStatus[]>(); // `${table}\u0000${column}` → status per cell
  const published = new Map<string, (number | null)[]>();
  const log: DisclosureLogEntry[] = [];
  let lpSolves = 0;
  const boundsRelaxed: string[] = [];
  const attackHigh = new Map<string, Float64Array>();
  const attack = { suppressedCells: 0, exactlyRecoverable: 0, narrowedBelowProtection: 0 };
  const solved: SolvedProblem[] = [];
  const key = (table: string, column: string) => `${table}\u0000${column}`;

  for (const problem of problemsInOrder(prepared)) {
    const { measure, tables } = problem;
    const system = CellSystem.link(tables.map((t) => t.layout));
    const valueColumn = measure.kind === 'count' ? measure.column : measure.sum;
    const value = systemValues(system, tables, valueColumn);
    const upper = new Float64Array(system.cellCount).fill(Number.POSITIVE_INFINITY);
    const primary = new Map<number, PrimaryFinding>();
    const lo = new Float64Array(system.cellCount);
    const hi = new Float64Array(system.cellCount);
    const rounded = measure.kind === 'count' && rules.rounding.method !== 'none';
    for (let cell = 0; cell < system.cellCount; cell++) {
      const [t, local] = system.home[cell]!;
      const table = tables[t]!;
      const v = value[cell]!;
      const get = (column: string) => table.data.get(column)?.[local];
      let finding: PrimaryFinding | undefined;
      if (measure.kind === 'count') {
        // The cell's persons bound the persons behind any count in it: a count is judged on the smaller of the two.
        const persons = get('persons');
        finding = countFinding(v, persons === undefined || Number.isNaN(persons) ? undefined : persons, rules);
        if (measure.rate !== undefined) {
          const denominator = get(measure.rate.denominator) ?? 0;
          finding ??= rateFinding(v, denominator, rules);
          // The attacker bounds a numerator by its denominator: the published value, or the most the
          // suppressed denominator can be by the attack on it.
          const denominatorStatus = status.get(key(table.loaded.spec.name, measure.rate.denominator))?.[local];
          if (denominatorStatus === 'published') upper[cell] = denominator;
          // A rounded denominator is known only within its rounding interval: its top bounds the numerator.
          else if (denominatorStatus === 'rounded') upper[cell] = roundingPreimage(published.get(key(table.loaded.spec.name, measure.rate.denominator))![local]!, rules.rounding)[1];
          else if (denominatorStatus === 'suppressed') upper[cell] = attackHigh.get(key(table.loaded.spec.name, measure.rate.denominator))?.[local] ?? Number.POSITIVE_INFINITY;
        }
        if (rounded) {
          const r = roundCount(v, rules.rounding);
          if (r === undefined) {
            finding ??= { rule: 'rounding.redact', reason: 'redacted before rounding', width: countProtectionLevel(rules), prefer: 'up' };
            lo[cell] = v;
            hi[cell] = v;
          } else {
            [lo[cell], hi[cell]] = roundingPreimage(r, rules.rounding);
          }
        } else {
          lo[cell] = v;
          hi[cell] = v;
        }
      } else {
        finding = magnitudeFinding(get(measure.contributors) ?? 0, v, nz(get(measure.top1)), nz(get(measure.top2)), rules);
        lo[cell] = v;
        hi[cell] = v;
      }
      if (finding !== undefined) primary.set(cell, finding);
    }
    const isDenominator = tables.some((t) => t.loaded.spec.measures.some((m) => m.kind === 'count' && m.rate?.denominator === measure.column));
    const suppressionProblem: SuppressionProblem = { system, value, upper, weight: defaultWeights(value), primary, exactHigh: isDenominator, ...(rounded ? { publishedRange: { lo, hi } } : {}) };
    let outcome;
    try {
      try {
        outcome = await protectCells(suppressionProblem);
      } catch (error) {
        // A published denominator bounds its numerator; in small tables those bounds can leave no room for any
        // pattern. Then protect the numerator as an additive table of its own (as tau-ARGUS and sdcTable do), and say so.
        if (!(error instanceof ProtectionRefusal) || !upper.some((u) => Number.isFinite(u))) throw error;
        // The pattern is found without the bounds, but checked with them: a release an attacker could narrow is still refused.
        boundsRelaxed.push(`${tables[0]!.loaded.spec.population}:${measure.column}`);
        const relaxed = await protectCells({ ...suppressionProblem, upper: new Float64Array(system.cellCount).fill(Number.POSITIVE_INFINITY) });
        outcome = { ...relaxed, intervals: await verifyPattern(suppressionProblem, relaxed.suppressed) };
      }
    } catch (error) {
      if (error instanceof ProtectionRefusal) {
        throw new DataError('RELEASE_REFUSED', `Release refused: ${error.cellName}, column '${measure.column}': ${error.why}. Nothing was written.`, [
          { file: tables[system.home[error.cell]![0]]!.loaded.file, column: measure.column, rule: 'release.protection', message: `${error.cellName}: ${error.why}` },
        ]);
      }
      throw error;
    }
    lpSolves += outcome.lpSolves;
    solved.push({ measure, tables, problem: suppressionProblem, primary, outcome, intervals: outcome.intervals });
    for (const table of tables) {
      const name = table.loaded.spec.name;
      const cellOf = system.cellOf[tables.indexOf(table)]!;
      const statuses: CellStatus[] = [];
      const values: (number | null)[] = [];
      const source = table.data.get(measure.column)!;
      for (let local = 0; local < table.layout.size; local++) {
        const cell = cellOf[local]!;
        if (outcome.suppressed[cell] === 1) {
          statuses.push('suppressed');
          values.push(null);
        } else if (rounded) {
          statuses.push('rounded');
          values.push(roundCount(source[local]!, rules.rounding) ?? null);
        } else {
          statuses.push('published');
          const v = source[local]!;
          values.push(Number.isNaN(v) ? null : v);
        }
      }
      status.set(key(name, measure.column), statuses);
      published.set(key(name, measure.column), values);
      attackHigh.set(
        key(name, measure.column),
        Float64Array.from({ length: table.layout.size }, (_, local) => outcome.intervals.get(cellOf[local]!)?.hi ?? Number.POSITIVE_INFINITY),
      );
    }
  }

  // A denominator is no smaller than its numerator: once the numerators are out, what they give away bounds each
  // suppressed denominator from below. Check every denominator pattern again under those bounds. One pass, not a
  // joint attack on both measures: the numerators were checked against the denominators' maxima before these bounds.
  for (const done of solved) {
    const lower = await numeratorFloors(done, solved, rules, (table, column) => ({ status: status.get(key(table, column))!, values: published.get(key(table, column))! }));
    if (lower === undefined) continue;
    try {
      done.intervals = await verifyPattern({ ...done.problem, lower }, done.outcome.suppressed);
    } catch (error) {
      if (error instanceof ProtectionRefusal) {
        const why = `${error.why}, given what its published numerators reveal (a denominator is at least its numerator)`;
        throw new DataError('RELEASE_REFUSED', `Release refused: ${error.cellName}, column '${done.measure.column}': ${why}. Nothing was written.`, [
          { file: done.tables[done.problem.system.home[error.cell]![0]]!.loaded.file, column: done.measure.column, rule: 'release.protection', message: `${error.cellName}: ${why}` },
        ]);
      }
      throw error;
    }
  }

  for (const { measure, tables, problem, primary, outcome, intervals } of solved) {
    const { system } = problem;
    const secondary = new Set(outcome.secondary);
    for (const [cell, interval] of intervals) {
      attack.suppressedCells++;
      const need = primary.get(cell)?.width ?? 0;
      // A cell that needs no protection (a mean without contributors) may well be known exactly: it hides nothing.
      if (interval.hi - interval.lo < 1e-6 && !(primary.has(cell) && need === 0)) attack.exactlyRecoverable++;
      if (interval.hi - interval.lo + 1e-6 < need) attack.narrowedBelowProtection++;
    }
    tables.forEach((table, t) => {
      const cellOf = system.cellOf[t]!;
      for (let local = 0; local < table.layout.size; local++) {
        const cell = cellOf[local]!;
        if (outcome.suppressed[cell] !== 1) continue;
        const finding = primary.get(cell);
        const interval = intervals.get(cell);
        log.push({
          table: table.loaded.spec.name,
          cell: table.layout.describe(local),
          column: measure.column,
          suppression: finding !== undefined && !secondary.has(cell) ? 'primary' : 'secondary',
          rule: finding?.rule ?? 'secondary',
          reason: finding?.reason ?? 'protects a primary cell against recomputation from published cells',
          intervalLow: interval?.lo ?? null,
          intervalHigh: interval === undefined || !Number.isFinite(interval.hi) ? null : interval.hi,
          protectionLevel: finding?.width ?? null,
        });
      }
    });
  }

  const tablesOut: ReleasedTable[] = prepared.map((table) => {
    const spec = table.loaded.spec;
    return {
      spec,
      layout: table.layout,
      dimensionColumns: table.dimensionColumns,
      dimensionValues: Array.from({ length: table.layout.size }, (_, local) => dimensionValuesInOrder(table, local)),
      columns: spec.measures.map((m) => ({
        name: m.column,
        kind: m.kind,
        description: m.description ?? '',
        values: published.get(key(spec.name, m.column))!,
        status: status.get(key(spec.name, m.column))!,
      })),
    };
  });
  const loss: Record<string, TableLoss> = {};
  for (const table of tablesOut) loss[table.spec.name] = lossOf(table, prepared.find((p) => p.loaded.spec.name === table.spec.name)!, log);
  return { tables: tablesOut, log, loss, lpSolves, attack, boundsRelaxed };
}

/**
 * What the released numerators of a count tell of its suppressed cells from
 * below, per system cell: a published numerator's value, the bottom of a
 * rounded one's interval, the attacker's exact minimum of a suppressed one.
 * Undefined when nothing is above 0 (not a denominator, or nothing to learn).
 */
async function numeratorFloors(
  done: SolvedProblem,
  solved: readonly SolvedProblem[],
  rules: Rules,
  released: (table: string, column: string) => { status: readonly CellStatus[]; values: readonly (number | null)[] },
): Promise<Float64Array | undefined> {
  if (done.measure.kind !== 'count') return undefined;
  const { system, value } = done.problem;
  const lower = new Float64Array(system.cellCount);
  let any = false;
  const raise = (cell: number, known: number): void => {
    // Never above the cell itself: a numerator larger than its denominator is bad data, not knowledge.
    const floor = Math.min(known, value[cell]!);
    if (floor > lower[cell]!) {
      lower[cell] = floor;
      any = true;
    }
  };
  const population = done.tables[0]!.loaded.spec.population;
  for (const numerator of solved) {
    if (numerator.measure.kind !== 'count' || numerator.measure.rate?.denominator !== done.measure.column || numerator.tables[0]!.loaded.spec.population !== population) continue;
    // Suppressed numerator cells above a suppressed denominator cell: their exact minimum, solved below.
    const hidden = new Map<number, number[]>();
    numerator.tables.forEach((table, n) => {
      const d = done.tables.indexOf(table);
      if (d === -1) return;
      const { status, values } = released(table.loaded.spec.name, numerator.measure.column);
      for (let local = 0; local < table.layout.size; local++) {
        const cell = system.cellOf[d]![local]!;
        if (done.outcome.suppressed[cell] !== 1) continue;
        const shown = values[local];
        if (status[local] === 'published') raise(cell, shown ?? 0);
        else if (status[local] === 'rounded' && shown !== null && shown !== undefined) raise(cell, roundingPreimage(shown, rules.rounding)[0]);
        else if (status[local] === 'suppressed') {
          const own = numerator.problem.system.cellOf[n]![local]!;
          // A table the attacker cannot rule out already put it at 0: its minimum is 0, nothing to learn.
          const seen = numerator.intervals.get(own);
          if (seen !== undefined && seen.lo <= 0) continue;
          const above = hidden.get(own);
          if (above === undefined) hidden.set(own, [cell]);
          else above.push(cell);
        }
      }
    });
    if (hidden.size === 0) continue;
    const exact = await attackIntervals(numerator.problem, numerator.outcome.suppressed, new Set(hidden.keys()), { exactLow: true });
    for (const [own, cells] of hidden) for (const cell of cells) raise(cell, exact.get(own)?.lo ?? 0);
  }
  return any ? lower : undefined;
}

function nz(v: number | undefined): number {
  return v === undefined || Number.isNaN(v) ? 0 : v;
}

function firstCount(spec: AggregateTableSpec): CountMeasure | undefined {
  return spec.measures.find((m): m is CountMeasure => m.kind === 'count' && m.rate === undefined);
}

/** Dimension groups: each hierarchy (chains merged) is one group, placed where its first column stands. */
export function dimensionGroups(dimensions: readonly string[], hierarchies: readonly (readonly string[])[]): string[][] {
  const chains: string[][] = [];
  for (const h of hierarchies) {
    const joinAt = chains.find((c) => c[c.length - 1] === h[0]);
    if (joinAt !== undefined) joinAt.push(...h.slice(1));
    else chains.push([...h]);
  }
  const groups: string[][] = [];
  const placed = new Set<string>();
  for (const d of dimensions) {
    if (placed.has(d)) continue;
    const chain = chains.find((c) => c.includes(d));
    const group = chain ?? [d];
    group.forEach((c) => placed.add(c));
    groups.push(group);
  }
  return groups;
}

function prepareTable(loaded: LoadedTable): PreparedTable {
  const spec = loaded.spec;
  for (const h of spec.hierarchies) {
    for (const c of h) {
      if (!spec.dimensions.includes(c)) throw DataError.single('RELEASE_CATALOGUE', { file: loaded.file, column: c, rule: 'catalogue.hierarchy', message: `hierarchy column '${c}' is not among the dimensions of table '${spec.name}'` });
    }
  }
  const groups = dimensionGroups(spec.dimensions, spec.hierarchies);
  const builders = groups.map((g) => new DimensionBuilder(g));
  loaded.rows.forEach((row, i) => {
    groups.forEach((group, d) => {
      const values = group.map((c) => {
        const v = row[c];
        if (v === null || v === undefined) throw DataError.single('RELEASE_TABLE', { file: loaded.file, row: i + 1, column: c, rule: 'dimension.null', message: 'dimension value is NULL (expected a value or Total)' });
        return String(v);
      });
      try {
        builders[d]!.add(values);
      } catch (error) {
        if (error instanceof HierarchyShapeError) {
          throw DataError.single('RELEASE_TABLE', { file: loaded.file, row: i + 1, column: group.join('>'), rule: 'dimension.hierarchy', message: `${error.message}; a hierarchy row must be (parent, child), (parent, Total) or (Total, Total)` });
        }
        throw error;
      }
    });
  });
  const dimensions = builders.map((b) => b.build());
  const layout = new TableLayout(spec.name, dimensions);
  // Codes were renumbered by build(); map every row again by its values.
  const codeIndex = dimensions.map((dimension) => new Map(dimension.codes.map((code, i) => [code.values.join('\u0000'), i])));
  const columnsNeeded = new Set<string>(['persons']);
  for (const m of spec.measures) {
    columnsNeeded.add(m.column);
    if (m.kind === 'count' && m.rate !== undefined) columnsNeeded.add(m.rate.denominator);
    if (m.kind === 'mean') [m.contributors, m.sum, m.top1, m.top2].forEach((c) => columnsNeeded.add(c));
  }
  const data = new Map<string, Float64Array>();
  const meanColumns = new Set(spec.measures.filter((m) => m.kind === 'mean').map((m) => m.column));
  for (const c of columnsNeeded) {
    if (c === 'persons' && !loaded.rows.some((r) => 'persons' in r)) continue;
    if (!loaded.rows.every((r) => c in r) && loaded.rows.length > 0) {
      throw DataError.single('RELEASE_TABLE', { file: loaded.file, column: c, rule: 'table.column', message: `column '${c}' named in tables.json is missing` });
    }
    // Cells absent from the file are empty cells: 0 for counts and sums, NULL for means.
    data.set(c, new Float64Array(layout.size).fill(meanColumns.has(c) || c.endsWith('top1') || c.endsWith('top2') ? Number.NaN : 0));
  }
  const seen = new Uint8Array(layout.size);
  loaded.rows.forEach((row, i) => {
    const codes = groups.map((group, d) => codeIndex[d]!.get(group.map((c) => String(row[c])).join('\u0000'))!);
    const local = layout.index(codes);
    if (seen[local] === 1) throw DataError.single('RELEASE_TABLE', { file: loaded.file, row: i + 1, rule: 'table.duplicate', message: `duplicate row for cell (${layout.describe(local)})` });
    seen[local] = 1;
    for (const [c, values] of data) {
      const v = row[c];
      values[local] = v === null || v === undefined ? Number.NaN : Number(v);
    }
  });
  return { loaded, layout, dimensionColumns: spec.dimensions, groups, data };
}

function dimensionValuesInOrder(table: PreparedTable, local: number): string[] {
  const byColumn = new Map<string, string>();
  const values = table.layout.valuesOf(local);
  table.layout.columns.forEach((c, i) => byColumn.set(c, values[i]!));
  return table.dimensionColumns.map((c) => byColumn.get(c) ?? TOTAL);
}

interface Problem {
  readonly measure: CountMeasure | MeanMeasure;
  readonly tables: PreparedTable[];
}

/** One problem per (population, measure); denominators before the shares that need their published values. */
function problemsInOrder(prepared: readonly PreparedTable[]): Problem[] {
  const byKey = new Map<string, Problem>();
  for (const table of prepared) {
    for (const measure of table.loaded.spec.measures) {
      const k = `${table.loaded.spec.population}\u0000${measure.column}`;
      const existing = byKey.get(k);
      if (existing === undefined) byKey.set(k, { measure, tables: [table] });
      else existing.tables.push(table);
    }
  }
  const problems = [...byKey.values()];
  const done = new Set<string>();
  const ordered: Problem[] = [];
  while (ordered.length < problems.length) {
    const before = ordered.length;
    for (const p of problems) {
      const name = `${p.tables[0]!.loaded.spec.population}\u0000${p.measure.column}`;
      if (done.has(name)) continue;
      const dependency = p.measure.kind === 'count' && p.measure.rate !== undefined ? `${p.tables[0]!.loaded.spec.population}\u0000${p.measure.rate.denominator}` : undefined;
      if (dependency !== undefined && byKey.has(dependency) && !done.has(dependency)) continue;
      done.add(name);
      ordered.push(p);
    }
    if (ordered.length === before) throw new DataError('RELEASE_CATALOGUE', 'tables.json has a cycle of rate denominators');
  }
  return ordered;
}

function systemValues(system: CellSystem, tables: readonly PreparedTable[], column: string): Float64Array {
  const value = new Float64Array(system.cellCount).fill(Number.NaN);
  tables.forEach((table, t) => {
    const source = table.data.get(column)!;
    const cellOf = system.cellOf[t]!;
    for (let local = 0; local < table.layout.size; local++) {
      const cell = cellOf[local]!;
      const v = Number.isNaN(source[local]!) ? 0 : source[local]!;
      const existing = value[cell]!;
      if (Number.isNaN(existing)) value[cell] = v;
      else if (Math.abs(existing - v) > 1e-6 * Math.max(1, Math.abs(v))) {
        const [ht, hl] = system.home[cell]!;
        throw DataError.single('RELEASE_TABLE', {
          file: table.loaded.file,
          column,
          rule: 'table.linked',
          message: `cell (${table.layout.describe(local)}) is ${v} but the same cell of table '${tables[ht]!.loaded.spec.name}' (${tables[ht]!.layout.describe(hl)}) is ${existing}; tables of one population must agree on shared cells`,
        });
      }
      if (v < 0) throw DataError.single('RELEASE_TABLE', { file: table.loaded.file, column, rule: 'table.negative', message: `cell (${table.layout.describe(local)}) is negative (${v})` });
    }
  });
  const broken = system.firstNonAdditive(value);
  if (broken !== undefined) {
    const parent = system.relationParent(broken.relation);
    const [t] = system.home[parent]!;
    throw DataError.single('RELEASE_TABLE', {
      file: tables[t]!.loaded.file,
      column,
      rule: 'table.additivity',
      message: `${system.describe(parent)} differs by ${broken.excess} from the sum of the cells below it; margins must add up`,
    });
  }
  return value;
}

function lossOf(table: ReleasedTable, prepared: PreparedTable, log: readonly DisclosureLogEntry[]): TableLoss {
  const name = table.spec.name;
  let suppressedValues = 0;
  for (const column of table.columns) for (const s of column.status) if (s === 'suppressed') suppressedValues++;
  const entries = log.filter((e) => e.table === name);
  const population = firstCount(table.spec);
  let personsSuppressed = 0;
  let personsTotal = 0;
  if (population !== undefined) {
    const column = table.columns.find((c) => c.name === population.column)!;
    const persons = prepared.data.get('persons') ?? prepared.data.get(population.column)!;
    for (let local = 0; local < table.layout.size; local++) {
      if (table.layout.valuesOf(local).includes(TOTAL)) continue;
      const p = persons[local]!;
      personsTotal += p;
      if (column.status[local] === 'suppressed') personsSuppressed += p;
    }
  }
  return {
    cells: table.layout.size,
    suppressedValues,
    primaryValues: entries.filter((e) => e.suppression === 'primary').length,
    secondaryValues: entries.filter((e) => e.suppression === 'secondary').length,
    personsSuppressed,
    personsTotal,
  };
}
