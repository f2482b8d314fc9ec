import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { queryRequest, TABLE_NAME_PATTERN, type ApiTable, type OutputFormat } from '../../schemas/api.js';
import { BoldlinkError } from '../core/errors.js';
import { besideModule, projectPath } from '../core/projectPath.js';
import { QueryFailedError, QueryLimitError, QueryRefusedError } from '../query/errors.js';
import { DEFAULT_LIMITS, type QueryLimits } from '../query/queryLimits.js';
import type { ReleaseDatabase } from '../query/releaseDatabase.js';
import { toArrow, toCsv, toJsonBody, type TabularResult } from '../query/resultFormat.js';
import { TOKENS_FORMAT } from '../../schemas/tokens.js';
import { log } from '../core/log.js';
import { readTokensFile, TokenRegistry } from '../tokens/tokenStore.js';
import { RequestLog } from './requestLog.js';
import { selectTableRows, TableRequestError } from './tableRequest.js';

export interface ServeOptions {
  readonly database: ReleaseDatabase;
  readonly tokensFile: string;
  readonly requestLogFile: string;
  readonly host: string;
  readonly port: number;
  readonly limits?: QueryLimits;
  /** SQL queries running at once; more wait (up to `queueLimit`), then 503. */
  readonly concurrentQueries?: number;
  readonly queueLimit?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const ARROW_TYPE = 'application/vnd.apache.arrow.stream';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
};

interface StaticAsset {
  readonly body: Buffer;
  readonly type: string;
}

/** What one request did, for the log. */
interface Outcome {
  researcher: string | null;
  query: string;
  rows: number | null;
  bytes: number;
  error?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The researchers' HTTP API and web page over one release bundle. Every
 * /api/ request needs a bearer token from the tokens file (re-read when the
 * file changes, so adding a researcher needs no restart); every request is
 * logged to the append-only request log.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const assets = await loadAssets();
  const tokens = await TokenSource.open(options.tokensFile);
  const requestLog = RequestLog.open(options.requestLogFile);
  const sqlSlots = pLimit(options.concurrentQueries ?? 2);
  const queueLimit = options.queueLimit ?? 16;
  const catalogue = JSON.stringify({ tables: describeTables(options.database) });
  const responses = new ResponseCache(1_000, 64 * 1024 * 1024);

  const handle = async (request: IncomingMessage, response: ServerResponse, outcome: Outcome): Promise<number> => {
    const rawUrl = request.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const path = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
    const params = new URLSearchParams(queryStart < 0 ? '' : rawUrl.slice(queryStart + 1));
    outcome.query = queryStart < 0 ? '' : rawUrl.slice(queryStart + 1);
    if (/(^|\/)(\.|%2e){2}(\/|%2f|$)/i.test(path) || /\\|%5c|%00/i.test(path)) {
      throw new HttpError(400, 'BAD_PATH', 'Paths with ../, backslashes or NUL are refused.');
    }

    if (!path.startsWith('/api/')) {
      if (request.method !== 'GET' && request.method !== 'HEAD')
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'Only GET is allowed here.', { Allow: 'GET' });
      const asset = assets.get(path === '/' ? '/index.html' : path);
      if (asset === undefined) throw new HttpError(404, 'NOT_FOUND', `Nothing at ${path}.`);
      return send(response, 200, asset.body, asset.type, { 'Cache-Control': 'no-cache' });
    }

    const researcher = await tokens.identify(request.headers.authorization);
    if (researcher === undefined) {
      throw new HttpError(401, 'UNAUTHORIZED', 'A valid token is required: send "Authorization: Bearer <token>".', {
        'WWW-Authenticate': 'Bearer realm="boldlink"',
      });
    }
    outcome.researcher = researcher;

