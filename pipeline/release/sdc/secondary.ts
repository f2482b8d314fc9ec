import type { Highs } from 'highs';
import { createModel, loadSolver, outcome } from './solver.js';
import type { Protection, SuppressionProblem } from './problem.js';

/** No pattern of suppressions can give this cell the interval it needs (e.g. bounds published elsewhere pin it). */
export class UnprotectableCellError extends Error {
  constructor(
    readonly cell: number,
    readonly why: string,
  ) {
    super(why);
  }
}

export interface SecondaryResult {
  /** 1 where the cell is suppressed (primary or secondary). */
  readonly suppressed: Uint8Array;
  readonly secondary: readonly number[];
  readonly lpSolves: number;
}

const FLOW_EPSILON = 1e-7;
/** Siblings per dimension in the first, small protection LP. */
const SIBLINGS_FIRST = 4;

/**
 * Secondary suppression by protection LPs (the Fischetti–Salazar heuristic,
 * as tau-ARGUS' "modular"/"optimal" methods build on): for each primary cell
 * in turn, find the cheapest alternative table that moves the cell by its
 * protection width while leaving every published cell unchanged, where moving
 * an already suppressed cell is free and moving a published one costs its
 * weight; every cell the alternative moves is suppressed. The alternative is
 * itself the proof that the attacker's interval is at least that wide, and
 * suppressing more later only widens it.
 *
 * Each LP is first solved on the cell's neighbourhood (its siblings and
 * parents in every dimension), which is exact as a proof and small; only if
 * no pattern exists there is the whole system used.
 */
export async function secondarySuppression(problem: SuppressionProblem): Promise<SecondaryResult> {
  const highs = await loadSolver();
  const n = problem.system.cellCount;
  const suppressed = new Uint8Array(n);
  for (const cell of problem.primary.keys()) suppressed[cell] = 1;
  const scratch = new Scratch(n, problem.system.relationCount);
  const order = [...problem.primary.entries()].sort(([a, pa], [b, pb]) => pb.width - pa.width || problem.value[a]! - problem.value[b]! || a - b);
  const secondary: number[] = [];
  let lpSolves = 0;
  let everything: Int32Array | undefined;
  for (const [cell, protection] of order) {
    if (protection.width <= 0) continue;
    const directions = directionsFor(problem, cell, protection);
    if (directions.length === 0) {
      throw new UnprotectableCellError(cell, `its value cannot move ${protection.width} in either direction (it is ${problem.value[cell]} and at most ${problem.upper[cell]})`);
    }
    let added: number[] | undefined;
    const score = (c: number): number => (suppressed[c] === 1 ? 0 : problem.weight[c]!) + (problem.value[c]! < protection.width ? 1e12 : 0);
    const regions = [problem.system.region(cell, { limit: SIBLINGS_FIRST, score }), problem.system.region(cell), undefined];
    for (const region of regions) {
      const cells = region ?? (everything ??= Int32Array.from({ length: n }, (_, i) => i));
      for (const direction of directions) {
        lpSolves++;
        added = solveProtection(highs, problem, cells, suppressed, cell, direction, protection.width, scratch);
        if (added !== undefined) break;
      }
      if (added !== undefined || region === undefined || region.length === n) break;
    }
    if (added === undefined) {
      throw new UnprotectableCellError(cell, `no set of extra suppressions lets it move by ${protection.width} while the published cells stay consistent`);
    }
    for (const c of added) {
      suppressed[c] = 1;
      secondary.push(c);
    }
  }
  return { suppressed, secondary, lpSolves };
}

function directionsFor(problem: SuppressionProblem, cell: number, protection: Protection): ('up' | 'down')[] {
  const canUp = problem.upper[cell]! - problem.value[cell]! >= protection.width;
  const canDown = problem.value[cell]! >= protection.width;
  const order: ('up' | 'down')[] = protection.prefer === 'up' ? ['up', 'down'] : ['down', 'up'];
  return order.filter((d) => (d === 'up' ? canUp : canDown));
}

