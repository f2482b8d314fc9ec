import type { Rules } from '../../schemas/rules.js';
import type { CountNature } from '../../schemas/tables.js';
import { DataError } from '../core/errors.js';
import { AttackTally, type AttackSummary, type DisclosureLogEntry, suppressionEntry } from './disclosureLog.js';
import type { LoadedEffects } from './loadMetrics.js';
import type { CellStatus, ReleasedTable } from './releasedTable.js';
import { type TableUtility, UtilityCounter } from './releaseUtility.js';
import type { Interval } from './sdc/attack.js';
import { CellSystem, TableLayout } from './sdc/cellSystem.js';
import { DimensionBuilder, TOTAL } from './sdc/dimension.js';
import { LpTally } from './sdc/lpTally.js';
import { countFinding } from './sdc/primaryRules.js';
import type { SuppressionProblem } from './sdc/problem.js';
import { type PrimaryFinding, type ProtectionOutcome, ProtectionRefusal, protectCells } from './sdc/protect.js';
import { suppressionCost } from './sdc/suppressionCost.js';

export interface ReleasedEffectsColumn {
  readonly name: string;
  readonly kind: 'count' | 'value';
  readonly values: (number | null)[];
  readonly status: CellStatus[];
}

export interface ReleasedEffects {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** Dimension and group-label columns (strings). */
  readonly labelColumns: readonly string[];
  readonly labels: readonly string[][];
  readonly columns: readonly ReleasedEffectsColumn[];
}

export interface EffectsRelease {
  readonly effects: ReleasedEffects;
  readonly lpSolves: number;
  readonly lps: LpTally;
  readonly attack: AttackSummary;
  readonly utility: TableUtility;
}

/** The cells of the assignments table that hold the same numbers as a programme effect row (docs/contracts.md). */
const LINKED_ASSIGNMENTS = 'assignments_by_programme_cohort_arm';

/** The assignments columns holding an effect count, by outcome: n, x, censored. */
const LINKED_COLUMNS: Record<string, { n: string; x: string; censored: string }> = {
  ended_within_12m: { n: 'ended_known', x: 'ended_within_12m', censored: 'ended_censored' },
  durable_outflow: { n: 'durable_known', x: 'durable_outflow', censored: 'durable_censored' },
};

/** The dimension whose `Total` pools the others: an effect's counts add up over it. */
const POOLED = 'cohort';

type Group = LoadedEffects['spec']['groups'][number];

/**
 * Effect rows (treatment vs control shares, difference, CI), judged by the
 * same rules as every table (sdc/primaryRules.ts): a group's n is a count of
 * units, its x an attribute share of n, its censored count a timing count.
 * The counts of one comparison, outcome and group add up over the cohorts to
 * the pooled `Total` cohort, so each count column is an additive table over
 * cohort and goes through the same secondary suppression and attacker LPs as
 * every aggregate table; otherwise a suppressed cohort would be the Total
 * minus the published ones. A programme's counts are the assignments table's
 * own cells, protected there across cohort and arm: here they take the same
 * status. A share is derived from its group's n and x, the difference and CI
 * from both groups': each is suppressed whenever a count it is computed from is.
 */
