import type { ServerResponse } from 'node:http';
import type { OutputFormat } from '../../schemas/api.js';
import { type TabularResult, toArrow, toCsv, toJsonBody } from '../query/resultFormat.js';
import { HttpError } from './httpError.js';
import { SECURITY_HEADERS } from './securityHeaders.js';

export const ARROW_TYPE = 'application/vnd.apache.arrow.stream';

/** An answer's bytes, content type and extra headers. */
export interface EncodedResult {
  readonly body: Buffer;
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The format asked for: `format` (parameter or body) first, then the Accept header; JSON by default. */
export function chooseFormat(explicit: string | null | undefined, accept: string | undefined): OutputFormat {
  if (explicit !== null && explicit !== undefined && explicit !== '') {
    if (explicit === 'json' || explicit === 'csv' || explicit === 'arrow') return explicit;
    throw new HttpError(400, 'BAD_FORMAT', `format must be json, csv or arrow (not '${explicit.slice(0, 20)}').`);
  }
  const wanted = (accept ?? '').toLowerCase();
  if (wanted.includes(ARROW_TYPE) || wanted.includes('application/vnd.apache.arrow')) return 'arrow';
  if (wanted.includes('text/csv')) return 'csv';
  return 'json';
}

export function encodeResult(result: TabularResult, format: OutputFormat, name: string): EncodedResult {
  const headers: Record<string, string> =
    result.warnings.length > 0 ? { 'X-Boldlink-Warnings': String(result.warnings.length) } : {};
  if (format === 'csv')
    return {
      body: Buffer.from(toCsv(result)),
      type: 'text/csv; charset=utf-8; header=present',
      headers: { ...headers, 'Content-Disposition': `attachment; filename="${name}.csv"` },
    };
  if (format === 'arrow')
    return {
      body: Buffer.from(toArrow(result)),
      type: ARROW_TYPE,
      headers: { ...headers, 'Content-Disposition': `attachment; filename="${name}.arrows"` },
    };
  return {
    body: Buffer.from(JSON.stringify(toJsonBody(result, name === 'query' ? undefined : name))),
    type: 'application/json; charset=utf-8',
    headers,
  };
}

/**
 * The headers of a 200 answer as the flat [name, value, …] list Node takes
 * as is: built once for an answer that is sent again and again (a cached
 * table), so serving it costs no header object per request.
 */
export function okHeaderList(encoded: EncodedResult): string[] {
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'Cache-Control': 'no-store',
    ...encoded.headers,
    'Content-Type': encoded.type,
    'Content-Length': String(encoded.body.length),
  };
  return Object.entries(headers).flat();
}

/** Send an answer whose headers were built by okHeaderList; returns its size in bytes. */
export function sendPrepared(response: ServerResponse, body: Buffer, headerList: readonly string[]): number {
  response.writeHead(200, headerList as string[]);
  response.end(body);
  return body.length;
}

/** Write a whole answer with the security headers; returns its size in bytes. */
export function send(
  response: ServerResponse,
  status: number,
  body: string | Buffer,
  type: string,
  headers: Readonly<Record<string, string>> = {},
): number {
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (!response.headersSent) {
    response.writeHead(status, {
      ...SECURITY_HEADERS,
      'Cache-Control': 'no-store',
      ...headers,
      'Content-Type': type,
      'Content-Length': String(bytes),
    });
  }
  response.end(body);
  return bytes;
}

/** An error as JSON. */
export function sendError(response: ServerResponse, error: HttpError): number {
  return send(
    response,
    error.status,
    JSON.stringify({ error: { code: error.code, message: error.message } }),
    'application/json; charset=utf-8',
    error.headers,
  );
}
