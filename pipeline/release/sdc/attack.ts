import type { Highs } from 'highs';
import { createModel, loadSolver, outcome } from './solver.js';
import type { SuppressionProblem } from './problem.js';

export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/**
 * The intruder's interval attack: for every suppressed cell, the smallest and
 * largest value it can take given every published cell, every additivity
 * relation, non-negativity and known upper bounds — two LPs per cell. Cells
 * that share no relation through suppressed (or rounded) cells cannot inform
 * each other, so each connected group is solved as its own small LP.
 */
export async function attackIntervals(problem: SuppressionProblem, suppressed: Uint8Array, only?: ReadonlySet<number>): Promise<Map<number, Interval>> {
  const highs = await loadSolver();
  const { system } = problem;
  const range = problem.publishedRange;
  const n = system.cellCount;
  const unknown = new Uint8Array(n);
  for (let c = 0; c < n; c++) {
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
  for (const cells of groups.values()) {
    if (!cells.some((c) => suppressed[c] === 1 && (only === undefined || only.has(c)))) continue;
    solveGroup(highs, problem, cells, unknown, suppressed, intervals, only);
  }
  return intervals;
}

function solveGroup(highs: Highs, problem: SuppressionProblem, cells: number[], unknown: Uint8Array, suppressed: Uint8Array, out: Map<number, Interval>, only: ReadonlySet<number> | undefined): void {
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
      lower[i] = 0;
      upperBound[i] = Number.isFinite(upper[c]!) ? upper[c]! : highs.infinity;
    } else {
      lower[i] = range!.lo[c]!;
      upperBound[i] = range!.hi[c]!;
    }
  });
  const rhs = Float64Array.from(rowRhs);
  const model = createModel(highs, {
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
  });
  // Only the objective changes between solves: the last basis stays feasible, so primal simplex restarts from it.
  model.options.set({ simplex_strategy: 4 });
  try {
    const { maximize, minimize } = highs.constants.objectiveSense;
    cells.forEach((c, i) => {
      if (suppressed[c] !== 1 || (only !== undefined && !only.has(c))) return;
      model.changeColCost(i, 1);
      model.changeObjectiveSense(maximize);
      model.run();
      const hiOutcome = outcome(highs, model);
      const hi = hiOutcome === 'unbounded' ? Number.POSITIVE_INFINITY : model.getObjectiveValue();
      model.changeObjectiveSense(minimize);
      model.run();
      const lo = model.getObjectiveValue();
      model.changeColCost(i, 0);
      if (hiOutcome !== 'optimal' && hiOutcome !== 'unbounded') {
        throw new Error(`interval attack on ${system.describe(c)} ended with solver status ${hiOutcome}`);
      }
      out.set(c, { lo: Math.max(0, lo), hi });
    });
  } finally {
    model.dispose();
  }
}
