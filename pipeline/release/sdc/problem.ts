import type { CellSystem } from './cellSystem.js';

/** How far a sensitive cell must stay uncertain, and in which direction a pattern should first try to move it. */
export interface Protection {
  /** The attacker's interval [min, max] for the cell must be at least this wide. */
  readonly width: number;
  /** 'down' for cells whose smallness is in their complement (a 100% share): there is room below, not above. */
  readonly prefer: 'up' | 'down';
}

/** One measure over one system of linked tables: what secondary suppression works on. */
export interface SuppressionProblem {
  readonly system: CellSystem;
  /** True value of every cell. */
  readonly value: Float64Array;
  /** What the attacker knows a cell cannot exceed (a share's published denominator); Infinity where nothing. */
  readonly upper: Float64Array;
  /**
   * What the attacker knows a cell is at least (a denominator is no smaller
   * than its published numerator); absent: 0. Never above the cell's value.
   */
  readonly lower?: Float64Array;
  /** Information lost by suppressing a cell (default: its value + 1). */
  readonly weight: Float64Array;
  readonly primary: ReadonlyMap<number, Protection>;
  /**
   * Published cells whose true value the attacker only knows within an
   * interval (rounded cells): lower and upper bound. Absent: published means exact.
   */
  readonly publishedRange?: { readonly lo: Float64Array; readonly hi: Float64Array };
  /**
   * The final attack must report every suppressed cell's exact maximum (the
   * measure is a denominator whose maximum bounds its numerator in a later
   * problem), not just enough of its range to prove it protected. A mask (1
   * per cell) when only some measures of a joint problem are denominators.
   */
  readonly exactHigh?: boolean | Uint8Array;
}

/** The least value the attacker allows the cell: its known lower bound, else 0. */
export function floorOf(problem: SuppressionProblem, cell: number): number {
  return Math.min(problem.lower?.[cell] ?? 0, problem.value[cell]!);
}

export function defaultWeights(value: Float64Array): Float64Array {
  return value.map((v) => Math.abs(v) + 1);
}