export async function releaseEffects(
  effects: LoadedEffects,
  released: readonly ReleasedTable[],
  rules: Rules,
  log: DisclosureLogEntry[],
): Promise<EffectsRelease> {
  const spec = effects.spec;
  const labelColumns = [...spec.dimensions, ...spec.groups.map((g) => g.label)];
  const countColumns = spec.groups.flatMap((g) => [g.n, g.x, g.censored]);
  const assignments = released.find((t) => t.spec.name === LINKED_ASSIGNMENTS);
  const rows = effects.rows;
  const labels = rows.map((row) => labelColumns.map((c) => String(row[c] ?? '')));
  const cellNames = labels.map((label) => labelColumns.map((c, i) => `${c}=${label[i]}`).join(', '));
  const num = (row: Record<string, string | number | null>, c: string): number => Number(row[c] ?? 0);

  const primary = new Map<string, (PrimaryFinding | undefined)[]>(
    countColumns.map((c) => [c, rows.map(() => undefined)]),
  );
  rows.forEach((row, i) => {
    for (const g of spec.groups) {
      const persons =
        g.persons === undefined || row[g.persons] === null || row[g.persons] === undefined
          ? undefined
          : num(row, g.persons);
      const judge = (column: string, nature: CountNature, denominator?: number) => {
        const finding = countFinding(
          {
            value: num(row, column),
            nature,
            ...(persons === undefined || nature === 'timing' ? {} : { persons }),
            ...(denominator === undefined ? {} : { denominator }),
          },
          rules,
        );
        if (finding !== undefined) primary.get(column)![i] = finding;
      };
      judge(g.n, 'units');
      judge(g.x, 'attribute', num(row, g.n));
      judge(g.censored, 'timing');
    }
  });

  const suppressed = new Map<string, Uint8Array>(countColumns.map((c) => [c, new Uint8Array(rows.length)]));
  const mirrored = new Map<string, Uint8Array>(countColumns.map((c) => [c, new Uint8Array(rows.length)]));
  const intervals = new Map<string, (Interval | undefined)[]>(countColumns.map((c) => [c, rows.map(() => undefined)]));
  const secondary = new Map<string, Uint8Array>(countColumns.map((c) => [c, new Uint8Array(rows.length)]));
  const tally = new AttackTally();
  let lpSolves = 0;
  const lps = new LpTally();
  const pooledAt = labelColumns.indexOf(POOLED);
  for (const members of partitions(labels, pooledAt)) {
    const layout = pooledAt === -1 ? undefined : cohortLayout(spec.name, labels, members, pooledAt);
    for (const column of countColumns) {
      const findings = primary.get(column)!;
      const hit = suppressed.get(column)!;
      const linked =
        assignments === undefined ? undefined : linkedStatuses(assignments, rows, members, column, spec.groups);
      if (linked !== undefined) {
        // Suppressing a number published there would hide nothing; publishing one suppressed there would undo it.
        members.forEach((i, k) => {
          hit[i] = linked[k] === 'suppressed' ? 1 : 0;
          mirrored.get(column)![i] = 1;
        });
        continue;
      }
      for (const i of members) if (findings[i] !== undefined) hit[i] = 1;
      if (layout === undefined || !members.some((i) => findings[i] !== undefined)) continue;
      const outcome = await protectCohorts(effects, column, members, layout, findings, cellNames);
      lpSolves += outcome.lpSolves;
      lps.add(outcome.tally);
      for (const i of members) {
        const cell = outcome.cellOfRow.get(i)!;
        if (outcome.suppressed[cell] !== 1) continue;
        hit[i] = 1;
        if (findings[i] === undefined) secondary.get(column)![i] = 1;
        const interval = outcome.intervals.get(cell);
        intervals.get(column)![i] = interval;
        tally.add(interval, findings[i]?.width ?? 0, findings[i] !== undefined);
      }
    }
  }

  const columns = new Map<string, ReleasedEffectsColumn>();
  for (const c of countColumns) columns.set(c, { name: c, kind: 'count', values: [], status: [] });
  const derivedColumns = [...spec.groups.map((g) => g.share), ...spec.estimates];
  for (const c of derivedColumns) columns.set(c, { name: c, kind: 'value', values: [], status: [] });
  const utility = new UtilityCounter();
  rows.forEach((row, i) => {
    const value = (c: string): number | null => (row[c] === null || row[c] === undefined ? null : num(row, c));
    const hidden = (c: string) => suppressed.get(c)![i] === 1;
    for (const c of countColumns) {
      push(columns.get(c)!, hidden(c) ? null : value(c), hidden(c));
      // A mirrored count is logged where it is protected, in the assignments table.
      if (!hidden(c) || mirrored.get(c)![i] === 1) continue;
      const finding = secondary.get(c)![i] === 1 ? undefined : primary.get(c)![i];
      log.push(
        suppressionEntry(
          { table: spec.name, cell: cellNames[i]!, column: c },
          finding,
          intervals.get(c)![i],
          'protects a suppressed cohort against recomputation from the pooled Total and the published cohorts',
        ),
      );
    }
    // A share is x / n of its group; the difference, its standard error and CI use both groups.
    const groupHidden = (g: Group) => hidden(g.n) || hidden(g.x);
    const anyHidden = spec.groups.some(groupHidden);
    const derivedHidden = new Map<string, boolean>([
      ...spec.groups.map((g) => [g.share, groupHidden(g)] as [string, boolean]),
      ...spec.estimates.map((c) => [c, anyHidden] as [string, boolean]),
    ]);
    for (const c of derivedColumns) {
      const hide = derivedHidden.get(c)!;
      push(columns.get(c)!, hide ? null : value(c), hide);
      if (hide)
        log.push({
          table: spec.name,
          cell: cellNames[i]!,
          column: c,
          suppression: 'secondary',
          rule: 'derived',
          reason: 'computed from suppressed counts of its row',
          intervalLow: null,
          intervalHigh: null,
          protectionLevel: null,
        });
    }
    const margin = pooledAt !== -1 && labels[i]![pooledAt] === TOTAL;
    utility.row(margin, [
      ...countColumns.map((c) => ({ status: columns.get(c)!.status[i]!, count: num(row, c) })),
      ...derivedColumns.map((c) => ({ status: columns.get(c)!.status[i]! })),
    ]);
    if (!margin)
      for (const g of spec.groups)
        utility.persons(g.persons === undefined ? num(row, g.n) : num(row, g.persons), hidden(g.n));
  });
  return {
    effects: {
      name: spec.name,
      title: spec.title,
      description: spec.description,
      labelColumns,
      labels,
      columns: [...columns.values()],
    },
    lpSolves,
    lps,
    attack: tally.summary(),
    utility: utility.result(),
  };
}

