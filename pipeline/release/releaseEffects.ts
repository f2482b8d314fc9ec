import type { Rules } from '../../schemas/rules.js';
import type { LoadedEffects } from './loadMetrics.js';
import type { CellStatus, DisclosureLogEntry, ReleasedTable } from './releaseTables.js';

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

/** The cells of the assignments table that hold the same numbers as a programme effect row (docs/contracts.md). */
const LINKED_ASSIGNMENTS = { table: 'assignments_by_programme_cohort_arm', outcomes: { ended_within_12m: ['ended_known', 'ended_within_12m'], durable_outflow: ['durable_known', 'durable_outflow'] } as Record<string, [string, string]> };

/**
 * Effect rows (treatment vs control shares, difference, CI) are not additive
 * tables, so they get no secondary suppression of their own: a row is
 * suppressed whole when any group breaks the share rules (n, x and n − x each
 * at least their minimum, persons at least the threshold), or when the
 * released assignments table suppressed the same numbers.
 */
export function releaseEffects(effects: LoadedEffects, released: readonly ReleasedTable[], rules: Rules, log: DisclosureLogEntry[]): ReleasedEffects {
  const spec = effects.spec;
  const labelColumns = [...spec.dimensions, ...spec.groups.map((g) => g.label)];
  const countColumns = spec.groups.flatMap((g) => [g.n, g.x, g.censored]);
  const valueColumns = [...spec.groups.map((g) => g.share), ...spec.estimates];
  const rowColumns = [...spec.groups.flatMap((g) => [g.n, g.x, g.share]), ...spec.estimates];
  const columns = new Map<string, ReleasedEffectsColumn>();
  for (const c of countColumns) columns.set(c, { name: c, kind: 'count', values: [], status: [] });
  for (const c of valueColumns) columns.set(c, { name: c, kind: 'value', values: [], status: [] });
  const assignments = released.find((t) => t.spec.name === LINKED_ASSIGNMENTS.table);
  const labels: string[][] = [];
  effects.rows.forEach((row) => {
    const label = labelColumns.map((c) => String(row[c] ?? ''));
    labels.push(label);
    const cellName = labelColumns.map((c, i) => `${c}=${label[i]}`).join(', ');
    const num = (c: string): number => Number(row[c] ?? 0);
    let reason: { rule: string; reason: string } | undefined;
    for (const g of spec.groups) {
      const n = num(g.n);
      const x = num(g.x);
      const persons = g.persons === undefined || row[g.persons] === null || row[g.persons] === undefined ? n : num(g.persons);
      if (n < rules.rates.minDenominator) reason ??= { rule: 'rate.denominator', reason: `${g.name} group of ${n}, fewer than ${rules.rates.minDenominator}` };
      else if (persons < rules.frequency.minPersons) reason ??= { rule: 'frequency', reason: `${g.name} group of ${persons} persons, fewer than ${rules.frequency.minPersons}` };
      else if (x < rules.rates.minNumerator) reason ??= { rule: 'rate.numerator', reason: `${g.name} numerator ${x} below ${rules.rates.minNumerator}` };
      else if (n - x < rules.rates.minComplement) reason ??= { rule: 'rate.complement', reason: `${g.name} complement ${n - x} below ${rules.rates.minComplement}` };
    }
    if (reason === undefined && assignments !== undefined && row['design'] === 'programme') {
      const linked = LINKED_ASSIGNMENTS.outcomes[String(row['outcome'])];
      if (linked !== undefined) {
        for (const g of spec.groups) {
          const at = assignments.dimensionValues.findIndex((v) => v[0] === String(row['comparison']) && v[1] === String(row['cohort']) && v[2] === g.name);
          if (at === -1) continue;
          const hidden = linked.some((column) => assignments.columns.find((c) => c.name === column)?.status[at] === 'suppressed');
          if (hidden) reason ??= { rule: 'linked', reason: `the same ${g.name} numbers are suppressed in ${LINKED_ASSIGNMENTS.table}` };
        }
      }
    }
    for (const c of countColumns) {
      const v = row[c] === null || row[c] === undefined ? null : num(c);
      const isCensored = spec.groups.some((g) => g.censored === c);
      const small = isCensored && v !== null && ((v > 0 && v < rules.frequency.minPersons) || (v === 0 && rules.frequency.zerosAreSensitive));
      const hide = (reason !== undefined && rowColumns.includes(c)) || small;
      push(columns.get(c)!, hide ? null : v, hide);
      if (small) log.push(entry(spec.name, cellName, c, 'frequency', `${v} units, fewer than ${rules.frequency.minPersons}`));
    }
    for (const c of valueColumns) {
      const v = row[c] === null || row[c] === undefined ? null : num(c);
      push(columns.get(c)!, reason === undefined ? v : null, reason !== undefined);
    }
    if (reason !== undefined) for (const c of rowColumns) log.push(entry(spec.name, cellName, c, reason.rule, reason.reason));
  });
  return { name: spec.name, title: spec.title, description: spec.description, labelColumns, labels, columns: [...columns.values()] };
}

function push(column: ReleasedEffectsColumn, value: number | null, suppressed: boolean): void {
  column.values.push(value);
  column.status.push(suppressed ? 'suppressed' : 'published');
}

function entry(table: string, cell: string, column: string, rule: string, reason: string): DisclosureLogEntry {
  return { table, cell, column, suppression: 'primary', rule, reason, intervalLow: null, intervalHigh: null, protectionLevel: null };
}
