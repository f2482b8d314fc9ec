import type { CountMeasure, MeanMeasure } from '../../schemas/tables.js';
import type { PreparedTable } from './preparedTable.js';
import type { JudgedProblem } from './problemCells.js';
import type { Interval } from './sdc/attack.js';
import type { ProtectionOutcome } from './sdc/protect.js';

/** One problem's protected pattern, kept until later problems have told what they reveal of it. */
export interface SolvedProblem {
  readonly measures: readonly (CountMeasure | MeanMeasure)[];
  readonly tables: readonly PreparedTable[];
  readonly judged: JudgedProblem;
  outcome: ProtectionOutcome;
  /** The attacker's interval of every suppressed cell, after every bound the release gives away. */
  intervals: ReadonlyMap<number, Interval>;
}