/** Rows that differ only in their cohort: one comparison × outcome, its cohorts and pooled Total. */
function partitions(labels: readonly string[][], pooledAt: number): number[][] {
  const byKey = new Map<string, number[]>();
  labels.forEach((label, i) => {
    const k = label.filter((_, j) => j !== pooledAt).join('\u0000');
    const list = byKey.get(k);
    if (list === undefined) byKey.set(k, [i]);
    else list.push(i);
  });
  return [...byKey.values()];
}

/** Secondary suppression of one count column over the cohorts of one partition. */
async function protectCohorts(
  effects: LoadedEffects,
  column: string,
  members: readonly number[],
  layout: { table: TableLayout; localOf: Map<number, number> },
  findings: readonly (PrimaryFinding | undefined)[],
  cellNames: readonly string[],
): Promise<ProtectionOutcome & { cellOfRow: Map<number, number> }> {
  const system = CellSystem.link([layout.table]);
  const value = new Float64Array(system.cellCount);
  const cellOfRow = new Map<number, number>();
  for (const i of members) {
    const cell = system.cellOf[0]![layout.localOf.get(i)!]!;
    cellOfRow.set(i, cell);
    const v = Number(effects.rows[i]![column] ?? 0);
    if (v < 0 || !Number.isFinite(v))
      throw DataError.single('RELEASE_TABLE', {
        file: effects.file,
        row: i + 1,
        column,
        rule: 'table.negative',
        message: `effect count (${cellNames[i]}) is ${v}`,
      });
    value[cell] = v;
  }
  const broken = system.firstNonAdditive(value);
  if (broken !== undefined) {
    throw DataError.single('RELEASE_TABLE', {
      file: effects.file,
      column,
      rule: 'table.additivity',
      message: `${system.describe(system.relationParent(broken.relation))} differs by ${broken.excess} from the sum of its cohorts; the pooled Total cohort must add up`,
    });
  }
  const primaryCells = new Map<number, PrimaryFinding>();
  for (const i of members) if (findings[i] !== undefined) primaryCells.set(cellOfRow.get(i)!, findings[i]!);
  // A known zero hides nothing: it may not be suppressed (the same rule as every table).
  const fixed = value.map((v, cell) => (v === 0 && !primaryCells.has(cell) ? 1 : 0));
  const problem: SuppressionProblem = {
    system,
    value,
    upper: new Float64Array(system.cellCount).fill(Number.POSITIVE_INFINITY),
    weight: suppressionCost(value, system.marginLevels()),
    fixed: Uint8Array.from(fixed),
    primary: primaryCells,
  };
  try {
    // protectCells ends with the attacker LPs on every suppressed cell and refuses a narrow interval.
    return { ...(await protectCells(problem)), cellOfRow };
  } catch (error) {
    if (error instanceof ProtectionRefusal) {
      throw new DataError(
        'RELEASE_REFUSED',
        `Release refused: table '${effects.spec.name}', column '${column}', ${error.cellName}: ${error.why}. Nothing was written.`,
        [{ file: effects.file, column, rule: 'release.protection', message: `${error.cellName}: ${error.why}` }],
      );
    }
    throw error;
  }
}

