import { SolverError } from '../../core/errors.js';
import { createModel, loadSolver, outcome } from './solver.js';
import { floorOf, type SuppressionProblem } from './problem.js';

/**
 * The exact minimum-loss suppression pattern (Fischetti & Salazar's model) as
 * a MIP: a binary per published cell, and for every primary cell an upward
 * and a downward alternative table that together span its protection width
 * while moving only suppressed cells. Exponential in the worst case: for
 * small tables only, to measure how far the heuristic is from optimal.
 */
export async function optimalSuppression(
  problem: SuppressionProblem,
  timeLimitSeconds = 60,
): Promise<{ suppressed: Uint8Array; loss: number }> {
  const highs = await loadSolver();
  const { system, value, weight } = problem;
  const n = system.cellCount;
  const relations = system.relationCount;
  const primaries = [...problem.primary.entries()].filter(([, p]) => p.width > 0);
  const bigM = value.reduce((s, v) => s + v, 0) + Math.max(0, ...primaries.map(([, p]) => p.width));
  // Columns: δ (n) then per primary k: up flow (n), down flow (n), U_k, L_k.
  const perPrimary = 2 * n + 2;
  const numCols = n + primaries.length * perPrimary;
  const colCost = new Float64Array(numCols);
  const colLower = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols);
  const integrality = new Int32Array(numCols);
  for (let c = 0; c < n; c++) {
    const isPrimary = problem.primary.has(c);
    colCost[c] = isPrimary ? 0 : weight[c]!;
    colLower[c] = isPrimary ? 1 : 0;
    colUpper[c] = 1;
    integrality[c] = 1;
  }
  const rowLower: number[] = [];
  const rowUpper: number[] = [];
  const entries: [number, number, number][] = []; // row, col, value
  const addRow = (lo: number, hi: number, terms: [number, number][]) => {
    const r = rowLower.length;
    rowLower.push(lo);
    rowUpper.push(hi);
    for (const [col, v] of terms) entries.push([r, col, v]);
  };
  primaries.forEach(([target, protection], k) => {
    const base = n + k * perPrimary;
    const uCol = base + 2 * n;
    const lCol = uCol + 1;
    colUpper[uCol] = protection.width;
    colUpper[lCol] = protection.width;
    for (const [offset, sign] of [
      [0, 1],
      [n, -1],
    ] as const) {
      for (let c = 0; c < n; c++) {
        const col = base + offset + c;
        // Flow f: the alternative table is value + f, within [lower, upper].
        const room = value[c]! - floorOf(problem, c);
        colLower[col] = -room;
        const headroom = problem.upper[c]! - value[c]!;
        colUpper[col] = Number.isFinite(headroom) ? headroom : highs.infinity;
        if (c !== target) {
          addRow(-highs.infinity, 0, [
            [col, 1],
            [c, -bigM],
          ]); // f ≤ M δ
          addRow(0, highs.infinity, [
            [col, 1],
            [c, room],
          ]); // f ≥ −(x − lower) δ
        }
      }
      for (let r = 0; r < relations; r++) {
        const terms: [number, number][] = [];
        for (let j = system.relationStarts[r]!; j < system.relationStarts[r + 1]!; j++)
          terms.push([base + offset + system.relationCells[j]!, system.relationCoefs[j]!]);
        addRow(0, 0, terms);
      }
      // Up flow moves the target by +U, down flow by −L.
      addRow(0, 0, [
        [base + offset + target, 1],
        [sign === 1 ? uCol : lCol, -sign],
      ]);
    }
    addRow(protection.width, highs.infinity, [
      [uCol, 1],
      [lCol, 1],
    ]);
  });
  entries.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const starts = new Int32Array(numCols + 1);
  for (const [, col] of entries) starts[col + 1]!++;
  for (let c = 0; c < numCols; c++) starts[c + 1]! += starts[c]!;
  const model = createModel(highs, {
    numCols,
    numRows: rowLower.length,
    colCost,
    colLower,
    colUpper,
    rowLower: Float64Array.from(rowLower),
    rowUpper: Float64Array.from(rowUpper),
    starts,
    indices: Int32Array.from(entries.map((e) => e[0])),
    values: Float64Array.from(entries.map((e) => e[2])),
    integrality,
  });
  try {
    model.options.set({ solver: 'choose', time_limit: timeLimitSeconds, mip_rel_gap: 0 });
    model.run();
    const result = outcome(highs, model);
    if (result !== 'optimal') throw new SolverError(`The optimal suppression MIP ended with solver status ${result}.`);
    const x = model.getSolution().colValue;
    const suppressed = new Uint8Array(n);
    let loss = 0;
    for (let c = 0; c < n; c++) {
      if (x[c]! > 0.5) {
        suppressed[c] = 1;
        if (!problem.primary.has(c)) loss += weight[c]!;
      }
    }
    return { suppressed, loss };
  } finally {
    model.dispose();
  }
}

/** Loss of a pattern: the weight of its secondary suppressions. */
export function patternLoss(problem: SuppressionProblem, suppressed: Uint8Array): number {
  let loss = 0;
  for (let c = 0; c < suppressed.length; c++)
    if (suppressed[c] === 1 && !problem.primary.has(c)) loss += problem.weight[c]!;
  return loss;
}
