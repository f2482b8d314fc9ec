import type { Interval } from './sdc/attack.js';
import type { PrimaryFinding } from './sdc/protect.js';

/** One line of the internal disclosure log: never part of the bundle. */
export interface DisclosureLogEntry {
  readonly table: string;
  readonly cell: string;
  readonly column: string;
  readonly suppression: 'primary' | 'secondary';
  readonly rule: string;
  readonly reason: string;
  readonly intervalLow: number | null;
  readonly intervalHigh: number | null;
  readonly protectionLevel: number | null;
}

const SECONDARY_REASON = 'protects a primary cell against recomputation from published cells';

/** The log line of one suppressed cell: its primary finding if it has one (and was not also needed as a secondary). */
export function suppressionEntry(
  where: { readonly table: string; readonly cell: string; readonly column: string },
  finding: PrimaryFinding | undefined,
  interval: Interval | undefined,
  secondaryReason = SECONDARY_REASON,
): DisclosureLogEntry {
  return {
    ...where,
    suppression: finding !== undefined ? 'primary' : 'secondary',
    rule: finding?.rule ?? 'secondary',
    reason: finding?.reason ?? secondaryReason,
    intervalLow: interval?.lo ?? null,
    intervalHigh: interval === undefined || !Number.isFinite(interval.hi) ? null : interval.hi,
    protectionLevel: finding?.width ?? null,
  };
}

/** What the interval attack found over every suppressed cell of a release. */
export class AttackTally {
  suppressedCells = 0;
  exactlyRecoverable = 0;
  narrowedBelowProtection = 0;

  /**
   * Count one suppressed cell. A cell that needs no protection of its own (a
   * secondary suppression) may be known within any interval; only a primary
   * cell known exactly, or narrower than its protection level, is a failure.
   */
  add(interval: Interval | undefined, need: number, isPrimary: boolean): void {
    this.suppressedCells++;
    const width = interval === undefined ? 0 : interval.hi - interval.lo;
    if (width < 1e-6 && !(isPrimary && need === 0)) this.exactlyRecoverable++;
    if (width + 1e-6 < need) this.narrowedBelowProtection++;
  }

  addAll(other: AttackSummary): void {
    this.suppressedCells += other.suppressedCells;
    this.exactlyRecoverable += other.exactlyRecoverable;
    this.narrowedBelowProtection += other.narrowedBelowProtection;
  }

  summary(): AttackSummary {
    return {
      suppressedCells: this.suppressedCells,
      exactlyRecoverable: this.exactlyRecoverable,
      narrowedBelowProtection: this.narrowedBelowProtection,
    };
  }
}

export interface AttackSummary {
  readonly suppressedCells: number;
  readonly exactlyRecoverable: number;
  readonly narrowedBelowProtection: number;
}
