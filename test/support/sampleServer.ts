import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReleaseBundle } from '../../pipeline/query/releaseBundle.js';
import { ReleaseDatabase } from '../../pipeline/query/releaseDatabase.js';
import { writeSampleRelease } from '../../pipeline/query/sampleRelease.js';
import { type RunningServer, type ServeOptions, startServer } from '../../pipeline/serve/server.js';
import { addToken } from '../../pipeline/tokens/tokenStore.js';

/** `boldlink serve` over the sample release in a temporary directory, with one researcher's token. */
export interface SampleServer {
  readonly dir: string;
  readonly release: string;
  readonly db: ReleaseDatabase;
  readonly server: RunningServer;
  readonly token: string;
  readonly tokensFile: string;
  readonly logFile: string;
  /** POST /api/query with the token. */
  query(sql: string, extra?: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startSampleServer(
  name: string,
  options: Partial<Pick<ServeOptions, 'limits' | 'unauthenticatedLogPerSecond'>> & { researcher?: string } = {},
): Promise<SampleServer> {
  const dir = await mkdtemp(join(tmpdir(), `boldlink-${name}-`));
  const release = await writeSampleRelease(join(dir, 'release'));
  const tokensFile = join(dir, 'tokens.json');
  const token = await addToken(tokensFile, options.researcher ?? 'Ada Researcher');
  const logFile = join(dir, 'requests.jsonl');
  const db = await ReleaseDatabase.open(await ReleaseBundle.open(release), { threads: 1 });
  const server = await startServer({
    database: db,
    tokensFile,
    requestLogFile: logFile,
    host: '127.0.0.1',
    port: 0,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.unauthenticatedLogPerSecond === undefined
      ? {}
      : { unauthenticatedLogPerSecond: options.unauthenticatedLogPerSecond }),
  });
  return {
    dir,
    release,
    db,
    server,
    token,
    tokensFile,
    logFile,
    query: (sql, extra = {}, headers = {}) =>
      fetch(`${server.url}/api/query`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ sql, ...extra }),
      }),
    close: async () => {
      await server.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
