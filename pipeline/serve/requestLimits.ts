import type { IncomingMessage } from 'node:http';
import pLimit, { type LimitFunction } from 'p-limit';
import { HttpError } from './httpError.js';

/** A POST /api/query body larger than this is refused (413) before it is read further. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A path with ../ (raw or encoded), a backslash or NUL never reaches a handler. */
export function checkPath(path: string): void {
  if (/(^|\/)(\.|%2e){2}(\/|%2f|$)/i.test(path) || /\\|%5c|%00/i.test(path) || path.includes('\u0000'))
    throw new HttpError(400, 'BAD_PATH', 'Paths with ../, backslashes or NUL are refused.');
}

/** 405 for any method a route does not answer (TRACE, OPTIONS, PUT…), with the ones it does. */
export function allowMethods(request: IncomingMessage, allowed: readonly string[], hint: string): void {
  if (!allowed.includes(request.method ?? ''))
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', hint, { Allow: allowed.join(', ') });
}

/** The JSON body of a request: application/json only, at most MAX_BODY_BYTES. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/json'))
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the query as Content-Type: application/json.');
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The request body is not valid JSON.');
  }
}

function tooLarge(): HttpError {
  return new HttpError(413, 'BODY_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.`);
}

/**
 * SQL queries run at most `concurrent` at once; up to `queued` more wait,
 * and past that a query gets 503 at once, so a burst cannot pile up memory.
 */
export class QuerySlots {
  private readonly limit: LimitFunction;

  constructor(
    concurrent: number,
    private readonly queued: number,
  ) {
    this.limit = pLimit(concurrent);
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.limit.pendingCount >= this.queued)
      throw new HttpError(503, 'QUERY_BUSY', 'Too many queries are waiting; try again shortly.', {
        'Retry-After': '2',
      });
    return this.limit(task);
  }
}
