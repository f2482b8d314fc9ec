import { BoldlinkError } from '../core/errors.js';

/** Why a researcher's SQL was refused before it ran. */
export type RefusalReason =
  | 'EMPTY'
  | 'MULTIPLE_STATEMENTS'
  | 'NOT_A_QUERY'
  | 'FILE_OR_NETWORK'
  | 'NOT_A_RELEASED_TABLE'
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

/** A limit of the query service was hit: exit 1, HTTP 413 (rows) or 408 (time). */
export class QueryLimitError extends BoldlinkError {
  readonly exitCode = 1 as const;
  constructor(
    readonly code: 'RESULT_TOO_LARGE' | 'QUERY_TIMEOUT' | 'QUERY_BUSY',
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
