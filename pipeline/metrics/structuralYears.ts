/**
 * Which years of a table fix a censoring measure, from the observation end T
 * alone. A year's units have their event on a day in [1 January, 31
 * December]; a verdict that needs `months` (and `days`) after that day is
 * known for every unit of the year once the year's last day plus that time
 * is on or before T, and for none once its first day plus that time is past
 * T. The arithmetic is calendar.sql's plusMonths (31 January + 1 month =
 * 28/29 February), so what this says holds for every row the SQL counts.
 */

/** ISO date plus whole months, the day clamped to the month's length (DuckDB's `day + to_months(n)`). */
export function plusMonths(iso: string, months: number): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return isoDate(Date.UTC(year, month, Math.min(d, lastDay)));
}

export function plusDays(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  return isoDate(Date.UTC(y, m - 1, d + days));
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The time a verdict needs after the unit's day: whole months, and days added first (a job may start days after the event). */
export interface Wait {
  readonly months: number;
  readonly days?: number;
}

function after(day: string, wait: Wait): string {
  return plusMonths(plusDays(day, wait.days ?? 0), wait.months);
}

/** The last year whose every unit has its verdict by T: the year's last day plus the wait is on or before T. */
export function lastYearKnown(observationEnd: string, wait: Wait): number {
  let year = Number(observationEnd.slice(0, 4));
  while (after(`${year}-12-31`, wait) > observationEnd) year--;
  return year;
}

/** The first year none of whose units has its verdict by T: the year's first day plus the wait is past T. */
export function firstYearUnknown(observationEnd: string, wait: Wait): number {
  let year = Number(observationEnd.slice(0, 4)) + 1;
  while (after(`${year - 1}-01-01`, wait) > observationEnd) year--;
  return year;
}

/**
 * The last year whose every unit's window of `days` after its day ends before
 * `first` (the first day data of some kind exist): nothing in that data can
 * fall in the window of such a unit.
 */
export function lastYearBefore(first: string, days: number): number {
  let year = Number(first.slice(0, 4));
  while (plusDays(`${year}-12-31`, days) >= first) year--;
  return year;
}
