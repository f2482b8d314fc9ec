/** Limits on one researcher query, for `query` and `serve` alike. */
export interface QueryLimits {
  /** More rows than this is refused (RESULT_TOO_LARGE) rather than cut silently. */
  readonly maxRows: number;
  /**
   * More bytes of values than this is refused (RESULT_TOO_LARGE): measured in
   * the engine's vectors, before any value is copied out (resultSize.ts).
   */
  readonly maxBytes: number;
  /**
   * Largest value repeat(), lpad(), rpad() or list_resize() may build
   * (VALUE_TOO_LARGE): DuckDB's memory limit does not cover one value.
   */
  readonly maxValueBytes: number;
  /** Wall time after which the query is interrupted (QUERY_TIMEOUT). */
  readonly timeoutMs: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  maxRows: 100_000,
  maxBytes: 32 * 1024 * 1024,
  maxValueBytes: 1024 * 1024,
  timeoutMs: 10_000,
};

/** The engine's memory limit (DuckDB memory_limit) for the whole query service, unless set. */
export const DEFAULT_MEMORY_LIMIT = '1GB';
