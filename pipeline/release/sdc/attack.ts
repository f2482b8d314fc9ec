import { SolverError } from '../../core/errors.js';
import type { Highs } from 'highs';
import type { LpTally } from './lpTally.js';
import { createModel, loadSolver, outcome, runModel, type SparseLp } from './solver.js';
import { openTwin, type TwinModel } from './twinModel.js';
import { floorOf, type SuppressionProblem, type Witness } from './problem.js';

/**
 * At most this many up-and-down sweeps per group, and only while each proves
 * at least one cell in twenty of those left. On the small demo's largest
 * group (3,111 cells tied by margins and row relations), the first sweep
 * proves one cell in six, the next eleven bring the rest from 2,586 to 332.
 */
const SWEEPS = 12;
const SWEEP_GAIN = 0.95;

/**
 * From this many cells a group's sweeps push down on a twin of its LP (on
 * the second core) while this one pushes up. Below it a sweep takes a few
 * milliseconds, less than copying the LP.
 */
const TWIN_CELLS = 400;

export interface AttackOptions {
  /** Where the LPs this attack solves are counted. */
  readonly tally?: LpTally;
  readonly exact?: boolean;
  /**
   * Tables the attacker cannot rule out, found earlier (by secondary
   * suppression): each is checked against this pattern and its bounds, and
   * the ones that hold widen the cells' proved ranges before any LP.
   */
  readonly witnesses?: readonly Witness[];
  /** Only the exact minimum of each cell (a numerator's minimum bounds its denominator from below); the maximum as proved. */
  readonly exactLow?: boolean;
  /**
   * Only prove: report the cells the true table and the sweeps already show
   * wide enough, and spend no LP on a single cell. What secondary suppression
   * asks before it looks for a pattern: a cell proved here needs none.
   */
  readonly proveOnly?: boolean;
  /** With proveOnly: only what the true table and the witnesses show, no sweep LPs either. */
  readonly witnessesOnly?: boolean;
  /** Solve only the groups that hold one of these cells (the rest cannot have changed since the last call). */
  readonly touching?: ReadonlySet<number>;
  /**
   * Only these cells (1) are unknown to the attacker; every other cell is
   * taken as known exactly. A stronger attacker than the real one: what it
   * cannot narrow, the real one cannot either.
   */
  readonly within?: Uint8Array;
}

export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/**
 * The intruder's interval attack: for every suppressed cell, the smallest and
 * largest value it can take given every published cell (a rounded one only
 * within its rounding interval), every additivity relation, and each cell's
 * known bounds: at least 0 or its numerator, at most its denominator
 * (published, the top of a rounded one's interval, or the highest value the
 * attack saw a suppressed one take). Cells that share no
 * relation through suppressed (or rounded) cells cannot inform each other, so
 * each connected group is solved as its own small LP.
 *
 * Every LP solution is a table the attacker cannot rule out, and so is the
 * true table: the range of values a cell takes across those tables lies
 * inside its interval. A cell whose range is already as wide as it needs
 * (its protection width; for a cell without one, the widest width of the
 * problem) is proved safe without LPs of its own, and its reported interval
 * is that range (a lower bound on the true interval's width). Any cell not
 * proved so gets both LPs and its exact interval, so a narrow interval is
 * always exact. Before any single-cell LP, sweeps push the cells not yet
 * proved up and down together (the first all one way, later ones in mixed
 * directions): in a table where many cells are suppressed, a few pairs of
 * such LPs prove most of them.
 * Tables found earlier (`witnesses`) that still hold count as such tables
 * too, before any sweep. `exact` solves both LPs for every cell.
 */
