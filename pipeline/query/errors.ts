import { BoldlinkError } from '../core/errors.js';

/** Why a researcher's SQL was refused before it ran. */
export type RefusalReason =
  /** Nothing to run. */
  | 'EMPTY'
  /** The text itself is not SQL text (a NUL character). */
  | 'INVALID_TEXT'
  | 'MULTIPLE_STATEMENTS'
  /** Not a SELECT (COPY, ATTACH, SET, PRAGMA, CREATE…). */
  | 'NOT_A_QUERY'
  /** A file, URL or other source outside the released tables. */
  | 'FILE_OR_NETWORK'
  /** A relation that is neither a released table nor a CTE in scope. */
  | 'NOT_A_RELEASED_TABLE'
  /** The engine's settings, catalog or environment (current_setting, duckdb_*, pragma_*, sqlite_master…). */
  | 'SETTINGS_OR_CATALOG'
  /** A function that is not on the allow-list (allowedFunctions.ts). */
  | 'FUNCTION_NOT_ALLOWED'
  /** A construct the query service does not support (the message says what to write instead). */
  | 'UNSUPPORTED'
  /** A construct whose answer could depend on suppressed cells without being marked. */
  | 'SUPPRESSION_BYPASS'
  | 'SYNTAX';

/**
 * The SQL is not something `query`/`serve` will run: a usage problem (exit 2,
 * HTTP 400). The message says what to write instead.
 */
export class QueryRefusedError extends BoldlinkError {
  readonly code = 'QUERY_REFUSED';
  readonly exitCode = 2 as const;
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** The query was accepted but DuckDB could not bind or run it (unknown column, bad cast…): exit 2, HTTP 400. */
export class QueryFailedError extends BoldlinkError {
  readonly code = 'QUERY_FAILED';
  readonly exitCode = 2 as const;
}

/**
 * A limit of the query service was hit: exit 1; HTTP 413 (result rows or
 * bytes, a value too large to build, the engine's memory), 408 (time) or 503
 * (too many queries waiting).
 */
export class QueryLimitError extends BoldlinkError {
  readonly exitCode = 1 as const;
  constructor(
    readonly code: 'RESULT_TOO_LARGE' | 'VALUE_TOO_LARGE' | 'QUERY_MEMORY' | 'QUERY_TIMEOUT' | 'QUERY_BUSY',
    message: string,
  ) {
    super(message);
  }
}

/** The release bundle cannot be served: its catalogue is missing or malformed. */
export class ReleaseBundleError extends BoldlinkError {
  readonly exitCode = 1 as const;
  constructor(
    readonly code: 'RELEASE_CATALOGUE' | 'RELEASE_TABLE',
    message: string,
  ) {
    super(message);
  }
}
