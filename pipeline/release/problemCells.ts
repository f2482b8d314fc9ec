import { countProtectionLevel, type Rules } from '../../schemas/rules.js';
import { type CountMeasure, type MeanMeasure, relationsOf } from '../../schemas/tables.js';
import { DataError } from '../core/errors.js';
import { impliedCells, type SumRelation } from '../core/impliedValues.js';
import { MeasureSystem } from './measureSystem.js';
import type { StructuralCell } from '../../schemas/tables.js';
import type { PreparedTable } from './preparedTable.js';
import type { CellStatus } from './releasedTable.js';
import type { Interval } from './sdc/attack.js';
import { countFinding, magnitudeFinding, zeroIsSensitive } from './sdc/primaryRules.js';
import type { SuppressionProblem } from './sdc/problem.js';
import type { PrimaryFinding } from './sdc/protect.js';
import { roundCount, roundingPreimage } from './sdc/rounding.js';
import { suppressionCost } from './sdc/suppressionCost.js';

/** What earlier problems released, as later ones need it: statuses, values and the attacker's intervals. */
export interface ReleasedSoFar {
  status(table: string, column: string): readonly CellStatus[] | undefined;
  values(table: string, column: string): readonly (number | null)[] | undefined;
  /** The attacker's interval of each suppressed cell (undefined for a cell not suppressed). */
  intervals(table: string, column: string): readonly (Interval | undefined)[] | undefined;
}

/** A cell fixed at the value of a column solved in an earlier problem, and where that column's cell is. */
export interface CopiedCell {
  readonly table: string;
  readonly column: string;
  readonly local: number;
  /** Whether the cell it equals was suppressed: then this one is too, with that cell's protection. */
  readonly hidden: boolean;
}

/** One problem's cells judged: the system, the primary cells, what may not move, and what the attacker knows. */
export interface JudgedProblem {
  readonly joint: MeasureSystem;
  readonly problem: SuppressionProblem;
  readonly primary: ReadonlyMap<number, PrimaryFinding>;
  /** Counts are released rounded (rules.rounding), published cells within their rounding interval. */
  readonly rounded: boolean;
  /** System cells released as `empty`: means without contributors. */
  readonly empty: ReadonlySet<number>;
  /** System cells that equal a cell of an earlier problem (a structural value). */
  readonly copies: ReadonlyMap<number, CopiedCell>;
  /** Zero parts of a primary zero total: zeros the pattern may use, since together they would give the total away. */
  readonly zeroParts: ReadonlySet<number>;
}

/**
 * Judge every cell of one problem by the primary rules (primaryRules.ts) and
 * gather what the attacker knows of it before any suppression: a share's
 * numerator is at most its denominator (published, the top of a rounded
 * one's interval, or the highest value the attack let a suppressed one take);
 * a known zero and a cell its row's dimensions fix cannot hide anything, so
 * they may not be suppressed; a cell fixed at the value of a suppressed cell
 * of an earlier problem is suppressed with it and lies in that cell's
 * interval. Relations tie counts only, so a problem is all counts or one mean.
 */
