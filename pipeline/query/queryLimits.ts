/** Limits on one researcher query, for `query` and `serve` alike. */
export interface QueryLimits {
  /** More rows than this is refused (RESULT_TOO_LARGE) rather than cut silently. */
  readonly maxRows: number;
  /** Wall time after which the query is interrupted (QUERY_TIMEOUT). */
  readonly timeoutMs: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxRows: 100_000, timeoutMs: 10_000 };
