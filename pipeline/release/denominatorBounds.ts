import type { Rules } from '../../schemas/rules.js';
import type { CellStatus } from './releasedTable.js';
import { attackIntervals } from './sdc/attack.js';
import type { LpTally } from './sdc/lpTally.js';
import { roundingPreimage } from './sdc/rounding.js';
import type { SolvedProblem } from './solvedProblem.js';

export interface LearnedBounds {
  /** Per system cell of the problem: what it is at least (absent: nothing learned). */
  readonly lower?: Float64Array;
  /** Per system cell: what it is at most (absent: nothing learned). */
  readonly upper?: Float64Array;
}

/**
 * What later problems give away of a solved problem's suppressed cells.
 * A denominator is no smaller than its numerator: a published numerator's
 * value, the bottom of a rounded one's interval, the attacker's exact minimum
 * of a suppressed one. A cell that a later problem holds as a structural copy
 * (equal by its row) lies in the copy's interval too. One pass, not a joint
 * attack on both measures: the later problems were solved against this one's
 * intervals already.
 */
export async function learnedBounds(
  done: SolvedProblem,
  solved: readonly SolvedProblem[],
  rules: Rules,
  tally: LpTally,
  released: (table: string, column: string) => { status: readonly CellStatus[]; values: readonly (number | null)[] },
): Promise<LearnedBounds> {
  const { problem } = done.judged;
  const { value } = problem;
  const n = problem.system.cellCount;
  let lower: Float64Array | undefined;
  let upper: Float64Array | undefined;
  const raise = (cell: number, known: number): void => {
    // Never above the cell itself: a numerator larger than its denominator is bad data, not knowledge.
    const floor = Math.min(known, value[cell]!);
    lower ??= new Float64Array(n);
    if (floor > lower[cell]!) lower[cell] = floor;
  };
  const cap = (cell: number, known: number): void => {
    const ceiling = Math.max(known, value[cell]!);
    upper ??= new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    if (ceiling < upper[cell]!) upper[cell] = ceiling;
  };
  const population = done.tables[0]!.loaded.spec.population;
  for (const later of solved) {
    if (later === done || later.tables[0]!.loaded.spec.population !== population) continue;
    // Suppressed cells of the later problem whose exact interval bounds cells of this one.
    const hidden = new Map<number, { cell: number; floorOnly: boolean }[]>();
    const ask = (own: number, cell: number, floorOnly: boolean): void => {
      const list = hidden.get(own);
      if (list === undefined) hidden.set(own, [{ cell, floorOnly }]);
      else list.push({ cell, floorOnly });
    };
    for (const measure of later.measures) {
      if (measure.kind !== 'count' || measure.rate === undefined) continue;
      const denominator = done.measures.find((m) => m.column === measure.rate!.denominator);
      if (denominator === undefined || denominator.kind !== 'count') continue;
      later.tables.forEach((table, k) => {
        const d = done.tables.indexOf(table);
        if (d === -1) return;
        const denominatorCells = done.judged.joint.cellsOf(d, denominator.column);
        const numeratorCells = later.judged.joint.cellsOf(k, measure.column);
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
            const seen = later.intervals.get(own);
            if (seen !== undefined && seen.lo <= 0) continue;
            ask(own, cell, true);
          }
        }
      });
    }
    for (const [own, copied] of later.judged.copies) {
      if (!copied.hidden) continue;
      const { table: t } = later.judged.joint.placement(own);
      const d = done.tables.indexOf(later.tables[t]!);
      const source = d === -1 ? undefined : done.judged.joint.cellsOf(d, copied.column);
      if (source === undefined || done.tables[d]!.loaded.spec.name !== copied.table) continue;
      ask(own, source[copied.local]!, false);
    }
    if (hidden.size === 0) continue;
    const floorsOnly = [...hidden.values()].every((list) => list.every((h) => h.floorOnly));
    const exact = await attackIntervals(
      later.judged.problem,
      later.outcome.suppressed,
      new Set(hidden.keys()),
      floorsOnly ? { exactLow: true, tally } : { exact: true, tally },
    );
    for (const [own, list] of hidden) {
      const interval = exact.get(own);
      for (const { cell, floorOnly } of list) {
        raise(cell, interval?.lo ?? 0);
        if (!floorOnly && interval !== undefined && Number.isFinite(interval.hi)) cap(cell, interval.hi);
      }
    }
  }
  return { ...(lower === undefined ? {} : { lower }), ...(upper === undefined ? {} : { upper }) };
}
