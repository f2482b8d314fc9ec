import { DataError } from '../core/errors.js';
import { countProtectionLevel, type Rules } from '../../schemas/rules.js';
import type { LoadedEffects } from './loadMetrics.js';
import type { CellStatus, DisclosureLogEntry, ReleasedTable } from './releaseTables.js';
import { CellSystem, TableLayout } from './sdc/cellSystem.js';
import { DimensionBuilder, TOTAL } from './sdc/dimension.js';
import { defaultWeights, type SuppressionProblem } from './sdc/problem.js';
import { protectCells, ProtectionRefusal, type PrimaryFinding, type ProtectionOutcome } from './sdc/protect.js';

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
  readonly attack: { suppressedCells: number; exactlyRecoverable: number; narrowedBelowProtection: number };
}

/** The cells of the assignments table that hold the same numbers as a programme effect row (docs/contracts.md). */
const LINKED_ASSIGNMENTS = {
  table: 'assignments_by_programme_cohort_arm',
  outcomes: {
    ended_within_12m: ['ended_known', 'ended_within_12m'],
    durable_outflow: ['durable_known', 'durable_outflow'],
  } as Record<string, [string, string]>,
};

/** The dimension whose `Total` pools the others: an effect's counts add up over it. */
const POOLED = 'cohort';

