import { DataError } from '../core/errors.js';
import { countProtectionLevel, type Rules } from '../../schemas/rules.js';
import {
  relationsOf,
  type AggregateTableSpec,
  type CountMeasure,
  type MeanMeasure,
  type MeasureRelation,
} from './metricsCatalogue.js';
import { MEASURE_DIMENSION, MeasureSystem } from './measureSystem.js';
import { TableLayout } from './sdc/cellSystem.js';
import { DimensionBuilder, HierarchyShapeError, TOTAL } from './sdc/dimension.js';
import { countFinding, magnitudeFinding, rateFinding } from './sdc/primaryRules.js';
import { defaultWeights, type SuppressionProblem } from './sdc/problem.js';
import {
  protectCells,
  ProtectionRefusal,
  verifyPattern,
  type PrimaryFinding,
  type ProtectionOutcome,
} from './sdc/protect.js';
import { attackIntervals } from './sdc/attack.js';
import { simplexIterations } from './sdc/solver.js';
import { roundCount, roundingPreimage } from './sdc/rounding.js';
import { secondsSince } from '../core/elapsed.js';
import { log as logger } from '../core/log.js';

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
  readonly attack: {
    readonly suppressedCells: number;
    readonly exactlyRecoverable: number;
    readonly narrowedBelowProtection: number;
  };
  /** Measures (population:column) protected without their denominator's bound, because no pattern existed with it. */
  readonly boundsRelaxed: readonly string[];
}

/** One problem's protected pattern, kept until a later numerator has told what it reveals of a denominator in it. */
interface SolvedProblem {
  readonly measures: readonly (CountMeasure | MeanMeasure)[];
  readonly tables: PreparedTable[];
  readonly joint: MeasureSystem;
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

