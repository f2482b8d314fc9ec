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
  /** What suppressing a cell costs the researcher, per unit the cell moves (suppressionCost.ts). */
  readonly weight: Float64Array;
  /**
   * 1 where a cell may not be suppressed: a known value that would hide
   * nothing (a zero where zeros are not sensitive, a value the row's
   * dimensions fix). The attacker knows it as published. Absent: none.
   */
  readonly fixed?: Uint8Array;
  readonly primary: ReadonlyMap<number, Protection>;
  /**
   * Published cells whose true value the attacker only knows within an
   * interval (rounded cells): lower and upper bound. Absent: published means exact.
   */
  readonly publishedRange?: { readonly lo: Float64Array; readonly hi: Float64Array };
}

/**
 * A table the attacker cannot rule out, as found while protecting: the cells
 * it moves away from their true values, and by how much. Secondary
 * suppression finds one with every protection LP; the attack checks each
 * against the final pattern before it trusts it.
 */
export interface Witness {
  readonly cells: Int32Array;
  readonly deltas: Float64Array;
}

/** The least value the attacker allows the cell: its known lower bound, else 0. */
export function floorOf(problem: SuppressionProblem, cell: number): number {
  return Math.min(problem.lower?.[cell] ?? 0, problem.value[cell]!);
}