    if (path === '/api/me') {
      return send(response, 200, JSON.stringify({ researcher }), 'application/json; charset=utf-8');
    }
    if (path === '/api/tables') {
      if (request.method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'Use GET.', { Allow: 'GET' });
      outcome.rows = options.database.tables.size;
      return send(response, 200, catalogue, 'application/json; charset=utf-8');
    }
    if (path.startsWith('/api/tables/')) {
      if (request.method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'Use GET.', { Allow: 'GET' });
      const name = tableNameFrom(path.slice('/api/tables/'.length));
      const table = options.database.tables.get(name);
      if (table === undefined)
        throw new HttpError(404, 'NO_SUCH_TABLE', `There is no released table '${name}'. GET /api/tables lists them.`);
      const format = chooseFormat(params.get('format'), request.headers.accept);
      params.delete('format');
      // Released tables never change while served: an encoded answer can be reused.
      params.sort();
      const cacheKey = `${name}?${params.toString()}|${format}`;
      const cached = responses.get(cacheKey);
      if (cached !== undefined) {
        outcome.rows = cached.rows;
        return send(response, 200, cached.body, cached.type, cached.headers);
      }
      let result: TabularResult;
      try {
        result = selectTableRows(table, params, limits.maxRows);
      } catch (error) {
        if (error instanceof TableRequestError) throw new HttpError(400, error.code, error.message);
        throw error;
      }
      outcome.rows = result.rows.length;
      const encoded = encodeResult(result, format, name);
      responses.set(cacheKey, { ...encoded, rows: result.rows.length });
      return send(response, 200, encoded.body, encoded.type, encoded.headers);
    }
    if (path === '/api/query') {
      if (request.method !== 'POST')
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'Use POST with {"sql": "..."}.', { Allow: 'POST' });
      const body = await readJsonBody(request);
      const parsed = queryRequest.safeParse(body);
      if (!parsed.success)
        throw new HttpError(
          400,
          'BAD_REQUEST',
          `The body must be {"sql": "..."}: ${parsed.error.issues[0]?.message ?? 'invalid'}.`,
        );
      outcome.query = parsed.data.sql;
      const format = chooseFormat(parsed.data.format ?? params.get('format'), request.headers.accept);
      if (sqlSlots.pendingCount >= queueLimit)
        throw new HttpError(503, 'QUERY_BUSY', 'Too many queries are waiting; try again shortly.', {
          'Retry-After': '2',
        });
      const result = await sqlSlots(() => options.database.query(parsed.data.sql, limits));
      outcome.rows = result.rows.length;
      const encoded = encodeResult(result, format, 'query');
      return send(response, 200, encoded.body, encoded.type, encoded.headers);
    }
    throw new HttpError(
      404,
      'NOT_FOUND',
      `No API endpoint ${path}; see GET /api/tables, GET /api/tables/{name}, POST /api/query.`,
    );
  };

  const server = createServer((request, response) => {
    const started = performance.now();
    const outcome: Outcome = { researcher: null, query: '', rows: null, bytes: 0 };
    handle(request, response, outcome)
      .then((bytes) => bytes)
      .catch((error: unknown) => {
        const failure = toHttpError(error);
        outcome.error = failure.code;
        return send(
          response,
          failure.status,
          JSON.stringify({ error: { code: failure.code, message: failure.message } }),
          'application/json; charset=utf-8',
          failure.headers,
        );
      })
      .then((bytes) => {
        outcome.bytes = bytes;
        requestLog.write({
          time: new Date().toISOString(),
          researcher: outcome.researcher,
          method: request.method ?? '',
          path: (request.url ?? '/').split('?')[0] ?? '/',
          query: outcome.query.slice(0, 4000),
          status: response.statusCode,
          rows: outcome.rows,
          ms: Math.round((performance.now() - started) * 100) / 100,
          bytes: outcome.bytes,
          ...(outcome.error === undefined ? {} : { error: outcome.error }),
        });
      })
      .catch(() => response.destroy());
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = Math.max(30_000, limits.timeoutMs + 5_000);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    server,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      requestLog.close();
    },
  };
}

function describeTables(database: ReleaseDatabase): ApiTable[] {
  return [...database.tables.values()].map((t) => ({
    name: t.table.name,
    title: t.table.title,
    description: t.table.description,
    rows: t.rows.length,
    columns: t.columns,
    dimensions: t.dimensions,
    measures: t.measures,
  }));
}

/** A table name from the URL: only [a-z0-9_], so no '../', quote or slash gets near a path or SQL. */
function tableNameFrom(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'BAD_TABLE_NAME', 'The table name is not valid URL encoding.');
  }
  if (!TABLE_NAME_PATTERN.test(name)) {
    throw new HttpError(
      400,
      'BAD_TABLE_NAME',
      'A table name has only lowercase letters, digits and _ (see GET /api/tables).',
    );
  }
  return name;
}

