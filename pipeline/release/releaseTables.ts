import type { Rules } from '../../schemas/rules.js';
import type { AggregateTableSpec, CountMeasure } from '../../schemas/tables.js';
import { learnedBounds } from './denominatorBounds.js';
import { AttackTally, type AttackSummary, type DisclosureLogEntry, suppressionEntry } from './disclosureLog.js';
import type { LoadedTable } from './loadedTable.js';
import { dimensionValuesInOrder, isMargin, type PreparedTable, prepareTable } from './preparedTable.js';
import { judgeProblem, type ReleasedSoFar } from './problemCells.js';
import { problemsInOrder } from './problemOrder.js';
import { protectProblem, refusal } from './protectProblem.js';
import type { CellStatus, ReleasedTable } from './releasedTable.js';
import { type TableUtility, UtilityCounter } from './releaseUtility.js';
import type { Interval } from './sdc/attack.js';
import { LpTally } from './sdc/lpTally.js';
import { ProtectionRefusal, publishKnown, verifyPattern } from './sdc/protect.js';
import { roundCount } from './sdc/rounding.js';
import type { SolvedProblem } from './solvedProblem.js';

/** A table's utility with what only the internal disclosure log may say: how many suppressions were primary. */
export interface TableLoss extends TableUtility {
  readonly primaryValues: number;
  readonly secondaryValues: number;
}

export interface ReleaseResult {
  readonly tables: readonly ReleasedTable[];
  readonly log: readonly DisclosureLogEntry[];
  readonly loss: Readonly<Record<string, TableLoss>>;
  readonly lpSolves: number;
  /** The attacker's LPs: while protecting, checking and learning what later tables reveal. */
  readonly lps: LpTally;
  readonly attack: AttackSummary;
  /** Measures (population:column) protected without their denominator's bound, because no pattern existed with it. */
  readonly boundsRelaxed: readonly string[];
}

/**
 * Disclosure control over every aggregate table of a metrics stage (and of
 * `protect`): the primary rules per cell and measure (sdc/primaryRules.ts),
 * secondary suppression per measure across the tables of one population
 * (linked tables share their common cells), the interval attack as check,
 * optional rounding. Three passes: each problem in dependency order; then
 * what later problems give away of earlier ones, checked again; then the
 * attack tally and the disclosure log. Refuses (DataError) when a cell cannot
 * be protected, naming table, cell, column and why.
 */
export async function releaseTables(loaded: readonly LoadedTable[], rules: Rules): Promise<ReleaseResult> {
  const prepared = loaded.map(prepareTable);
  const released = new ReleasedColumns();
  const boundsRelaxed: string[] = [];
  const solved: SolvedProblem[] = [];
  let lpSolves = 0;
  const lps = new LpTally();

  for (const { measures, tables } of problemsInOrder(prepared)) {
    const judged = judgeProblem(measures, tables, rules, released);
    const columnsName = measures.map((m) => m.column).join('+');
    const outcome = await protectProblem(judged, tables, columnsName, boundsRelaxed);
    lpSolves += outcome.lpSolves;
    lps.add(outcome.tally);
    const done: SolvedProblem = { measures, tables, judged, outcome, intervals: outcome.intervals };
    solved.push(done);
    released.record(done, rules);
  }

  for (const done of solved) {
    const learned = await learnedBounds(done, solved, rules, lps, (table, column) => ({
      status: released.status(table, column)!,
      values: released.values(table, column)!,
    }));
    if (learned.lower === undefined && learned.upper === undefined) continue;
    const { problem } = done.judged;
    const upper =
      learned.upper === undefined ? problem.upper : problem.upper.map((u, c) => Math.min(u, learned.upper![c]!));
    try {
      const bounded = { ...problem, upper, ...(learned.lower === undefined ? {} : { lower: learned.lower }) };
      const intervals = await verifyPattern(bounded, done.outcome.suppressed, done.outcome.witnesses, lps);
      // What later tables give away can pin a secondary cell too: then it is published like any known cell.
      done.outcome = publishKnown(bounded, { ...done.outcome, intervals });
      done.intervals = done.outcome.intervals;
      released.record(done, rules);
    } catch (error) {
      if (error instanceof ProtectionRefusal)
        throw refusal(
          done.judged.joint,
          done.tables,
          error,
          `${error.why}, given what later tables reveal of it (a denominator is at least its numerator; a structural copy lies where its copy does)`,
        );
      throw error;
    }
  }

  const tally = new AttackTally();
  const log: DisclosureLogEntry[] = [];
  for (const done of solved) logProblem(done, tally, log);

  const tablesOut: ReleasedTable[] = prepared.map((table) => {
    const spec = table.loaded.spec;
    return {
      spec,
      layout: table.layout,
      dimensionColumns: table.dimensionColumns,
      dimensionValues: Array.from({ length: table.layout.size }, (_, local) => dimensionValuesInOrder(table, local)),
      columns: spec.measures.map((m) => ({
        name: m.column,
        kind: m.kind,
        description: m.description ?? '',
        values: released.values(spec.name, m.column)! as (number | null)[],
        status: released.status(spec.name, m.column)! as CellStatus[],
      })),
    };
  });
  const loss: Record<string, TableLoss> = {};
  tablesOut.forEach((table, i) => {
    loss[table.spec.name] = lossOf(table, prepared[i]!, log);
  });
  return { tables: tablesOut, log, loss, lpSolves, lps, attack: tally.summary(), boundsRelaxed };
}

