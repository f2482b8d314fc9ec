import type { CellStatus } from './releasedTable.js';

/**
 * What a release gives researchers, per table and overall: how many values it
 * holds, how many are published (or rounded), suppressed or empty; how many of
 * the margin values (Total rows, what tables are read by) are suppressed, and
 * of the margin counts of at least LARGE_MARGIN_PERSONS; and how many persons
 * sit in suppressed inner cells of the table's population count.
 * Reported in the manifest, report.html and the demo's closing lines, so that
 * what disclosure control cost is never hidden either.
 */
export interface TableUtility {
  /** Rows of the table (cells of its layout). */
  readonly cells: number;
  /** Values released: rows × measure columns. */
  readonly values: number;
  readonly published: number;
  readonly rounded: number;
  readonly suppressed: number;
  /** Means without contributors: no value, nothing hidden. */
  readonly empty: number;
  readonly marginValues: number;
  readonly marginSuppressed: number;
  readonly largeMarginValues: number;
  readonly largeMarginSuppressed: number;
  readonly personsSuppressed: number;
  readonly personsTotal: number;
}

/** A margin count of at least this many persons is one a researcher must be able to read. */
export const LARGE_MARGIN_PERSONS = 100;

export class UtilityCounter {
  private cells = 0;
  private values = 0;
  private published = 0;
  private rounded = 0;
  private suppressed = 0;
  private empty = 0;
  private marginValues = 0;
  private marginSuppressed = 0;
  private largeMarginValues = 0;
  private largeMarginSuppressed = 0;
  private personsSuppressed = 0;
  private personsTotal = 0;

  /** One row: whether it is a margin, and each of its values' status and, for a count, its true value. */
  row(margin: boolean, values: readonly { readonly status: CellStatus; readonly count?: number }[]): void {
    this.cells++;
    for (const { status, count } of values) {
      this.values++;
      if (status === 'published') this.published++;
      else if (status === 'rounded') this.rounded++;
      else if (status === 'suppressed') this.suppressed++;
      else this.empty++;
      if (!margin) continue;
      this.marginValues++;
      if (status === 'suppressed') this.marginSuppressed++;
      if (count !== undefined && count >= LARGE_MARGIN_PERSONS) {
        this.largeMarginValues++;
        if (status === 'suppressed') this.largeMarginSuppressed++;
      }
    }
  }

  /** Persons of an inner cell of the population count, and whether that count is suppressed. */
  persons(count: number, suppressed: boolean): void {
    this.personsTotal += count;
    if (suppressed) this.personsSuppressed += count;
  }

  result(): TableUtility {
    return {
      cells: this.cells,
      values: this.values,
      published: this.published,
      rounded: this.rounded,
      suppressed: this.suppressed,
      empty: this.empty,
      marginValues: this.marginValues,
      marginSuppressed: this.marginSuppressed,
      largeMarginValues: this.largeMarginValues,
      largeMarginSuppressed: this.largeMarginSuppressed,
      personsSuppressed: this.personsSuppressed,
      personsTotal: this.personsTotal,
    };
  }
}

/** The sum over tables. */
export function overallUtility(tables: Readonly<Record<string, TableUtility>>): TableUtility {
  const sum = (key: keyof TableUtility) => Object.values(tables).reduce((s, t) => s + t[key], 0);
  return {
    cells: sum('cells'),
    values: sum('values'),
    published: sum('published'),
    rounded: sum('rounded'),
    suppressed: sum('suppressed'),
    empty: sum('empty'),
    marginValues: sum('marginValues'),
    marginSuppressed: sum('marginSuppressed'),
    largeMarginValues: sum('largeMarginValues'),
    largeMarginSuppressed: sum('largeMarginSuppressed'),
    personsSuppressed: sum('personsSuppressed'),
    personsTotal: sum('personsTotal'),
  };
}

/** The share of values a researcher can read (published or rounded), of those that have a value. */
export function publishedShare(u: TableUtility): number {
  const withValue = u.values - u.empty;
  return withValue === 0 ? 1 : (u.published + u.rounded) / withValue;
}

/** Only the utility figures of a record that may carry more (the internal log's primary and secondary counts). */
export function publicUtility(u: TableUtility): TableUtility {
  return {
    cells: u.cells,
    values: u.values,
    published: u.published,
    rounded: u.rounded,
    suppressed: u.suppressed,
    empty: u.empty,
    marginValues: u.marginValues,
    marginSuppressed: u.marginSuppressed,
    largeMarginValues: u.largeMarginValues,
    largeMarginSuppressed: u.largeMarginSuppressed,
    personsSuppressed: u.personsSuppressed,
    personsTotal: u.personsTotal,
  };
}

/** One line for a steward or researcher: what share is published, what was suppressed. */
export function describeUtility(u: TableUtility): string {
  const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
  const persons =
    u.personsTotal === 0
      ? ''
      : `; ${percent(u.personsSuppressed / u.personsTotal)} of persons in suppressed inner cells`;
  return `${percent(publishedShare(u))} of ${u.values - u.empty} values published (${u.suppressed} suppressed${u.empty > 0 ? `, ${u.empty} empty` : ''}); ${u.largeMarginSuppressed} of ${u.largeMarginValues} margin counts of ${LARGE_MARGIN_PERSONS}+ suppressed${persons}`;
}