function chooseFormat(explicit: string | null | undefined, accept: string | undefined): OutputFormat {
  if (explicit !== null && explicit !== undefined && explicit !== '') {
    if (explicit === 'json' || explicit === 'csv' || explicit === 'arrow') return explicit;
    throw new HttpError(400, 'BAD_FORMAT', `format must be json, csv or arrow (not '${explicit.slice(0, 20)}').`);
  }
  const wanted = (accept ?? '').toLowerCase();
  if (wanted.includes(ARROW_TYPE) || wanted.includes('application/vnd.apache.arrow')) return 'arrow';
  if (wanted.includes('text/csv')) return 'csv';
  return 'json';
}

interface EncodedResult {
  readonly body: Buffer;
  readonly type: string;
  readonly headers: Record<string, string>;
}

function encodeResult(result: TabularResult, format: OutputFormat, name: string): EncodedResult {
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

/** A small LRU of encoded table answers, bounded in entries and bytes. */
class ResponseCache {
  private readonly entries = new Map<string, EncodedResult & { rows: number }>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get(key: string): (EncodedResult & { rows: number }) | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: EncodedResult & { rows: number }): void {
    if (entry.body.length > this.maxBytes / 8 || this.entries.has(key)) return;
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const [oldest, value] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.body.length;
    }
  }
}

function send(
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

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/json'))
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the query as Content-Type: application/json.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'BODY_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The request body is not valid JSON.');
  }
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof QueryRefusedError) return new HttpError(400, `${error.code}:${error.reason}`, error.message);
  if (error instanceof QueryFailedError) return new HttpError(400, error.code, error.message);
  if (error instanceof QueryLimitError)
    return new HttpError(
      error.code === 'RESULT_TOO_LARGE' ? 413 : error.code === 'QUERY_TIMEOUT' ? 408 : 503,
      error.code,
      error.message,
    );
  if (error instanceof BoldlinkError) return new HttpError(500, error.code, error.message);
  return new HttpError(500, 'INTERNAL', 'Internal error; the request log has the time of this request.');
}

async function loadAssets(): Promise<Map<string, StaticAsset>> {
  const files: [string, string, string][] = [
    ['/index.html', besideModule(import.meta.url, 'web/index.html'), 'text/html; charset=utf-8'],
    ['/app.js', besideModule(import.meta.url, 'web/app.js'), 'text/javascript; charset=utf-8'],
    ['/charts.js', besideModule(import.meta.url, 'web/charts.js'), 'text/javascript; charset=utf-8'],
    ['/style.css', besideModule(import.meta.url, 'web/style.css'), 'text/css; charset=utf-8'],
    ['/favicon.svg', besideModule(import.meta.url, 'web/favicon.svg'), 'image/svg+xml'],
    [
      '/vendor/chart.umd.min.js',
      projectPath('node_modules/chart.js/dist/chart.umd.min.js'),
      'text/javascript; charset=utf-8',
    ],
  ];
  const assets = new Map<string, StaticAsset>();
  for (const [route, file, type] of files) assets.set(route, { body: await readFile(file), type });
  return assets;
}

/** The tokens file, re-read when it changes (checked at most once a second). */
class TokenSource {
  private checkedAt = 0;
  private version = '';

  private constructor(
    private readonly file: string,
    private registry: TokenRegistry,
  ) {}

  static async open(file: string): Promise<TokenSource> {
    const source = new TokenSource(file, TokenRegistry.from(await readTokensFile(file)));
    source.version = fileVersion(await stat(file));
    source.checkedAt = Date.now();
    return source;
  }

  async identify(authorization: string | undefined): Promise<string | undefined> {
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(authorization ?? '');
    if (match?.[1] === undefined) return undefined;
    await this.refresh();
    return this.registry.identify(match[1]);
  }

  private async refresh(): Promise<void> {
    const now = Date.now();
    if (now - this.checkedAt < 1_000) return;
    this.checkedAt = now;
    try {
      const version = fileVersion(await stat(this.file));
      if (version !== this.version) {
        this.registry = TokenRegistry.from(await readTokensFile(this.file));
        this.version = version;
      }
    } catch (error) {
      // Fail closed: a tokens file that became unreadable or invalid lets nobody in until it is fixed.
      this.registry = TokenRegistry.from({ format: TOKENS_FORMAT, tokens: [] });
      this.version = '';
      log().error(
        { err: error, file: this.file },
        'tokens file unreadable or invalid: refusing every token until it is fixed',
      );
    }
  }
}

function fileVersion(info: { mtimeMs: number; size: number; ino: number }): string {
  return `${info.mtimeMs}:${info.size}:${info.ino}`;
}