export function judgeProblem(
  measures: readonly (CountMeasure | MeanMeasure)[],
  tables: readonly PreparedTable[],
  rules: Rules,
  released: ReleasedSoFar,
): JudgedProblem {
  const inProblem = new Map(measures.map((m) => [m.column, m]));
  let joint = MeasureSystem.build(
    tables.map((t) => ({
      layout: t.layout,
      measures: t.loaded.spec.measures.filter((m) => inProblem.has(m.column)).map((m) => m.column),
      relations: relationsOf(t.loaded.spec).filter((r) => inProblem.has(r.total)),
    })),
  );
  // A structural value equal to another column of this problem: the attacker knows the two cells are one number.
  const equalities: [number, number][] = [];
  tables.forEach((table, t) => {
    for (const [column, cells] of table.structural) {
      const own = joint.cellsOf(t, column);
      if (own === undefined) continue;
      cells.forEach((s, local) => {
        if (s === undefined || s.equals === 0) return;
        const other = joint.cellsOf(t, s.equals);
        if (other !== undefined && other[local] !== own[local]) equalities.push([own[local]!, other[local]!]);
      });
    }
  });
  joint = joint.withEqualities(equalities);
  const { system } = joint;
  const value = systemValues(joint, tables, (column) => {
    const m = inProblem.get(column)!;
    return m.kind === 'count' ? m.column : m.sum;
  });
  const n = system.cellCount;
  const upper = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const lower = new Float64Array(n);
  const fixed = new Uint8Array(n);
  const primary = new Map<number, PrimaryFinding>();
  const empty = new Set<number>();
  const copies = new Map<number, CopiedCell>();
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const rounded = measures.every((m) => m.kind === 'count') && rules.rounding.method !== 'none';
  const width = countProtectionLevel(rules);
  for (let cell = 0; cell < n; cell++) {
    const { table: t, column, local } = joint.placement(cell);
    const measure = inProblem.get(column)!;
    const table = tables[t]!;
    const name = table.loaded.spec.name;
    const v = value[cell]!;
    const get = (c: string) => table.data.get(c)?.[local];
    lo[cell] = v;
    hi[cell] = v;
    if (measure.kind === 'mean') {
      const contributors = get(measure.contributors) ?? 0;
      if (contributors === 0) {
        // No contributors, no value: released as empty, and the attacker knows its sum is 0.
        empty.add(cell);
        fixed[cell] = 1;
        continue;
      }
      const finding = magnitudeFinding(contributors, v, nz(get(measure.top1)), nz(get(measure.top2)), rules);
      if (finding !== undefined) primary.set(cell, finding);
      continue;
    }
    const structural = table.structural.get(column)?.[local];
    const copied = structural === undefined ? undefined : copiedFrom(structural, table, t, local, joint, released);
    const persons = get('persons');
    let finding = countFinding(
      {
        value: v,
        nature: measure.nature,
        ...(persons === undefined || Number.isNaN(persons) ? {} : { persons }),
        ...(measure.rate === undefined ? {} : { denominator: get(measure.rate.denominator) ?? 0 }),
        ...(structural === undefined ? {} : { structural: structural.equals === 0 ? 'zero' : 'copy' }),
      },
      rules,
    );
    if (measure.rate !== undefined) {
      // The attacker bounds a numerator by its denominator: the published value, or for a suppressed one
      // the highest value the attack saw it take in a table consistent with the release. That is at most its
      // true maximum, so the numerator is protected against an attacker who knows a little more than the
      // real one, never less. A denominator in this problem is a total above the numerator (problemOrder.ts):
      // its relation already bounds it.
      const denominator = measure.rate.denominator;
      const status = released.status(name, denominator)?.[local];
      if (status === 'published') upper[cell] = get(denominator) ?? Number.POSITIVE_INFINITY;
      else if (status === 'rounded')
        upper[cell] = roundingPreimage(released.values(name, denominator)![local]!, rules.rounding)[1];
      else if (status === 'suppressed')
        upper[cell] = released.intervals(name, denominator)?.[local]?.hi ?? Number.POSITIVE_INFINITY;
    }
    if (copied !== undefined) {
      copies.set(cell, copied);
      if (copied.hidden) {
        // Equal to a suppressed cell solved earlier: suppressed too, and what the attack knew of that cell it
        // knows of this one; it needs that cell's protection here, or this problem would narrow the other.
        const interval = released.intervals(copied.table, copied.column)?.[copied.local];
        lower[cell] = Math.min(v, interval?.lo ?? 0);
        upper[cell] = Math.min(upper[cell]!, interval?.hi ?? Number.POSITIVE_INFINITY);
        finding ??= {
          rule: 'structural',
          reason: `equal by its row to '${copied.column}', which is suppressed`,
          width,
          prefer: 'up',
        };
      } else if (finding === undefined) {
        // Equal to a published cell: anyone reads it there.
        fixed[cell] = 1;
      }
    }
    if (structural?.equals === 0) fixed[cell] = 1;
    if (finding === undefined && v === 0 && !zeroIsSensitive({ value: v, nature: measure.nature }, rules))
      fixed[cell] = 1;
    if (rounded) {
      const r = roundCount(v, rules.rounding);
      if (r === undefined) {
        finding ??= { rule: 'rounding.redact', reason: 'redacted before rounding', width, prefer: 'up' };
      } else {
        [lo[cell], hi[cell]] = roundingPreimage(r, rules.rounding);
      }
    }
    if (finding !== undefined) {
      primary.set(cell, finding);
      fixed[cell] = 0;
    }
  }
  // A primary cell whose value the known cells already fix (a Total over years each fixed at 0 or of no units)
  // hides nothing: no pattern could hide it, and publishing it tells nothing the attacker does not know.
  const relations: SumRelation<number>[] = [];
  for (let r = 0; r < system.relationCount; r++) {
    const start = system.relationStarts[r]!;
    const cells = Array.from(system.relationCells.subarray(start, system.relationStarts[r + 1]!));
    relations.push({ total: cells[0]!, parts: cells.slice(1) });
  }
  const knownCells = new Set<number>();
  const knownZeros = new Set<number>();
  for (let cell = 0; cell < n; cell++) {
    if (fixed[cell] !== 1) continue;
    knownCells.add(cell);
    if (value[cell] === 0) knownZeros.add(cell);
  }
  const implied = impliedCells(relations, knownCells, knownZeros);
  for (const cell of implied) {
    if (!primary.has(cell) || copies.get(cell)?.hidden === true) continue;
    primary.delete(cell);
    fixed[cell] = 1;
  }
  // A relation's parts add up to its total: where a primary total is 0, so is every part, and publishing them all
  // would publish the total. Those zeros hide something, so the pattern may use them (at a higher cost, so that a
  // part with a value is taken where one can carry the movement).
  const zeroParts = new Set<number>();
  for (const { total, parts } of joint.rowRelations()) {
    if (!primary.has(total) || value[total]! !== 0) continue;
    for (const part of parts) {
      if (primary.has(part) || value[part]! !== 0) continue;
      fixed[part] = 0;
      zeroParts.add(part);
    }
  }
  boundPartsByTotals(joint, upper);
  const cost = suppressionCost(value, system.marginLevels());
  for (const part of zeroParts) cost[part]! *= ZERO_PART_COST;
  const problem: SuppressionProblem = {
    system,
    value,
    upper,
    ...(lower.some((x) => x > 0) ? { lower } : {}),
    weight: relationWeights(joint, tables, cost),
    fixed,
    primary,
    ...(rounded ? { publishedRange: { lo, hi } } : {}),
  };
  return { joint, problem, primary, rounded, empty, copies, zeroParts };
}