/** Statuses, values and attack intervals of every measure solved so far, by table and column. */
class ReleasedColumns implements ReleasedSoFar {
  private readonly statuses = new Map<string, CellStatus[]>();
  private readonly published = new Map<string, (number | null)[]>();
  private readonly attacked = new Map<string, (Interval | undefined)[]>();

  status(table: string, column: string): readonly CellStatus[] | undefined {
    return this.statuses.get(key(table, column));
  }

  values(table: string, column: string): readonly (number | null)[] | undefined {
    return this.published.get(key(table, column));
  }

  intervals(table: string, column: string): readonly (Interval | undefined)[] | undefined {
    return this.attacked.get(key(table, column));
  }

  /** What a protected problem releases, cell by cell. */
  record(done: SolvedProblem, rules: Rules): void {
    const { judged, outcome } = done;
    done.tables.forEach((table, t) => {
      const name = table.loaded.spec.name;
      for (const measure of done.measures) {
        const cellOf = judged.joint.cellsOf(t, measure.column);
        if (cellOf === undefined) continue;
        const statuses: CellStatus[] = [];
        const values: (number | null)[] = [];
        const intervals: (Interval | undefined)[] = [];
        const source = table.data.get(measure.column)!;
        for (let local = 0; local < table.layout.size; local++) {
          const cell = cellOf[local]!;
          intervals.push(outcome.intervals.get(cell));
          if (outcome.suppressed[cell] === 1) {
            statuses.push('suppressed');
            values.push(null);
          } else if (judged.empty.has(cell)) {
            statuses.push('empty');
            values.push(null);
          } else if (judged.rounded) {
            statuses.push('rounded');
            values.push(roundCount(source[local]!, rules.rounding) ?? null);
          } else {
            statuses.push('published');
            const v = source[local]!;
            values.push(Number.isNaN(v) ? null : v);
          }
        }
        this.statuses.set(key(name, measure.column), statuses);
        this.published.set(key(name, measure.column), values);
        this.attacked.set(key(name, measure.column), intervals);
      }
    });
  }
}

function key(table: string, column: string): string {
  return `${table}\u0000${column}`;
}

/** The attack tally and one disclosure-log line per suppressed cell of a solved problem. */
function logProblem(done: SolvedProblem, tally: AttackTally, log: DisclosureLogEntry[]): void {
  const { judged, outcome, intervals } = done;
  const secondary = new Set(outcome.secondary);
  for (const [cell, interval] of intervals) {
    const finding = judged.primary.get(cell);
    tally.add(interval, finding?.width ?? 0, finding !== undefined);
  }
  done.tables.forEach((table, t) => {
    for (const measure of done.measures) {
      const cellOf = judged.joint.cellsOf(t, measure.column);
      if (cellOf === undefined) continue;
      for (let local = 0; local < table.layout.size; local++) {
        const cell = cellOf[local]!;
        if (outcome.suppressed[cell] !== 1) continue;
        const finding = judged.primary.get(cell);
        const where = { table: table.loaded.spec.name, cell: table.layout.describe(local), column: measure.column };
        // A copy of a suppressed cell is suppressed because that one is: not sensitive in itself.
        const own = finding !== undefined && finding.rule !== 'structural' && !secondary.has(cell);
        const entry = suppressionEntry(
          where,
          own ? finding : undefined,
          intervals.get(cell),
          finding?.rule === 'structural' ? finding.reason : undefined,
        );
        log.push(
          finding?.rule === 'structural'
            ? { ...entry, rule: 'structural' }
            : judged.zeroParts.has(cell)
              ? {
                  ...entry,
                  rule: 'relation.zero-part',
                  reason: 'a zero part of a suppressed zero total: published, all its parts would give the total away',
                }
              : entry,
        );
      }
    }
  });
}

/** The table's first count of units: what its persons are counted by. */
function populationCount(spec: AggregateTableSpec): CountMeasure | undefined {
  return spec.measures.find((m): m is CountMeasure => m.kind === 'count' && m.nature === 'units');
}

function lossOf(table: ReleasedTable, prepared: PreparedTable, log: readonly DisclosureLogEntry[]): TableLoss {
  const name = table.spec.name;
  const counter = new UtilityCounter();
  const population = populationCount(table.spec);
  const populationColumn =
    population === undefined ? undefined : table.columns.find((c) => c.name === population.column);
  const persons =
    prepared.data.get('persons') ?? (population === undefined ? undefined : prepared.data.get(population.column));
  for (let local = 0; local < table.layout.size; local++) {
    const margin = isMargin(prepared, local);
    const p = persons?.[local] ?? 0;
    counter.row(
      margin,
      table.columns.map((c) => ({
        status: c.status[local]!,
        ...(c.kind === 'count' ? { count: prepared.data.get(c.name)![local]! } : {}),
      })),
    );
    if (!margin && populationColumn !== undefined) counter.persons(p, populationColumn.status[local] === 'suppressed');
  }
  const entries = log.filter((e) => e.table === name);
  return {
    ...counter.result(),
    primaryValues: entries.filter((e) => e.suppression === 'primary').length,
    secondaryValues: entries.filter((e) => e.suppression === 'secondary').length,
  };
}
