/**
 * Durations for log lines, rounded to the millisecond. Unrounded, a float's
 * long tail of digits can form an elfproef-valid 9-digit run, which the log
 * scrubber then (rightly) hides as a BSN — and the figure is lost.
 */
export function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** Seconds since a `process.hrtime.bigint()` reading, rounded to the millisecond. */
export function secondsSince(started: bigint): number {
  return roundSeconds(Number(process.hrtime.bigint() - started) / 1e9);
}
