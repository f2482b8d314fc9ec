import { attackIntervals, type Interval } from './attack.js';
import type { LpTally } from './lpTally.js';
import type { Protection, SuppressionProblem, Witness } from './problem.js';
import { secondarySuppression, UnprotectableCellError } from './secondary.js';

/** Why a cell is sensitive: the rule it broke, in words a privacy officer reads in the disclosure log. */
export interface PrimaryFinding extends Protection {
  readonly rule: string;
  readonly reason: string;
}

export interface ProtectionOutcome {
  readonly suppressed: Uint8Array;
  readonly secondary: readonly number[];
  /** The attacker's interval for every suppressed cell, after the final pattern. */
  readonly intervals: ReadonlyMap<number, Interval>;
  readonly lpSolves: number;
  /** The alternative tables secondary suppression found: a later check on the same pattern starts from them. */
  readonly witnesses: readonly Witness[];
  /** The attacker's LPs of the protection and of its check. */
  readonly tally: LpTally;
}

/** A pattern that fails the attacker check, or a cell no pattern can protect: the release is refused. */
export class ProtectionRefusal extends Error {
  constructor(
    readonly cell: number,
    readonly cellName: string,
    readonly why: string,
  ) {
    super(`${cellName}: ${why}`);
  }
}

/** Secondary suppression, then the interval attack on every suppressed cell as the independent check. */
export async function protectCells(problem: SuppressionProblem): Promise<ProtectionOutcome> {
  let result: Awaited<ReturnType<typeof secondarySuppression>>;
  try {
    result = await secondarySuppression(problem);
  } catch (error) {
    if (error instanceof UnprotectableCellError) {
      throw new ProtectionRefusal(error.cell, problem.system.describe(error.cell), `cannot be protected: ${error.why}`);
    }
    throw error;
  }
  const intervals = await verifyPattern(problem, result.suppressed, result.witnesses, result.tally);
  return publishKnown(problem, {
    suppressed: result.suppressed,
    secondary: result.secondary,
    intervals,
    lpSolves: result.lpSolves,
    witnesses: result.witnesses,
    tally: result.tally,
  });
}

/**
 * A secondary cell the attacker can work out exactly hides nothing, and a
 * researcher should not have to work it out: publish it. Its value is implied
 * by what is published already, so no other cell's interval changes.
 */
export function publishKnown(problem: SuppressionProblem, outcome: ProtectionOutcome): ProtectionOutcome {
  const known = new Set<number>();
  for (const [cell, interval] of outcome.intervals) {
    if (!problem.primary.has(cell) && interval.hi - interval.lo < 1e-6) known.add(cell);
  }
  if (known.size === 0) return outcome;
  const suppressed = outcome.suppressed.slice();
  for (const cell of known) suppressed[cell] = 0;
  const intervals = new Map([...outcome.intervals].filter(([cell]) => !known.has(cell)));
  return { ...outcome, suppressed, intervals, secondary: outcome.secondary.filter((c) => !known.has(c)) };
}

/**
 * The interval attack on a pattern; refuses (ProtectionRefusal) when a
 * primary cell's interval is narrower than its protection level. Witnesses
 * are checked before they count, so a wrong one costs LPs, never safety.
 */
export async function verifyPattern(
  problem: SuppressionProblem,
  suppressed: Uint8Array,
  witnesses: readonly Witness[] = [],
  tally?: LpTally,
): Promise<Map<number, Interval>> {
  const intervals = await attackIntervals(problem, suppressed, undefined, {
    witnesses,
    ...(tally === undefined ? {} : { tally }),
  });
  for (const [cell, protection] of problem.primary) {
    const interval = intervals.get(cell);
    const width = interval === undefined ? 0 : interval.hi - interval.lo;
    if (width + 1e-6 < protection.width) {
      throw new ProtectionRefusal(
        cell,
        problem.system.describe(cell),
        `after suppression an attacker can still narrow it to [${fmt(interval?.lo)}, ${fmt(interval?.hi)}], narrower than its protection level ${protection.width}`,
      );
    }
  }
  return intervals;
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '?';
  return Number.isFinite(n) ? String(Math.round(n * 100) / 100) : '∞';
}
