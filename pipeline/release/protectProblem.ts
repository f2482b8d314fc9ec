import { DataError } from '../core/errors.js';
import { secondsSince } from '../core/elapsed.js';
import { log } from '../core/log.js';
import type { MeasureSystem } from './measureSystem.js';
import type { JudgedProblem } from './problemCells.js';
import type { PreparedTable } from './preparedTable.js';
import { type ProtectionOutcome, ProtectionRefusal, protectCells, publishKnown, verifyPattern } from './sdc/protect.js';

/**
 * Secondary suppression and the interval attack for one judged problem. A
 * published denominator bounds its numerator; in small tables those bounds
 * can leave no room for any pattern. Then the pattern is found without the
 * bounds (as tau-ARGUS and sdcTable protect a table on its own) and checked
 * with them, so a release an attacker could narrow is still refused; the
 * measure is reported in `boundsRelaxed`.
 */
export async function protectProblem(
  judged: JudgedProblem,
  tables: readonly PreparedTable[],
  columnsName: string,
  boundsRelaxed: string[],
): Promise<ProtectionOutcome> {
  const { problem, joint } = judged;
  const started = process.hrtime.bigint();
  let outcome: ProtectionOutcome;
  try {
    try {
      outcome = await protectCells(problem);
    } catch (error) {
      if (!(error instanceof ProtectionRefusal) || !problem.upper.some((u) => Number.isFinite(u))) throw error;
      boundsRelaxed.push(`${tables[0]!.loaded.spec.population}:${columnsName}`);
      const relaxed = await protectCells({
        ...problem,
        upper: new Float64Array(problem.system.cellCount).fill(Number.POSITIVE_INFINITY),
      });
      outcome = publishKnown(problem, {
        ...relaxed,
        intervals: await verifyPattern(problem, relaxed.suppressed, relaxed.witnesses, relaxed.tally),
      });
    }
  } catch (error) {
    if (error instanceof ProtectionRefusal) throw refusal(joint, tables, error, error.why);
    throw error;
  }
  log().debug(
    {
      population: tables[0]!.loaded.spec.population,
      measures: columnsName,
      cells: problem.system.cellCount,
      primary: judged.primary.size,
      secondary: outcome.secondary.length,
      lpSolves: outcome.lpSolves,
      seconds: secondsSince(started),
    },
    'release problem protected',
  );
  return outcome;
}

/** A pattern no table can give: refuse the whole release, naming the table, cell and measure. */
export function refusal(
  joint: MeasureSystem,
  tables: readonly PreparedTable[],
  error: ProtectionRefusal,
  why: string,
): DataError {
  const { table, column } = joint.placement(error.cell);
  return new DataError(
    'RELEASE_REFUSED',
    `Release refused: ${error.cellName}, column '${column}': ${why}. Nothing was written.`,
    [
      {
        file: tables[table]!.loaded.file,
        column,
        rule: 'release.protection',
        message: `${error.cellName}: ${why}`,
      },
    ],
  );
}
