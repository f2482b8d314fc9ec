import { floorOf, type SuppressionProblem, type Witness } from './problem.js';
import { snap } from './roundOff.js';

/**
 * The range each cell takes across the true table and every witness that
 * still holds for this pattern: it moves only cells the attacker does not
 * know, keeps each within what the attacker knows of it, and leaves every
 * relation balanced. A witness that fails any of these is not used.
 */
export function witnessedRanges(
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