/**
 * The released status of the assignments cell holding the same number as
 * each row's `column`, or undefined unless every row (the pooled Total too)
 * is a programme row with such a cell whose published value agrees.
 */
function linkedStatuses(
  assignments: ReleasedTable,
  rows: readonly Record<string, string | number | null>[],
  members: readonly number[],
  column: string,
  groups: readonly Group[],
): CellStatus[] | undefined {
  const statuses: CellStatus[] = [];
  for (const i of members) {
    const row = rows[i]!;
    const linked = LINKED_COLUMNS[String(row.outcome)];
    const group = groups.find((g) => g.n === column || g.x === column || g.censored === column);
    if (row.design !== 'programme' || linked === undefined || group === undefined) return undefined;
    const source = assignments.columns.find(
      (c) => c.name === (group.n === column ? linked.n : group.x === column ? linked.x : linked.censored),
    );
    const at = assignments.dimensionValues.findIndex(
      (v) => v[0] === String(row.comparison) && v[1] === String(row.cohort) && v[2] === group.name,
    );
    if (source === undefined || at === -1) return undefined;
    const status = source.status[at]!;
    if (status === 'published' && source.values[at] !== Number(row[column] ?? 0)) return undefined;
    // Rounded there: the exact count would be published here; leave it to this table's own protection.
    if (status === 'rounded') return undefined;
    statuses.push(status);
  }
  return statuses;
}

/**
 * One comparison × outcome × groups as a one-dimensional table over cohort
 * with the pooled `Total` as its margin; undefined when the rows have no
 * `Total` cohort (then nothing adds up, and primary suppression is all).
 */
function cohortLayout(
  name: string,
  labels: readonly string[][],
  members: readonly number[],
  pooledAt: number,
): { table: TableLayout; localOf: Map<number, number> } | undefined {
  if (!members.some((i) => labels[i]![pooledAt] === TOTAL)) return undefined;
  const builder = new DimensionBuilder([POOLED]);
  for (const i of members) builder.add([labels[i]![pooledAt]!]);
  const dimension = builder.build();
  const table = new TableLayout(name, [dimension]);
  const codeOf = new Map(dimension.codes.map((code, k) => [code.values[0]!, k]));
  const localOf = new Map(members.map((i) => [i, table.index([codeOf.get(labels[i]![pooledAt]!)!])]));
  if (new Set(localOf.values()).size !== members.length) {
    const i = members.find((m, k) => members.findIndex((o) => localOf.get(o) === localOf.get(m)) !== k)!;
    throw DataError.single('RELEASE_TABLE', {
      file: name,
      row: i + 1,
      column: POOLED,
      rule: 'table.duplicate',
      message: `duplicate effect row for cohort ${labels[i]![pooledAt]}`,
    });
  }
  return { table, localOf };
}

/** A value without a value (a share of no units) is empty: nothing to hide, and not a suppression. */
function push(column: ReleasedEffectsColumn, value: number | null, suppressed: boolean): void {
  column.values.push(suppressed ? null : value);
  column.status.push(suppressed ? 'suppressed' : value === null ? 'empty' : 'published');
}