export async function attackIntervals(
  problem: SuppressionProblem,
  suppressed: Uint8Array,
  only?: ReadonlySet<number>,
  options: AttackOptions = {},
): Promise<Map<number, Interval>> {
  const highs = await loadSolver();
  const { system } = problem;
  const range = problem.publishedRange;
  const n = system.cellCount;
  const unknown = new Uint8Array(n);
  const within = options.within;
  for (let c = 0; c < n; c++) {
    if (within !== undefined && within[c] !== 1) continue;
    if (suppressed[c] === 1) unknown[c] = 1;
    else if (range !== undefined && range.hi[c]! > range.lo[c]!) unknown[c] = 1;
  }
  // Union-find over unknown cells that meet in a relation.
  const parent = new Int32Array(n).map((_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (let r = 0; r < system.relationCount; r++) {
    let first = -1;
    for (let k = system.relationStarts[r]!; k < system.relationStarts[r + 1]!; k++) {
      const c = system.relationCells[k]!;
      if (unknown[c] !== 1) continue;
      if (first === -1) first = c;
      else parent[find(c)] = find(first);
    }
  }
  const groups = new Map<number, number[]>();
  for (let c = 0; c < n; c++) {
    if (unknown[c] !== 1) continue;
    const root = find(c);
    const group = groups.get(root);
    if (group === undefined) groups.set(root, [c]);
    else group.push(c);
  }
  const intervals = new Map<number, Interval>();
  let widest = 0;
  for (const p of problem.primary.values()) widest = Math.max(widest, p.width);
  const need = (c: number): number =>
    options.exact === true ? Number.POSITIVE_INFINITY : (problem.primary.get(c)?.width ?? widest);
  const witnessed = witnessedRanges(problem, unknown, suppressed, options.witnesses ?? []);
  for (const cells of groups.values()) {
    if (!cells.some((c) => suppressed[c] === 1 && (only === undefined || only.has(c)))) continue;
    if (options.touching !== undefined && !cells.some((c) => options.touching!.has(c))) continue;
    await solveGroup(highs, problem, cells, unknown, suppressed, intervals, only, need, witnessed, options);
  }
  return intervals;
}

/**
 * The range each cell takes across the true table and every witness that
 * still holds for this pattern: it moves only cells the attacker does not
 * know, keeps each within what the attacker knows of it, and leaves every
 * relation balanced. A witness that fails any of these is not used.
 */
function witnessedRanges(
  problem: SuppressionProblem,
  unknown: Uint8Array,
  suppressed: Uint8Array,
  witnesses: readonly Witness[],
): { lo: Float64Array; hi: Float64Array } {
  const { system, value, upper } = problem;
  // Neighbourhood proofs pass none and come often: no copies for them.
  if (witnesses.length === 0) return { lo: value, hi: value };
  const range = problem.publishedRange;
  const lo = Float64Array.from(value);
  const hi = Float64Array.from(value);
  const imbalance = new Map<number, number>();
  for (const witness of witnesses) {
    let holds = true;
    let scale = 1;
    imbalance.clear();
    for (let k = 0; k < witness.cells.length && holds; k++) {
      const c = witness.cells[k]!;
      const delta = witness.deltas[k]!;
      const v = value[c]! + delta;
      scale = Math.max(scale, Math.abs(delta));
      if (unknown[c] !== 1) holds = false;
      else if (suppressed[c] === 1) holds = v >= floorOf(problem, c) - 1e-6 && v <= upper[c]! + 1e-6;
      else holds = range !== undefined && v >= range.lo[c]! - 1e-6 && v <= range.hi[c]! + 1e-6;
      for (let j = system.cellStarts[c]!; j < system.cellStarts[c + 1]!; j++) {
        const r = system.cellRelations[j]!;
        imbalance.set(r, (imbalance.get(r) ?? 0) + system.cellCoefs[j]! * delta);
      }
    }
    for (const sum of imbalance.values()) if (Math.abs(sum) > 1e-6 * scale) holds = false;
    if (!holds) continue;
    witness.cells.forEach((c, k) => {
      const v = snap(value[c]! + witness.deltas[k]!);
      if (v < lo[c]!) lo[c] = v;
      if (v > hi[c]!) hi[c] = v;
    });
  }
  return { lo, hi };
}

async function solveGroup(
  highs: Highs,
  problem: SuppressionProblem,
  cells: number[],
  unknown: Uint8Array,
  suppressed: Uint8Array,
  out: Map<number, Interval>,
  only: ReadonlySet<number> | undefined,
  need: (cell: number) => number,
  witnessed: { readonly lo: Float64Array; readonly hi: Float64Array },
  options: AttackOptions,
): Promise<void> {
  const { system, value, upper } = problem;
  const range = problem.publishedRange;
  const column = new Map<number, number>();
  cells.forEach((c, i) => column.set(c, i));
  const rowOf = new Map<number, number>();
  const rowRhs: number[] = [];
  for (const c of cells) {
    for (let k = system.cellStarts[c]!; k < system.cellStarts[c + 1]!; k++) {
      const r = system.cellRelations[k]!;
      if (rowOf.has(r)) continue;
      rowOf.set(r, rowRhs.length);
      let rhs = 0;
      for (let j = system.relationStarts[r]!; j < system.relationStarts[r + 1]!; j++) {
        const other = system.relationCells[j]!;
        if (unknown[other] !== 1) rhs -= system.relationCoefs[j]! * value[other]!;
      }
      rowRhs.push(rhs);
    }
  }
  const starts = new Int32Array(cells.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  cells.forEach((c, i) => {
    for (let k = system.cellStarts[c]!; k < system.cellStarts[c + 1]!; k++) {
      indices.push(rowOf.get(system.cellRelations[k]!)!);
      values.push(system.cellCoefs[k]!);
    }
    starts[i + 1] = indices.length;
  });
  const lower = new Float64Array(cells.length);
  const upperBound = new Float64Array(cells.length);
  cells.forEach((c, i) => {
    if (suppressed[c] === 1) {
      lower[i] = floorOf(problem, c);
      upperBound[i] = Number.isFinite(upper[c]!) ? upper[c]! : highs.infinity;
    } else {
      lower[i] = range!.lo[c]!;
      upperBound[i] = range!.hi[c]!;
    }
  });
  const rhs = Float64Array.from(rowRhs);
  const lp: SparseLp = {
    numCols: cells.length,
    numRows: rhs.length,
    colCost: new Float64Array(cells.length),
    colLower: lower,
    colUpper: upperBound,
    rowLower: rhs,
    rowUpper: rhs,
    starts,
    indices: Int32Array.from(indices),
    values: Float64Array.from(values),
  };
  // Only the objective changes between solves: the last basis stays feasible, so primal simplex restarts from it.
  const solverOptions = { simplex_strategy: 4 };
  const model = createModel(highs, lp);
  model.options.set(solverOptions);
  let twin: TwinModel | undefined;
  // The true table is one the attacker cannot rule out, and so is every witness that holds: ranges start there.
  const seenLo = Float64Array.from(cells, (c) => witnessed.lo[c]!);
  const seenHi = Float64Array.from(cells, (c) => witnessed.hi[c]!);
  const observe = (solution: ArrayLike<number> = model.getSolution().colValue): void => {
    for (let j = 0; j < cells.length; j++) {
      const v = snap(solution[j]!);
      if (v < seenLo[j]!) seenLo[j] = v;
      if (v > seenHi[j]!) seenHi[j] = v;
    }
  };
  const wideEnough = (i: number, c: number): boolean => {
    const width = need(c);
    return width > 0 && Number.isFinite(width) && seenHi[i]! - seenLo[i]! + 1e-9 >= width;
  };
  const wanted = (c: number): boolean => suppressed[c] === 1 && (only === undefined || only.has(c));
  const count = (iterations: number): void => {
    if (options.tally === undefined) return;
    options.tally.attack++;
    options.tally.simplexIterations += iterations;
    options.tally.work += iterations * cells.length;
  };
  try {
    const { maximize, minimize } = highs.constants.objectiveSense;
    /** The cell's exact minimum, with its cost already set to 1. */
    const solveLow = (c: number): number => {
      model.changeObjectiveSense(minimize);
      count(runModel(model));
      const loOutcome = outcome(highs, model);
      if (loOutcome !== 'optimal')
        throw new SolverError(`The interval attack on ${system.describe(c)} ended with solver status ${loOutcome}.`);
      observe();
      return Math.max(0, snap(model.getObjectiveValue()));
    };
    const lowOnly = options.exactLow === true && options.exact !== true;
    if (options.exact !== true && !lowOnly && options.witnessesOnly !== true) {
      let pending = cells.flatMap((c, i) => (wanted(c) && !wideEnough(i, c) ? [i] : []));
      // A lone cell's sweep is its own pair of LPs: worth it only when nothing else will solve them.
      const fewest = options.proveOnly === true ? 1 : 2;
      if (pending.length >= fewest && cells.length >= TWIN_CELLS) twin = await openTwin(lp, solverOptions);
      for (let sweep = 0; sweep < SWEEPS && pending.length >= fewest; sweep++) {
        const cost = new Float64Array(cells.length);
        for (const i of pending) cost[i] = sweepDirection(sweep, cells[i]!);
        // Asked first, so that the twin pushes down while this model pushes up.
        const down = twin?.solve(cost, 'minimize');
        const pushed = { kind: 'set', indices: Int32Array.from(pending) } as const;
        const pushedCost = Float64Array.from(pending, (i) => cost[i]!);
        for (const sense of twin === undefined ? [maximize, minimize] : [maximize]) {
          model.changeColsCost(pushed, pushedCost);
          model.changeObjectiveSense(sense);
          count(runModel(model));
          if (outcome(highs, model) === 'optimal') observe();
          model.changeColsCost(pushed, new Float64Array(pending.length));
        }
        if (down !== undefined) {
          const solution = await down;
          count(solution.iterations);
          if (solution.outcome === 'optimal') observe(solution.colValue);
        }
        const before = pending.length;
        pending = pending.filter((i) => !wideEnough(i, cells[i]!));
        if (pending.length > SWEEP_GAIN * before) break;
      }
    }
    cells.forEach((c, i) => {
      if (!wanted(c)) return;
      if (lowOnly) {
        model.changeColCost(i, 1);
        try {
          out.set(c, { lo: solveLow(c), hi: seenHi[i]! });
        } finally {
          model.changeColCost(i, 0);
        }
        return;
      }
      if (wideEnough(i, c)) {
        out.set(c, { lo: Math.max(0, seenLo[i]!), hi: seenHi[i]! });
        return;
      }
      if (options.proveOnly === true) return;
      model.changeColCost(i, 1);
      try {
        model.changeObjectiveSense(maximize);
        count(runModel(model));
        const hiOutcome = outcome(highs, model);
        if (hiOutcome !== 'optimal' && hiOutcome !== 'unbounded') {
          throw new SolverError(`The interval attack on ${system.describe(c)} ended with solver status ${hiOutcome}.`);
        }
        if (hiOutcome === 'unbounded') {
          seenHi[i] = Number.POSITIVE_INFINITY;
        } else {
          observe();
          seenHi[i] = snap(model.getObjectiveValue());
        }
        if (wideEnough(i, c) || (hiOutcome === 'unbounded' && need(c) > 0)) {
          out.set(c, { lo: Math.max(0, seenLo[i]!), hi: seenHi[i]! });
          return;
        }
        const lo = solveLow(c);
        out.set(c, { lo, hi: hiOutcome === 'unbounded' ? Number.POSITIVE_INFINITY : seenHi[i]! });
      } finally {
        model.changeColCost(i, 0);
      }
    });
  } finally {
    model.dispose();
    twin?.dispose();
  }
}

/**
 * Which way a sweep pushes a cell. The first pushes every cell up together
 * (then down together), which widens most cells of a small group. Where a
 * published total fixes the sum of its parts, that sum cannot move and the
 * sweep proves nothing among them: later sweeps push half the cells up and
 * half down, a different half each time, chosen by a hash of cell and sweep
 * so that every run takes the same steps.
 */
function sweepDirection(sweep: number, cell: number): 1 | -1 {
  if (sweep === 0) return 1;
  let h = Math.imul(cell ^ Math.imul(sweep, 0x9e3779b9), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h & 1) === 0 ? 1 : -1;
}

/**
 * Simplex values carry round-off (9.9999999 for 10): snap near-integers, so
 * that a proved range reads as it is and a maximum that bounds a numerator
 * later (its denominator's) does not fall just short of a protection level.
 */
function snap(raw: number): number {
  return Math.abs(raw - Math.round(raw)) < 1e-6 ? Math.round(raw) : raw;
}