  for (const { measures, tables } of problemsInOrder(prepared)) {
    const inProblem = new Map(measures.map((m) => [m.column, m]));
    const joint = MeasureSystem.build(
      tables.map((t) => ({
        layout: t.layout,
        measures: t.loaded.spec.measures.filter((m) => inProblem.has(m.column)).map((m) => m.column),
        relations: relationsOf(t.loaded.spec).filter((r) => inProblem.has(r.total)),
      })),
    );
    const { system } = joint;
    const value = systemValues(joint, tables, (column) => {
      const m = inProblem.get(column)!;
      return m.kind === 'count' ? m.column : m.sum;
    });
    const upper = new Float64Array(system.cellCount).fill(Number.POSITIVE_INFINITY);
    const primary = new Map<number, PrimaryFinding>();
    const lo = new Float64Array(system.cellCount);
    const hi = new Float64Array(system.cellCount);
    // Relations tie counts only, so a problem is all counts or one mean.
    const rounded = measures.every((m) => m.kind === 'count') && rules.rounding.method !== 'none';
    for (let cell = 0; cell < system.cellCount; cell++) {
      const { table: t, column, local } = joint.placement(cell);
      const measure = inProblem.get(column)!;
      const table = tables[t]!;
      const v = value[cell]!;
      const get = (c: string) => table.data.get(c)?.[local];
      let finding: PrimaryFinding | undefined;
      if (measure.kind === 'count') {
        // The cell's persons bound the persons behind any count in it: a count is judged on the smaller of the two.
        const persons = get('persons');
        finding = countFinding(v, persons === undefined || Number.isNaN(persons) ? undefined : persons, rules);
        if (measure.rate !== undefined) {
          const denominator = get(measure.rate.denominator) ?? 0;
          finding ??= rateFinding(v, denominator, rules);
          // The attacker bounds a numerator by its denominator: the published value, or for a suppressed one
          // the highest value the attack saw it take in a table consistent with the release. That is at most its
          // true maximum, so the numerator is protected against an attacker who knows a little more than the
          // real one, never less; solving every maximum exactly cost more than it changed (on the tiny and small
          // demos the same suppressions within 0.2%). A denominator in this problem is a total above the
          // numerator (checked in problemsInOrder): its relation already bounds it.
          const denominatorStatus = status.get(key(table.loaded.spec.name, measure.rate.denominator))?.[local];
          if (denominatorStatus === 'published') upper[cell] = denominator;
          // A rounded denominator is known only within its rounding interval: its top bounds the numerator.
          else if (denominatorStatus === 'rounded')
            upper[cell] = roundingPreimage(
              published.get(key(table.loaded.spec.name, measure.rate.denominator))![local]!,
              rules.rounding,
            )[1];
          else if (denominatorStatus === 'suppressed')
            upper[cell] =
              attackHigh.get(key(table.loaded.spec.name, measure.rate.denominator))?.[local] ??
              Number.POSITIVE_INFINITY;
        }
        if (rounded) {
          const r = roundCount(v, rules.rounding);
          if (r === undefined) {
            finding ??= {
              rule: 'rounding.redact',
              reason: 'redacted before rounding',
              width: countProtectionLevel(rules),
              prefer: 'up',
            };
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
        finding = magnitudeFinding(
          get(measure.contributors) ?? 0,
          v,
          nz(get(measure.top1)),
          nz(get(measure.top2)),
          rules,
        );
        lo[cell] = v;
        hi[cell] = v;
      }
      if (finding !== undefined) primary.set(cell, finding);
    }
    boundPartsByTotals(joint, upper);
    const suppressionProblem: SuppressionProblem = {
      system,
      value,
      upper,
      weight: relationWeights(joint, tables, value),
      primary,
      ...(rounded ? { publishedRange: { lo, hi } } : {}),
    };
    const columnsName = measures.map((m) => m.column).join('+');
    const problemStarted = process.hrtime.bigint();
    const iterationsBefore = simplexIterations();
    let outcome: ProtectionOutcome;
    try {
      try {
        outcome = await protectCells(suppressionProblem);
      } catch (error) {
        // A published denominator bounds its numerator; in small tables those bounds can leave no room for any
        // pattern. Then protect the numerator as an additive table of its own (as tau-ARGUS and sdcTable do), and say so.
        if (!(error instanceof ProtectionRefusal) || !upper.some((u) => Number.isFinite(u))) throw error;
        // The pattern is found without the bounds, but checked with them: a release an attacker could narrow is still refused.
        boundsRelaxed.push(`${tables[0]!.loaded.spec.population}:${columnsName}`);
        const relaxed = await protectCells({
          ...suppressionProblem,
          upper: new Float64Array(system.cellCount).fill(Number.POSITIVE_INFINITY),
        });
        outcome = {
          ...relaxed,
          intervals: await verifyPattern(suppressionProblem, relaxed.suppressed, relaxed.witnesses),
        };
      }
    } catch (error) {
      if (error instanceof ProtectionRefusal) throw refusal(joint, tables, error, error.why);
      throw error;
    }
    lpSolves += outcome.lpSolves;
    logger().debug(
      {
        population: tables[0]!.loaded.spec.population,
        measures: columnsName,
        cells: system.cellCount,
        primary: primary.size,
        secondary: outcome.secondary.length,
        lpSolves: outcome.lpSolves,
        simplexIterations: simplexIterations() - iterationsBefore,
        seconds: secondsSince(problemStarted),
      },
      'release problem protected',
    );
    solved.push({
      measures,
      tables,
      joint,
      problem: suppressionProblem,
      primary,
      outcome,
      intervals: outcome.intervals,
    });
    tables.forEach((table, t) => {
      const name = table.loaded.spec.name;
      for (const measure of measures) {
        const cellOf = joint.cellsOf(t, measure.column);
        if (cellOf === undefined) continue;
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
          Float64Array.from(
            { length: table.layout.size },
            (_, local) => outcome.intervals.get(cellOf[local]!)?.hi ?? Number.POSITIVE_INFINITY,
          ),
        );
      }
    });
  }

  // A denominator is no smaller than its numerator: once the numerators are out, what they give away bounds each
  // suppressed denominator from below. Check every denominator pattern again under those bounds. One pass, not a
  // joint attack on both measures: the numerators were checked against the denominators' maxima before these bounds.
  for (const done of solved) {
    const lower = await numeratorFloors(done, solved, rules, (table, column) => ({
      status: status.get(key(table, column))!,
      values: published.get(key(table, column))!,
    }));
    if (lower === undefined) continue;
    try {
      done.intervals = await verifyPattern({ ...done.problem, lower }, done.outcome.suppressed, done.outcome.witnesses);
    } catch (error) {
      if (error instanceof ProtectionRefusal)
        throw refusal(
          done.joint,
          done.tables,
          error,
          `${error.why}, given what its published numerators reveal (a denominator is at least its numerator)`,
        );
      throw error;
    }
  }

  for (const { measures, tables, joint, primary, outcome, intervals } of solved) {
    const secondary = new Set(outcome.secondary);
    for (const [cell, interval] of intervals) {
      attack.suppressedCells++;
      const need = primary.get(cell)?.width ?? 0;
      // A cell that needs no protection (a mean without contributors) may well be known exactly: it hides nothing.
      if (interval.hi - interval.lo < 1e-6 && !(primary.has(cell) && need === 0)) attack.exactlyRecoverable++;
      if (interval.hi - interval.lo + 1e-6 < need) attack.narrowedBelowProtection++;
    }
    tables.forEach((table, t) => {
      for (const measure of measures) {
        const cellOf = joint.cellsOf(t, measure.column);
        if (cellOf === undefined) continue;
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
  for (const table of tablesOut)
    loss[table.spec.name] = lossOf(table, prepared.find((p) => p.loaded.spec.name === table.spec.name)!, log);
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
  for (const denominator of done.measures) {
    if (denominator.kind !== 'count') continue;
    for (const numerator of solved) {
      // A numerator in the same problem sits below its denominator in a relation: the joint attack already knew.
      if (numerator === done || numerator.tables[0]!.loaded.spec.population !== population) continue;
      for (const measure of numerator.measures) {
        if (measure.kind !== 'count' || measure.rate?.denominator !== denominator.column) continue;
        // Suppressed numerator cells above a suppressed denominator cell: their exact minimum, solved below.
        const hidden = new Map<number, number[]>();
        numerator.tables.forEach((table, n) => {
          const d = done.tables.indexOf(table);
          if (d === -1) return;
          const denominatorCells = done.joint.cellsOf(d, denominator.column);
          const numeratorCells = numerator.joint.cellsOf(n, measure.column);
          if (denominatorCells === undefined || numeratorCells === undefined) return;
          const { status, values } = released(table.loaded.spec.name, measure.column);
          for (let local = 0; local < table.layout.size; local++) {
            const cell = denominatorCells[local]!;
            if (done.outcome.suppressed[cell] !== 1) continue;
            const shown = values[local];
            if (status[local] === 'published') raise(cell, shown ?? 0);
            else if (status[local] === 'rounded' && shown !== null && shown !== undefined)
              raise(cell, roundingPreimage(shown, rules.rounding)[0]);
            else if (status[local] === 'suppressed') {
              const own = numeratorCells[local]!;
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
        const exact = await attackIntervals(numerator.problem, numerator.outcome.suppressed, new Set(hidden.keys()), {
          exactLow: true,
        });
        for (const [own, cells] of hidden) for (const cell of cells) raise(cell, exact.get(own)?.lo ?? 0);
      }
    }
  }
  return any ? lower : undefined;
}

/**
 * What relations let the attacker infer from the denominators' bounds: a part
 * is at most its total (first_wage_below ≤ to_work ≤ spells), and a total at
 * most the sum of its parts' bounds. Implied by the equations, so the attack
 * is no stronger; but secondary suppression plans each cell's move from its
 * own bounds, and needs to know that a part cannot move up further than its
 * total can (then it moves part up and part down).
 */
function boundPartsByTotals(joint: MeasureSystem, upper: Float64Array): void {
  const relations = [...joint.rowRelations()];
  if (relations.length === 0) return;
  // A bound travels at most one relation per pass; chains of relations are short.
  for (let pass = 0; pass < 4; pass++) {
    let changed = false;
    for (const { total, parts } of relations) {
      let sum = 0;
      for (const part of parts) {
        if (upper[total]! < upper[part]!) {
          upper[part] = upper[total]!;
          changed = true;
        }
        sum += upper[part]!;
      }
      if (sum < upper[total]!) {
        upper[total] = sum;
        changed = true;
      }
    }
    if (!changed) break;
  }
}

/**
 * What suppressing a cell costs: its value + 1, and for the total of a
 * relation also what its parts weigh. A small part is protected by hiding a
 * second count of its row; hiding the other part rather than the total keeps
 * the headline count (and the denominator every share divides by) published,
 * where the two would otherwise cost about the same.
 */
function relationWeights(joint: MeasureSystem, tables: readonly PreparedTable[], value: Float64Array): Float64Array {
  const weight = defaultWeights(value);
  for (let cell = 0; cell < weight.length; cell++) {
    const { table, column, local } = joint.placement(cell);
    for (const relation of relationsOf(tables[table]!.loaded.spec)) {
      if (relation.total !== column) continue;
      for (const part of relation.parts) {
        const partCells = joint.cellsOf(table, part);
        if (partCells !== undefined) weight[cell]! += Math.abs(value[partCells[local]!]!) + 1;
      }
    }
  }
  return weight;
}

/** A pattern no table can give: refuse the whole release, naming the table, cell and measure. */
function refusal(
  joint: MeasureSystem,
  tables: readonly PreparedTable[],
  error: ProtectionRefusal,
  why: string,
): DataError {
  const { table, column } = joint.placement(error.cell);
  return new DataError(
    'RELEASE_REFUSED',
    `Release refused: ${error.cellName}, column '${column}': ${why}. Nothing was written.`,
    [{ file: tables[table]!.loaded.file, column, rule: 'release.protection', message: `${error.cellName}: ${why}` }],
  );
}

function nz(v: number | undefined): number {
  return v === undefined || Number.isNaN(v) ? 0 : v;
}

function firstCount(spec: AggregateTableSpec): CountMeasure | undefined {
  return spec.measures.find((m): m is CountMeasure => m.kind === 'count' && m.rate === undefined);
}

/** Dimension groups: each hierarchy (chains merged) is one group, placed where its first column stands. */
export function dimensionGroups(
  dimensions: readonly string[],
  hierarchies: readonly (readonly string[])[],
): string[][] {
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
      if (!spec.dimensions.includes(c))
        throw DataError.single('RELEASE_CATALOGUE', {
          file: loaded.file,
          column: c,
          rule: 'catalogue.hierarchy',
          message: `hierarchy column '${c}' is not among the dimensions of table '${spec.name}'`,
        });
    }
  }
  checkRelations(loaded);
  const groups = dimensionGroups(spec.dimensions, spec.hierarchies);
  const builders = groups.map((g) => new DimensionBuilder(g));
  loaded.rows.forEach((row, i) => {
    groups.forEach((group, d) => {
      const values = group.map((c) => {
        const v = row[c];
        if (v === null || v === undefined)
          throw DataError.single('RELEASE_TABLE', {
            file: loaded.file,
            row: i + 1,
            column: c,
            rule: 'dimension.null',
            message: 'dimension value is NULL (expected a value or Total)',
          });
        return String(v);
      });
      try {
        builders[d]!.add(values);
      } catch (error) {
        if (error instanceof HierarchyShapeError) {
          throw DataError.single('RELEASE_TABLE', {
            file: loaded.file,
            row: i + 1,
            column: group.join('>'),
            rule: 'dimension.hierarchy',
            message: `${error.message}; a hierarchy row must be (parent, child), (parent, Total) or (Total, Total)`,
          });
        }
        throw error;
      }
    });
  });
  const dimensions = builders.map((b) => b.build());
  const layout = new TableLayout(spec.name, dimensions);
  // Codes were renumbered by build(); map every row again by its values.
  const codeIndex = dimensions.map(
    (dimension) => new Map(dimension.codes.map((code, i) => [code.values.join('\u0000'), i])),
  );
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
      throw DataError.single('RELEASE_TABLE', {
        file: loaded.file,
        column: c,
        rule: 'table.column',
        message: `column '${c}' named in tables.json is missing`,
      });
    }
    // Cells absent from the file are empty cells: 0 for counts and sums, NULL for means.
    data.set(
      c,
      new Float64Array(layout.size).fill(
        meanColumns.has(c) || c.endsWith('top1') || c.endsWith('top2') ? Number.NaN : 0,
      ),
    );
  }
  const seen = new Uint8Array(layout.size);
  loaded.rows.forEach((row, i) => {
    const codes = groups.map((group, d) => codeIndex[d]!.get(group.map((c) => String(row[c])).join('\u0000'))!);
    const local = layout.index(codes);
    if (seen[local] === 1)
      throw DataError.single('RELEASE_TABLE', {
        file: loaded.file,
        row: i + 1,
        rule: 'table.duplicate',
        message: `duplicate row for cell (${layout.describe(local)})`,
      });
    seen[local] = 1;
    for (const [c, values] of data) {
      const v = row[c];
      values[local] = v === null || v === undefined ? Number.NaN : Number(v);
    }
  });
  return { loaded, layout, dimensionColumns: spec.dimensions, groups, data };
}

/** Relations tie counts of the table itself, each part named once and never its own total. */
function checkRelations(loaded: LoadedTable): void {
  const spec = loaded.spec;
  const relations: readonly MeasureRelation[] = relationsOf(spec);
  if (relations.length === 0) return;
  const refuse = (column: string, message: string) =>
    DataError.single('RELEASE_CATALOGUE', { file: loaded.file, column, rule: 'catalogue.relations', message });
  if (spec.dimensions.includes(MEASURE_DIMENSION))
    throw refuse(
      MEASURE_DIMENSION,
      `table '${spec.name}' has relations and a dimension named '${MEASURE_DIMENSION}', the name release gives the relations' own dimension; rename the dimension`,
    );
  for (const r of relations) {
    for (const c of [r.total, ...r.parts]) {
      if (!spec.measures.some((m) => m.column === c && m.kind === 'count'))
        throw refuse(
          c,
          `relation ${r.total} = ${r.parts.join(' + ')} of table '${spec.name}' names '${c}', which is not a count measure of the table`,
        );
    }
    if (new Set(r.parts).size !== r.parts.length || r.parts.includes(r.total))
      throw refuse(
        r.total,
        `relation ${r.total} = ${r.parts.join(' + ')} of table '${spec.name}' names a measure twice`,
      );
  }
}

function dimensionValuesInOrder(table: PreparedTable, local: number): string[] {
  const byColumn = new Map<string, string>();
  const values = table.layout.valuesOf(local);
  table.layout.columns.forEach((c, i) => byColumn.set(c, values[i]!));
  return table.dimensionColumns.map((c) => byColumn.get(c) ?? TOTAL);
}

interface Problem {
  /** One measure, or the counts that relations tie together (all of them protected as one system). */
  readonly measures: (CountMeasure | MeanMeasure)[];
  /** The tables of the population that carry at least one of them. */
  readonly tables: PreparedTable[];
}

/**
 * One problem per population and set of measures tied by relations (a lone
 * measure is a set of its own); denominators before the shares that need
 * their published values.
 */
function problemsInOrder(prepared: readonly PreparedTable[]): Problem[] {
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
      const waits = p.measures.some((m) => {
        if (m.kind !== 'count' || m.rate === undefined) return false;
        const dependency = find(named(population, m.rate.denominator));
        return dependency !== name && byKey.has(dependency) && !done.has(dependency);
      });
      if (waits) continue;
      done.add(name);
      ordered.push(p);
    }
    if (ordered.length === before)
      throw new DataError('RELEASE_CATALOGUE', 'tables.json has a cycle of rate denominators');
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

function systemValues(
  joint: MeasureSystem,
  tables: readonly PreparedTable[],
  valueColumn: (measure: string) => string,
): Float64Array {
  const { system } = joint;
  const value = new Float64Array(system.cellCount).fill(Number.NaN);
  tables.forEach((table, t) => {
    for (const measure of table.loaded.spec.measures) {
      const cellOf = joint.cellsOf(t, measure.column);
      if (cellOf === undefined) continue;
      const column = valueColumn(measure.column);
      const source = table.data.get(column)!;
      for (let local = 0; local < table.layout.size; local++) {
        const cell = cellOf[local]!;
        const v = Number.isNaN(source[local]!) ? 0 : source[local]!;
        const existing = value[cell]!;
        if (Number.isNaN(existing)) value[cell] = v;
        else if (Math.abs(existing - v) > 1e-6 * Math.max(1, Math.abs(v))) {
          const home = joint.placement(cell);
          throw DataError.single('RELEASE_TABLE', {
            file: table.loaded.file,
            column,
            rule: 'table.linked',
            message: `cell (${table.layout.describe(local)}) is ${v} but the same cell of table '${tables[home.table]!.loaded.spec.name}' (${tables[home.table]!.layout.describe(home.local)}) is ${existing}; tables of one population must agree on shared cells`,
          });
        }
        if (v < 0)
          throw DataError.single('RELEASE_TABLE', {
            file: table.loaded.file,
            column,
            rule: 'table.negative',
            message: `cell (${table.layout.describe(local)}) is negative (${v})`,
          });
      }
    }
  });
  const broken = system.firstNonAdditive(value);
  if (broken !== undefined) {
    const parent = system.relationParent(broken.relation);
    const home = joint.placement(parent);
    const table = tables[home.table]!;
    throw DataError.single('RELEASE_TABLE', {
      file: table.loaded.file,
      column: valueColumn(home.column),
      rule: 'table.additivity',
      message: `${system.describe(parent)} differs by ${broken.excess} from the sum of the cells below it; margins and declared relations (total = sum of parts) must add up`,
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