class Scratch {
  readonly local: Int32Array;
  readonly row: Int32Array;
  constructor(cells: number, relations: number) {
    this.local = new Int32Array(cells).fill(-1);
    this.row = new Int32Array(relations).fill(-1);
  }
}

/** Cells (not yet suppressed) that the cheapest pattern for `target` moves, or undefined when none exists within `cells`. */
function solveProtection(
  highs: Highs,
  problem: SuppressionProblem,
  cells: Int32Array,
  suppressed: Uint8Array,
  target: number,
  direction: 'up' | 'down',
  width: number,
  scratch: Scratch,
): number[] | undefined {
  const { system, value, upper, weight } = problem;
  const m = cells.length;
  const rows: number[] = [];
  cells.forEach((c, i) => {
    scratch.local[c] = i;
    for (let k = system.cellStarts[c]!; k < system.cellStarts[c + 1]!; k++) {
      const r = system.cellRelations[k]!;
      if (scratch.row[r] === -1) {
        scratch.row[r] = rows.length;
        rows.push(r);
      }
    }
  });
  try {
    // Columns 0..m-1 move a cell up, m..2m-1 move it down.
    const starts = new Int32Array(2 * m + 1);
    let nnz = 0;
    for (let i = 0; i < m; i++) {
      const c = cells[i]!;
      nnz += system.cellStarts[c + 1]! - system.cellStarts[c]!;
    }
    const indices = new Int32Array(2 * nnz);
    const values = new Float64Array(2 * nnz);
    let at = 0;
    for (let side = 0; side < 2; side++) {
      const sign = side === 0 ? 1 : -1;
      for (let i = 0; i < m; i++) {
        const c = cells[i]!;
        for (let k = system.cellStarts[c]!; k < system.cellStarts[c + 1]!; k++) {
          indices[at] = scratch.row[system.cellRelations[k]!]!;
          values[at] = sign * system.cellCoefs[k]!;
          at++;
        }
        starts[side * m + i + 1] = at;
      }
    }
    const cost = new Float64Array(2 * m);
    const lower = new Float64Array(2 * m);
    const up = new Float64Array(2 * m);
    for (let i = 0; i < m; i++) {
      const c = cells[i]!;
      const unitCost = suppressed[c] === 1 ? 0 : weight[c]! / width;
      cost[i] = unitCost;
      cost[m + i] = unitCost;
      const headroom = upper[c]! - value[c]!;
      up[i] = Number.isFinite(headroom) ? Math.max(0, headroom) : highs.infinity;
      up[m + i] = Math.max(0, value[c]!);
    }
    const t = scratch.local[target]!;
    if (direction === 'up') {
      lower[t] = width;
      up[t] = width;
      up[m + t] = 0;
    } else {
      lower[m + t] = width;
      up[m + t] = width;
      up[t] = 0;
    }
    const zeros = new Float64Array(rows.length);
    const model = createModel(highs, {
      numCols: 2 * m,
      numRows: rows.length,
      colCost: cost,
      colLower: lower,
      colUpper: up,
      rowLower: zeros,
      rowUpper: zeros,
      starts,
      indices,
      values,
    });
    try {
      model.run();
      const result = outcome(highs, model);
      if (result === 'infeasible') return undefined;
      if (result !== 'optimal') throw new Error(`protection LP for ${system.describe(target)} ended with solver status ${result}`);
      const flow = model.getSolution().colValue;
      const added: number[] = [];
      for (let i = 0; i < m; i++) {
        const c = cells[i]!;
        if (suppressed[c] !== 1 && flow[i]! + flow[m + i]! > FLOW_EPSILON * Math.max(1, width)) added.push(c);
      }
      return added;
    } finally {
      model.dispose();
    }
  } finally {
    for (const c of cells) scratch.local[c] = -1;
    for (const r of rows) scratch.row[r] = -1;
  }
}
