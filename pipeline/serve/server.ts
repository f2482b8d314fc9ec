import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ApiTable } from '../../schemas/api.js';
import { DEFAULT_LIMITS, type QueryLimits } from '../query/queryLimits.js';
import type { ReleaseDatabase } from '../query/releaseDatabase.js';
import { TokenSource } from './authentication.js';
import { toHttpError } from './httpError.js';
import { RequestLog, type RequestOutcome } from './requestLog.js';
import { QuerySlots } from './requestLimits.js';
import { ResponseCache } from './responseCache.js';
import { sendError } from './responseWriting.js';
import { route, type ServeContext } from './routes.js';
import { answerClientError } from './securityHeaders.js';
import { loadAssets } from './staticAssets.js';

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
  /** Requests without a valid token logged per second at most (the rest are counted). */
  readonly unauthenticatedLogPerSecond?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * The researchers' HTTP API and web page over one release bundle (routes.ts
 * for what each path answers). Every request is logged to the append-only
 * request log, including those Node answers itself (malformed HTTP, headers
 * too large), which also carry the security headers.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const context: ServeContext = {
    database: options.database,
    limits,
    assets: await loadAssets(),
    tokens: await TokenSource.open(options.tokensFile),
    slots: new QuerySlots(options.concurrentQueries ?? 2, options.queueLimit ?? 16),
    catalogue: JSON.stringify({ tables: describeTables(options.database) }),
    responses: new ResponseCache(1_000, 64 * 1024 * 1024),
  };
  const requestLog = RequestLog.open(options.requestLogFile, {
    unauthenticatedPerSecond: options.unauthenticatedLogPerSecond ?? 20,
  });

  const server = createServer((request, response) => {
    const started = performance.now();
    const outcome: RequestOutcome = { researcher: null, query: '', rows: null, bytes: 0 };
    route(context, request, response, outcome)
      .catch((error: unknown) => {
        const failure = toHttpError(error);
        outcome.error = failure.code;
        return sendError(response, failure);
      })
      .then((bytes) => {
        outcome.bytes = bytes;
        requestLog.write({
          time: new Date().toISOString(),
          researcher: outcome.researcher,
          method: request.method ?? '',
          path: (request.url ?? '/').split('?')[0] ?? '/',
          query: outcome.query,
          status: response.statusCode,
          rows: outcome.rows,
          ms: Math.round((performance.now() - started) * 100) / 100,
          bytes: outcome.bytes,
          ...(outcome.error === undefined ? {} : { error: outcome.error }),
        });
      })
      .catch(() => response.destroy());
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status = answerClientError(error, socket);
    if (status !== undefined)
      requestLog.write({
        time: new Date().toISOString(),
        researcher: null,
        method: '',
        path: '',
        query: '',
        status,
        rows: null,
        ms: 0,
        bytes: 0,
        error: error.code ?? 'CLIENT_ERROR',
      });
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