/**
 * Effect rows (treatment vs control shares, difference, CI). Primary: a row
 * is suppressed whole when any group breaks the share rules (n, x and n − x
 * each at least their minimum, persons at least the threshold), or when the
 * released assignments table suppressed the same numbers; a small censored
 * count is suppressed alone. The counts (n, x, censored) of one comparison,
 * outcome and group add up over the cohorts to the pooled `Total` cohort, so
 * each count column is an additive table over cohort and goes through the
 * same secondary suppression and attacker LPs as every aggregate table —
 * otherwise a suppressed cohort would be the Total minus the published ones.
 * Shares, difference and CI are derived from the counts of their row: they
 * are suppressed whole whenever any n or x of the row is.
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
  const valueColumns = [...spec.groups.map((g) => g.share), ...spec.estimates];
  const shareCounts = spec.groups.flatMap((g) => [g.n, g.x]);
  const width = countProtectionLevel(rules);
  const assignments = released.find((t) => t.spec.name === LINKED_ASSIGNMENTS.table);
  const rows = effects.rows;
  const labels = rows.map((row) => labelColumns.map((c) => String(row[c] ?? '')));
  const cellNames = labels.map((label) => labelColumns.map((c, i) => `${c}=${label[i]}`).join(', '));
  const num = (row: Record<string, string | number | null>, c: string): number => Number(row[c] ?? 0);

  // Primary findings per count column and row.
  const rowBreaksRules = new Uint8Array(rows.length);
  const primary = new Map<string, (PrimaryFinding | undefined)[]>(
    countColumns.map((c) => [c, rows.map(() => undefined)]),
  );
  rows.forEach((row, i) => {
    let reason: { rule: string; reason: string } | undefined;
    for (const g of spec.groups) {
      const n = num(row, g.n);
      const x = num(row, g.x);
      const persons =
        g.persons === undefined || row[g.persons] === null || row[g.persons] === undefined ? n : num(row, g.persons);
      if (n < rules.rates.minDenominator)
        reason ??= {
          rule: 'rate.denominator',
          reason: `${g.name} group of ${n}, fewer than ${rules.rates.minDenominator}`,
        };
      else if (persons < rules.frequency.minPersons)
        reason ??= {
          rule: 'frequency',
          reason: `${g.name} group of ${persons} persons, fewer than ${rules.frequency.minPersons}`,
        };
      else if (x < rules.rates.minNumerator)
        reason ??= { rule: 'rate.numerator', reason: `${g.name} numerator ${x} below ${rules.rates.minNumerator}` };
      else if (n - x < rules.rates.minComplement)
        reason ??= {
          rule: 'rate.complement',
          reason: `${g.name} complement ${n - x} below ${rules.rates.minComplement}`,
        };
    }
    if (reason === undefined && assignments !== undefined && row.design === 'programme') {
      const linked = LINKED_ASSIGNMENTS.outcomes[String(row.outcome)];
      if (linked !== undefined) {
        for (const g of spec.groups) {
          const at = assignments.dimensionValues.findIndex(
            (v) => v[0] === String(row.comparison) && v[1] === String(row.cohort) && v[2] === g.name,
          );
          if (at === -1) continue;
          const hidden = linked.some(
            (column) => assignments.columns.find((c) => c.name === column)?.status[at] === 'suppressed',
          );
          if (hidden)
            reason ??= {
              rule: 'linked',
              reason: `the same ${g.name} numbers are suppressed in ${LINKED_ASSIGNMENTS.table}`,
            };
        }
      }
    }
    if (reason !== undefined) {
      rowBreaksRules[i] = 1;
      for (const c of shareCounts) primary.get(c)![i] = { ...reason, width, prefer: 'up' };
    }
    for (const g of spec.groups) {
      if (row[g.censored] === null || row[g.censored] === undefined) continue;
      const v = num(row, g.censored);
      if ((v > 0 && v < rules.frequency.minPersons) || (v === 0 && rules.frequency.zerosAreSensitive)) {
        primary.get(g.censored)![i] ??= {
          rule: 'frequency',
          reason: `${v} units, fewer than ${rules.frequency.minPersons}`,
          width,
          prefer: 'up',
        };
      }
    }
  });

  // Secondary suppression per count column over the cohorts of one comparison × outcome × groups.
  const suppressed = new Map<string, Uint8Array>(countColumns.map((c) => [c, new Uint8Array(rows.length)]));
  const secondary = new Map<string, Uint8Array>(countColumns.map((c) => [c, new Uint8Array(rows.length)]));
  const intervals = new Map<string, ({ lo: number; hi: number } | undefined)[]>(
    countColumns.map((c) => [c, rows.map(() => undefined)]),
  );
  const attack = { suppressedCells: 0, exactlyRecoverable: 0, narrowedBelowProtection: 0 };
  let lpSolves = 0;
  const pooledAt = labelColumns.indexOf(POOLED);
  const partitions = new Map<string, number[]>();
  labels.forEach((label, i) => {
    const k = label.filter((_, j) => j !== pooledAt).join('\u0000');
    const list = partitions.get(k);
    if (list === undefined) partitions.set(k, [i]);
    else list.push(i);
  });
  for (const members of partitions.values()) {
    const layout = pooledAt === -1 ? undefined : cohortLayout(spec.name, labels, members, pooledAt);
    for (const column of countColumns) {
      const findings = primary.get(column)!;
      const hit = suppressed.get(column)!;
      // A programme's counts are the assignments table's own cells, protected there across cohort and arm:
      // here they take the same status (suppressing a number published there would hide nothing, and
      // publishing one suppressed there would undo its protection).
      const mirrored =
        assignments === undefined ? undefined : linkedStatuses(assignments, rows, members, column, spec.groups);
      if (mirrored !== undefined) {
        members.forEach((i, k) => {
          hit[i] = mirrored[k] === 'suppressed' ? 1 : 0;
          if (hit[i] === 1 && findings[i] === undefined) {
            findings[i] = {
              rule: 'linked',
              reason: `suppressed in ${LINKED_ASSIGNMENTS.table}, which holds the same number`,
              width,
              prefer: 'up',
            };
          }
        });
        continue;
      }
      for (const i of members) if (findings[i] !== undefined) hit[i] = 1;
      if (layout === undefined || !members.some((i) => findings[i] !== undefined)) continue;
      const { table, localOf } = layout;
      const system = CellSystem.link([table]);
      const value = new Float64Array(system.cellCount);
      const cellOfRow = new Map<number, number>();
      for (const i of members) {
        const cell = system.cellOf[0]![localOf.get(i)!]!;
        cellOfRow.set(i, cell);
        const v = num(rows[i]!, column);
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
      const problem: SuppressionProblem = {
        system,
        value,
        upper: new Float64Array(system.cellCount).fill(Number.POSITIVE_INFINITY),
        weight: defaultWeights(value),
        primary: primaryCells,
      };
      let outcome: ProtectionOutcome;
      try {
        // protectCells ends with the attacker LPs on every suppressed cell and refuses a narrow interval.
        outcome = await protectCells(problem);
      } catch (error) {
        if (error instanceof ProtectionRefusal) {
          throw new DataError(
            'RELEASE_REFUSED',
            `Release refused: table '${spec.name}', column '${column}', ${error.cellName}: ${error.why}. Nothing was written.`,
            [{ file: effects.file, column, rule: 'release.protection', message: `${error.cellName}: ${error.why}` }],
          );
        }
        throw error;
      }
      lpSolves += outcome.lpSolves;
      for (const i of members) {
        const cell = cellOfRow.get(i)!;
        if (outcome.suppressed[cell] !== 1) continue;
        hit[i] = 1;
        if (findings[i] === undefined) secondary.get(column)![i] = 1;
        const interval = outcome.intervals.get(cell);
        intervals.get(column)![i] = interval;
        attack.suppressedCells++;
        if (interval !== undefined && interval.hi - interval.lo < 1e-6) attack.exactlyRecoverable++;
        if (interval === undefined || interval.hi - interval.lo + 1e-6 < width) attack.narrowedBelowProtection++;
      }
    }
  }

  const columns = new Map<string, ReleasedEffectsColumn>();
  for (const c of countColumns) columns.set(c, { name: c, kind: 'count', values: [], status: [] });
  for (const c of valueColumns) columns.set(c, { name: c, kind: 'value', values: [], status: [] });
  rows.forEach((row, i) => {
    const value = (c: string): number | null => (row[c] === null || row[c] === undefined ? null : num(row, c));
    for (const c of countColumns) {
      const hide = suppressed.get(c)![i] === 1;
      push(columns.get(c)!, hide ? null : value(c), hide);
      if (!hide) continue;
      const finding = primary.get(c)![i];
      const interval = intervals.get(c)![i];
      log.push({
        table: spec.name,
        cell: cellNames[i]!,
        column: c,
        suppression: finding !== undefined ? 'primary' : 'secondary',
        rule: finding?.rule ?? 'secondary',
        reason:
          finding?.reason ??
          'protects a suppressed cohort against recomputation from the pooled Total and the published cohorts',
        intervalLow: interval?.lo ?? null,
        intervalHigh: interval === undefined || !Number.isFinite(interval.hi) ? null : interval.hi,
        protectionLevel: finding?.width ?? null,
      });
    }
    // Shares, difference and CI are functions of the row's n and x: with any of them hidden (or the row
    // breaking the share rules, even where its counts are published in the assignments table), all are.
    const derivedHidden = rowBreaksRules[i] === 1 || shareCounts.some((c) => suppressed.get(c)![i] === 1);
    for (const c of valueColumns) {
      push(columns.get(c)!, derivedHidden ? null : value(c), derivedHidden);
      if (derivedHidden) {
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
    }
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
    attack,
  };
}

/** The assignments columns holding an effect count, by outcome: n, x, censored. */
const LINKED_COLUMNS: Record<string, { n: string; x: string; censored: string }> = {
  ended_within_12m: { n: 'ended_known', x: 'ended_within_12m', censored: 'ended_censored' },
  durable_outflow: { n: 'durable_known', x: 'durable_outflow', censored: 'durable_censored' },
};

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
  groups: LoadedEffects['spec']['groups'],
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

function push(column: ReleasedEffectsColumn, value: number | null, suppressed: boolean): void {
  column.values.push(value);
  column.status.push(suppressed ? 'suppressed' : 'published');
}
