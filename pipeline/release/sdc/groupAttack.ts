import type { Highs, Model } from 'highs';
import { SolverError } from '../../core/errors.js';
import type { AttackOptions, Interval } from './attack.js';
import { floorOf, type SuppressionProblem } from './problem.js';
import { snap } from './roundOff.js';
import { createModel, outcome, runModel, type SparseLp } from './solver.js';
import { openTwin, type TwinModel } from './twinModel.js';

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

/** Where the attacker stands on a group before its LPs: which cells it does not know, and what it has seen so far. */
export interface GroupStart {
  /** 1 for a cell the attacker does not know (suppressed, or rounded). */
  readonly unknown: Uint8Array;
  readonly suppressed: Uint8Array;
  /** The range each cell takes over the true table and the witnesses that hold (witnessedRanges.ts). */
  readonly witnessed: { readonly lo: Float64Array; readonly hi: Float64Array };
  /** The width each cell must reach to count as proved (Infinity: always solve it exactly). */
  readonly need: (cell: number) => number;
}

/**
 * The attacker's LP over one group of unknown cells that meet in relations:
 * every relation through the group with the published cells moved to the
 * right-hand side, each cell within what the attacker knows of it. It keeps
 * the range each cell has taken over every table it found (the true table
 * and the witnesses first), so that a cell once seen wide enough needs no LP
 * of its own.
 */
export class GroupAttack {
  private readonly seenLo: Float64Array;
  private readonly seenHi: Float64Array;
  private twin: TwinModel | undefined;

  private constructor(
    private readonly highs: Highs,
    private readonly problem: SuppressionProblem,
    private readonly cells: readonly number[],
    private readonly lp: SparseLp,
    private readonly model: Model,
    private readonly start: GroupStart,
    private readonly options: AttackOptions,
  ) {
    // The true table is one the attacker cannot rule out, and so is every witness that holds: ranges start there.
    this.seenLo = Float64Array.from(cells, (c) => start.witnessed.lo[c]!);
    this.seenHi = Float64Array.from(cells, (c) => start.witnessed.hi[c]!);
  }

  static open(
    highs: Highs,
    problem: SuppressionProblem,
    cells: readonly number[],
    start: GroupStart,
    options: AttackOptions,
  ): GroupAttack {
    const lp = groupLp(highs, problem, cells, start);
    const model = createModel(highs, lp);
    model.options.set(SOLVER_OPTIONS);
    return new GroupAttack(highs, problem, cells, lp, model, start, options);
  }

  /** The interval of every suppressed cell of the group the caller asks for (`only`), as far as `options` asks. */
  async solveInto(out: Map<number, Interval>, only: ReadonlySet<number> | undefined): Promise<void> {
    const { options } = this;
    const wanted = (c: number): boolean => this.start.suppressed[c] === 1 && (only === undefined || only.has(c));
    const lowOnly = options.exactLow === true && options.exact !== true;
    if (options.exact !== true && !lowOnly && options.witnessesOnly !== true) {
      await this.sweep(this.cells.flatMap((c, i) => (wanted(c) && !this.wideEnough(i, c) ? [i] : [])));
    }
    this.cells.forEach((c, i) => {
      if (!wanted(c)) return;
      if (lowOnly) {
        out.set(c, { lo: this.exactLow(i, c), hi: this.seenHi[i]! });
        return;
      }
      if (this.wideEnough(i, c)) {
        out.set(c, { lo: Math.max(0, this.seenLo[i]!), hi: this.seenHi[i]! });
        return;
      }
      if (options.proveOnly === true) return;
      out.set(c, this.exactInterval(i, c));
    });
  }

  dispose(): void {
    this.model.dispose();
    this.twin?.dispose();
  }

