import { BoldlinkError } from '../core/errors.js';
import { log } from '../core/log.js';
import { QueryFailedError, QueryLimitError, QueryRefusedError } from '../query/errors.js';

/** An answer other than 200, with a stable code and a message a researcher can act on. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const LIMIT_STATUS: Record<QueryLimitError['code'], number> = {
  RESULT_TOO_LARGE: 413,
  VALUE_TOO_LARGE: 413,
  QUERY_MEMORY: 413,
  QUERY_TIMEOUT: 408,
  QUERY_BUSY: 503,
};

/**
 * Any error as the HTTP answer it becomes: refused or failing SQL is 400, a
 * limit 413/408/503. Anything unexpected is 500 INTERNAL, and its cause is
 * logged (by class and scrubbed message) so the steward can find it.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof QueryRefusedError) return new HttpError(400, `${error.code}:${error.reason}`, error.message);
  if (error instanceof QueryFailedError) return new HttpError(400, error.code, error.message);
  if (error instanceof QueryLimitError) return new HttpError(LIMIT_STATUS[error.code], error.code, error.message);
  log().error({ err: error }, 'request failed');
  if (error instanceof BoldlinkError) return new HttpError(500, error.code, error.message);
  return new HttpError(500, 'INTERNAL', 'Internal error; the server log has the cause, and the request log the time.');
}