/** How much more a zero part of a primary zero total costs than a cell of its value would. */
const ZERO_PART_COST = 4;

/** The earlier problem's cell a structural value equals, when that column is not in this problem. */
function copiedFrom(
  structural: StructuralCell,
  table: PreparedTable,
  t: number,
  local: number,
  joint: MeasureSystem,
  released: ReleasedSoFar,
): CopiedCell | undefined {
  if (structural.equals === 0 || joint.cellsOf(t, structural.equals) !== undefined) return undefined;
  const name = table.loaded.spec.name;
  const status = released.status(name, structural.equals)?.[local];
  if (status === undefined) return undefined;
  return { table: name, column: structural.equals, local, hidden: status === 'suppressed' };
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
 * A relation's total costs what its parts cost on top of its own: a small
 * part is protected by hiding a second count of its row, and hiding another
 * part rather than the total keeps the headline count (and the denominator
 * every share divides by) published.
 */
function relationWeights(joint: MeasureSystem, tables: readonly PreparedTable[], base: Float64Array): Float64Array {
  const weight = base.slice();
  for (let cell = 0; cell < weight.length; cell++) {
    const { table, column, local } = joint.placement(cell);
    for (const relation of relationsOf(tables[table]!.loaded.spec)) {
      if (relation.total !== column) continue;
      for (const part of relation.parts) {
        const partCells = joint.cellsOf(table, part);
        if (partCells !== undefined) weight[cell]! += base[partCells[local]!]!;
      }
    }
  }
  return weight;
}

function nz(v: number | undefined): number {
  return v === undefined || Number.isNaN(v) ? 0 : v;
}

/** Each system cell's value, checked: linked tables agree on shared cells, no negative count, margins add up. */
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