  /**
   * Push the pending cells up and down together, a few times, each time
   * keeping only those not yet seen wide enough: in a table where many cells
   * are suppressed, a few pairs of LPs prove most of them.
   */
  private async sweep(pendingAtStart: number[]): Promise<void> {
    const { maximize, minimize } = this.highs.constants.objectiveSense;
    let pending = pendingAtStart;
    // A lone cell's sweep is its own pair of LPs: worth it only when nothing else will solve them.
    const fewest = this.options.proveOnly === true ? 1 : 2;
    if (pending.length >= fewest && this.cells.length >= TWIN_CELLS)
      this.twin = await openTwin(this.lp, SOLVER_OPTIONS);
    for (let sweep = 0; sweep < SWEEPS && pending.length >= fewest; sweep++) {
      const cost = new Float64Array(this.cells.length);
      for (const i of pending) cost[i] = sweepDirection(sweep, this.cells[i]!);
      // Asked first, so that the twin pushes down while this model pushes up.
      const down = this.twin?.solve(cost, 'minimize');
      const pushed = { kind: 'set', indices: Int32Array.from(pending) } as const;
      const pushedCost = Float64Array.from(pending, (i) => cost[i]!);
      for (const sense of this.twin === undefined ? [maximize, minimize] : [maximize]) {
        this.model.changeColsCost(pushed, pushedCost);
        this.model.changeObjectiveSense(sense);
        this.count(runModel(this.model));
        if (outcome(this.highs, this.model) === 'optimal') this.observe();
        this.model.changeColsCost(pushed, new Float64Array(pending.length));
      }
      if (down !== undefined) {
        const solution = await down;
        this.count(solution.iterations);
        if (solution.outcome === 'optimal') this.observe(solution.colValue);
      }
      const before = pending.length;
      pending = pending.filter((i) => !this.wideEnough(i, this.cells[i]!));
      if (pending.length > SWEEP_GAIN * before) break;
    }
  }

  /** The cell's exact minimum. */
  private exactLow(i: number, c: number): number {
    this.model.changeColCost(i, 1);
    try {
      return this.solveLow(c);
    } finally {
      this.model.changeColCost(i, 0);
    }
  }

  /** The cell's exact maximum, and its exact minimum unless the maximum already shows it wide enough. */
  private exactInterval(i: number, c: number): Interval {
    const { maximize } = this.highs.constants.objectiveSense;
    this.model.changeColCost(i, 1);
    try {
      this.model.changeObjectiveSense(maximize);
      this.count(runModel(this.model));
      const hiOutcome = outcome(this.highs, this.model);
      if (hiOutcome !== 'optimal' && hiOutcome !== 'unbounded') {
        throw new SolverError(
          `The interval attack on ${this.problem.system.describe(c)} ended with solver status ${hiOutcome}.`,
        );
      }
      if (hiOutcome === 'unbounded') {
        this.seenHi[i] = Number.POSITIVE_INFINITY;
      } else {
        this.observe();
        this.seenHi[i] = snap(this.model.getObjectiveValue());
      }
      if (this.wideEnough(i, c) || (hiOutcome === 'unbounded' && this.start.need(c) > 0))
        return { lo: Math.max(0, this.seenLo[i]!), hi: this.seenHi[i]! };
      const lo = this.solveLow(c);
      return { lo, hi: hiOutcome === 'unbounded' ? Number.POSITIVE_INFINITY : this.seenHi[i]! };
    } finally {
      this.model.changeColCost(i, 0);
    }
  }

  /** The cell's exact minimum, with its cost already set to 1. */
  private solveLow(c: number): number {
    this.model.changeObjectiveSense(this.highs.constants.objectiveSense.minimize);
    this.count(runModel(this.model));
    const loOutcome = outcome(this.highs, this.model);
    if (loOutcome !== 'optimal')
      throw new SolverError(
        `The interval attack on ${this.problem.system.describe(c)} ended with solver status ${loOutcome}.`,
      );
    this.observe();
    return Math.max(0, snap(this.model.getObjectiveValue()));
  }

  private wideEnough(i: number, c: number): boolean {
    const width = this.start.need(c);
    return width > 0 && Number.isFinite(width) && this.seenHi[i]! - this.seenLo[i]! + 1e-9 >= width;
  }

  /** Every LP solution is a table the attacker cannot rule out: widen each cell's range by it. */
  private observe(solution: ArrayLike<number> = this.model.getSolution().colValue): void {
    for (let j = 0; j < this.cells.length; j++) {
      const v = snap(solution[j]!);
      if (v < this.seenLo[j]!) this.seenLo[j] = v;
      if (v > this.seenHi[j]!) this.seenHi[j] = v;
    }
  }

  private count(iterations: number): void {
    const tally = this.options.tally;
    if (tally === undefined) return;
    tally.attack++;
    tally.simplexIterations += iterations;
    tally.work += iterations * this.cells.length;
  }
}

/** Only the objective changes between solves: the last basis stays feasible, so primal simplex restarts from it. */
const SOLVER_OPTIONS = { simplex_strategy: 4 };

/** The group's LP: one column per unknown cell, one row per relation through it, published cells on the right. */
function groupLp(highs: Highs, problem: SuppressionProblem, cells: readonly number[], start: GroupStart): SparseLp {
  const { system, value, upper } = problem;
  const { unknown, suppressed } = start;
  const range = problem.publishedRange;
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
  return {
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
