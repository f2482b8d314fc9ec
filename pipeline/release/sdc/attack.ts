import { GroupAttack } from './groupAttack.js';
import type { LpTally } from './lpTally.js';
import type { SuppressionProblem, Witness } from './problem.js';
import { loadSolver } from './solver.js';
import { witnessedRanges } from './witnessedRanges.js';

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
    const group = GroupAttack.open(highs, problem, cells, { unknown, suppressed, witnessed, need }, options);
    try {
      await group.solveInto(intervals, only);
    } finally {
      group.dispose();
    }
  }
  return intervals;
}
