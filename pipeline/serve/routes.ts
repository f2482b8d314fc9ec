import type { IncomingMessage, ServerResponse } from 'node:http';
import { queryRequest, TABLE_NAME_PATTERN } from '../../schemas/api.js';
import type { QueryLimits } from '../query/queryLimits.js';
import type { ReleaseDatabase } from '../query/releaseDatabase.js';
import type { TabularResult } from '../query/resultFormat.js';
import type { TokenSource } from './authentication.js';
import { HttpError } from './httpError.js';
import type { RequestOutcome } from './requestLog.js';
import { allowMethods, checkPath, type QuerySlots, readJsonBody } from './requestLimits.js';
import type { ResponseCache } from './responseCache.js';
import { chooseFormat, encodeResult, okHeaderList, send, sendPrepared } from './responseWriting.js';
import type { StaticAsset } from './staticAssets.js';
import { selectTableRows, TableRequestError } from './tableRequest.js';

/** What the routes share: built once by startServer. */
export interface ServeContext {
  readonly database: ReleaseDatabase;
  readonly limits: QueryLimits;
  readonly assets: ReadonlyMap<string, StaticAsset>;
  readonly tokens: TokenSource;
  readonly slots: QuerySlots;
  /** GET /api/tables, encoded once. */
  readonly catalogue: string;
  readonly responses: ResponseCache;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * One request to its answer: the web page's files for anyone; /api/… only
 * with a valid bearer token. Returns the bytes written; fills `outcome` for
 * the request log. Throws HttpError (or a query error) for any other answer.
 */
export async function route(
  context: ServeContext,
  request: IncomingMessage,
  response: ServerResponse,
  outcome: RequestOutcome,
): Promise<number> {
  const rawUrl = request.url ?? '/';
  const queryStart = rawUrl.indexOf('?');
  const path = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
  const params = new URLSearchParams(queryStart < 0 ? '' : rawUrl.slice(queryStart + 1));
  outcome.query = queryStart < 0 ? '' : rawUrl.slice(queryStart + 1);
  checkPath(path);

  if (!path.startsWith('/api/')) {
    allowMethods(request, ['GET', 'HEAD'], 'Only GET is allowed here.');
    const asset = context.assets.get(path === '/' ? '/index.html' : path);
    if (asset === undefined) throw new HttpError(404, 'NOT_FOUND', `Nothing at ${path.slice(0, 200)}.`);
    return send(response, 200, asset.body, asset.type, { 'Cache-Control': 'no-cache' });
  }

  const researcher = await context.tokens.identify(request.headers.authorization);
  if (researcher === undefined)
    throw new HttpError(401, 'UNAUTHORIZED', 'A valid token is required: send "Authorization: Bearer <token>".', {
      'WWW-Authenticate': 'Bearer realm="boldlink"',
    });
  outcome.researcher = researcher;

  if (path === '/api/me') {
    allowMethods(request, ['GET', 'HEAD'], 'Use GET.');
    return send(response, 200, JSON.stringify({ researcher }), JSON_TYPE);
  }
  if (path === '/api/tables') {
    allowMethods(request, ['GET', 'HEAD'], 'Use GET.');
    outcome.rows = context.database.tables.size;
    return send(response, 200, context.catalogue, JSON_TYPE);
  }
  if (path.startsWith('/api/tables/')) {
    allowMethods(request, ['GET', 'HEAD'], 'Use GET.');
    return tableRows(context, request, response, outcome, tableNameFrom(path.slice('/api/tables/'.length)), params);
  }
  if (path === '/api/query') {
    allowMethods(request, ['POST'], 'Use POST with {"sql": "..."}.');
    return sqlQuery(context, request, response, outcome, params);
  }
  throw new HttpError(
    404,
    'NOT_FOUND',
    `No API endpoint ${path.slice(0, 200)}; see GET /api/tables, GET /api/tables/{name}, POST /api/query.`,
  );
}

/** GET /api/tables/{name}: rows of a released table, filtered and sorted; answers are cached. */
function tableRows(
  context: ServeContext,
  request: IncomingMessage,
  response: ServerResponse,
  outcome: RequestOutcome,
  name: string,
  params: URLSearchParams,
): number {
  const table = context.database.tables.get(name);
  if (table === undefined)
    throw new HttpError(404, 'NO_SUCH_TABLE', `There is no released table '${name}'. GET /api/tables lists them.`);
  const format = chooseFormat(params.get('format'), request.headers.accept);
  params.delete('format');
  params.sort();
  const cacheKey = `${name}?${params.toString()}|${format}`;
  const cached = context.responses.get(cacheKey);
  if (cached !== undefined) {
    outcome.rows = cached.rows;
    return sendPrepared(response, cached.body, cached.headerList);
  }
  let result: TabularResult;
  try {
    result = selectTableRows(table, params, context.limits.maxRows);
  } catch (error) {
    if (error instanceof TableRequestError) throw new HttpError(400, error.code, error.message);
    throw error;
  }
  outcome.rows = result.rows.length;
  const encoded = encodeResult(result, format, name);
  context.responses.set(cacheKey, { ...encoded, rows: result.rows.length, headerList: okHeaderList(encoded) });
  return send(response, 200, encoded.body, encoded.type, encoded.headers);
}

/** POST /api/query {"sql": "…"}: one marked SQL answer, within the query slots. */
async function sqlQuery(
  context: ServeContext,
  request: IncomingMessage,
  response: ServerResponse,
  outcome: RequestOutcome,
  params: URLSearchParams,
): Promise<number> {
  const parsed = queryRequest.safeParse(await readJsonBody(request));
  if (!parsed.success)
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `The body must be {"sql": "..."}: ${parsed.error.issues[0]?.message ?? 'invalid'}.`,
    );
  outcome.query = parsed.data.sql;
  const format = chooseFormat(parsed.data.format ?? params.get('format'), request.headers.accept);
  const result = await context.slots.run(() => context.database.query(parsed.data.sql, context.limits));
  outcome.rows = result.rows.length;
  const encoded = encodeResult(result, format, 'query');
  return send(response, 200, encoded.body, encoded.type, encoded.headers);
}

/** A table name from the URL: only [a-z0-9_], so no '../', quote or slash gets near a path or SQL. */
function tableNameFrom(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'BAD_TABLE_NAME', 'The table name is not valid URL encoding.');
  }
  if (!TABLE_NAME_PATTERN.test(name))
    throw new HttpError(
      400,
      'BAD_TABLE_NAME',
      'A table name has only lowercase letters, digits and _ (see GET /api/tables).',
    );
  return name;
}
