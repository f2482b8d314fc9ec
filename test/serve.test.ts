import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type ReleaseDatabase } from '../pipeline/query/releaseDatabase.js';
import { startServer, type RunningServer } from '../pipeline/serve/server.js';
import { addToken } from '../pipeline/tokens/tokenStore.js';
import { type SampleServer, startSampleServer } from './support/sampleServer.js';

let sample: SampleServer;
let dir: string;
let db: ReleaseDatabase;
let server: RunningServer;
let token: string;
let logFile: string;
let tokensFile: string;

const T = 'outflow_by_year_municipality';

beforeAll(async () => {
  sample = await startSampleServer('serve', { limits: { ...DEFAULT_LIMITS, maxRows: 1000, timeoutMs: 5000 } });
  ({ dir, db, server, token, logFile, tokensFile } = sample);
});
afterAll(async () => {
  await sample.close();
});

function get(path: string, headers: Record<string, string> = {}, auth: string | null = token): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    headers: { ...(auth === null ? {} : { Authorization: `Bearer ${auth}` }), ...headers },
  });
}
function postQuery(
  sql: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return sample.query(sql, extra, headers);
}

describe('serve: access', () => {
  it.each([
    ['no token', null],
    ['a wrong token', `bl_${'A'.repeat(43)}`],
    ['a malformed token', 'not-a-token'],
  ])('answers 401 to %s', async (_label, auth) => {
    for (const path of ['/api/tables', `/api/tables/${T}`, '/api/me']) {
      const response = await get(path, {}, auth);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/Bearer/);
    }
    const post = await fetch(`${server.url}/api/query`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(auth === null ? {} : { Authorization: `Bearer ${auth}` }) },
      body: '{"sql":"SELECT 1"}',
    });
    expect(post.status).toBe(401);
  });

  it('stores only the hash, mode 0600', async () => {
    const text = await readFile(tokensFile, 'utf8');
    expect(text).not.toContain(token);
    expect(text).toContain('Ada Researcher');
    expect((await stat(tokensFile)).mode & 0o777).toBe(0o600);
  });

  it('logs every request with the researcher, never the token', async () => {
    await get(`/api/tables/${T}?municipality=rotterdam`);
    await get('/api/tables', {}, null);
    const lines = (await readFile(logFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ok = lines.find((l) => l.path === `/api/tables/${T}` && l.query === 'municipality=rotterdam');
    expect(ok).toMatchObject({ researcher: 'Ada Researcher', status: 200, rows: 4, method: 'GET' });
    expect(typeof ok?.ms).toBe('number');
    expect(lines.some((l) => l.status === 401 && l.researcher === null)).toBe(true);
    expect(await readFile(logFile, 'utf8')).not.toContain(token);
    expect((await stat(logFile)).mode & 0o777).toBe(0o600);
  });

  it('sends security headers', async () => {
    const page = await get('/', {}, null);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline scripts
    expect((await get('/vendor/chart.umd.min.js', {}, null)).status).toBe(200);
  });
});

describe('serve: tables', () => {
  it('lists tables with titles, columns and descriptions', async () => {
    const body = (await (await get('/api/tables')).json()) as {
      tables: {
        name: string;
        title: string;
        columns: { name: string; description?: string }[];
        dimensions: string[];
      }[];
    };
    const outflow = body.tables.find((t) => t.name === T);
    expect(outflow?.title).toMatch(/Outflow/);
    expect(outflow?.dimensions).toEqual(['outflow_year', 'municipality']);
    expect(outflow?.columns.find((c) => c.name === 'durable')?.description).toMatch(/durable/i);
  });

  it('filters and sorts', async () => {
    const body = (await (
      await get(`/api/tables/${T}?outflow_year=2019&municipality=rotterdam&municipality=utrecht&sort=-spells`)
    ).json()) as { rows: Record<string, unknown>[] };
    expect(body.rows.map((r) => r.municipality)).toEqual(['utrecht', 'rotterdam']); // 390 > 320 spells
  });

  it('round-trips JSON, CSV and Arrow (by parameter and by Accept header)', async () => {
    const query = `/api/tables/${T}?outflow_year=2021&sort=municipality`;
    const json = (await (await get(query)).json()) as { rows: Record<string, unknown>[] };
    const csvResponse = await get(`${query}&format=csv`);
    expect(csvResponse.headers.get('content-type')).toMatch(/^text\/csv/);
    const csv = (await csvResponse.text()).trim().split('\r\n');
    const header = csv[0]?.split(',') ?? [];
    const fromCsv = csv.slice(1).map((line) => Object.fromEntries(line.split(',').map((v, i) => [header[i], v])));
    expect(fromCsv.map((r) => r.municipality)).toEqual(json.rows.map((r) => r.municipality));
    expect(fromCsv.map((r) => (r.spells === '' ? null : Number(r.spells)))).toEqual(json.rows.map((r) => r.spells));

    for (const response of [
      await get(`${query}&format=arrow`),
      await get(query, { Accept: 'application/vnd.apache.arrow.stream' }),
    ]) {
      expect(response.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
      const table = tableFromIPC(new Uint8Array(await response.arrayBuffer()));
      const rows = table.toArray().map((r) => r.toJSON() as Record<string, unknown>);
      expect(rows.map((r) => r.municipality)).toEqual(json.rows.map((r) => r.municipality));
      expect(rows.map((r) => (r.spells === null ? null : Number(r.spells)))).toEqual(json.rows.map((r) => r.spells));
      expect(rows.map((r) => r.durable_status)).toEqual(json.rows.map((r) => r.durable_status));
      expect(String(table.schema.fields.find((f) => f.name === 'spells')?.type)).toBe('Int64');
    }
    const csvByAccept = await get(query, { Accept: 'text/csv' });
    expect(csvByAccept.headers.get('content-type')).toMatch(/^text\/csv/);
  });

  it('never returns a suppressed cell as a number, in any format', async () => {
    const query = `/api/tables/${T}?outflow_year=2021&municipality=utrecht`;
    const json = (await (await get(query)).json()) as { rows: Record<string, unknown>[] };
    expect(json.rows[0]).toMatchObject({
      durable: null,
      durable_status: 'suppressed',
      to_work: null,
      to_work_status: 'suppressed',
    });
    const csv = await (await get(`${query}&format=csv`)).text();
    expect(csv.split('\r\n')[1]).toMatch(/^2021,utrecht,[0-9]+,published,,suppressed,,suppressed$/);
    const arrow = tableFromIPC(new Uint8Array(await (await get(`${query}&format=arrow`)).arrayBuffer()));
    expect(arrow.get(0)?.toJSON()).toMatchObject({ durable: null, to_work: null });
  });

  it.each([
    ['../', '/api/tables/..%2F..%2Fetc%2Fpasswd', 400],
    ['a quote', `/api/tables/outflow'%3B--`, 400],
    ['a double quote', '/api/tables/%22outflow%22', 400],
    ['an unknown table', '/api/tables/no_such_table', 404],
  ])('refuses a table name with %s', async (_label, path, status) => {
    const response = await get(path);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { code: string } };
    expect(body.error.code).toMatch(/BAD_PATH|BAD_TABLE_NAME|NO_SUCH_TABLE/);
  });

  it('refuses a raw ../ in the path (as a client that does not normalise URLs sends it)', async () => {
    for (const path of [
      '/api/tables/../tables.json',
      '/api/tables/../../etc/passwd',
      '/../pipeline/serve/server.ts',
      '/api/tables/%2e%2e/x',
    ]) {
      const status = await new Promise<number>((resolve, reject) => {
        const request = httpRequest(
          `${server.url}${path}`,
          { headers: { Authorization: `Bearer ${token}` } },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.path = path; // keep the ../ as sent
        request.on('error', reject);
        request.end();
      });
      expect(status, path).toBe(400);
    }
  });

  it('refuses unknown filters, bad sorts and formats with 400', async () => {
    expect((await get(`/api/tables/${T}?spells=3`)).status).toBe(400);
    expect((await get(`/api/tables/${T}?sort=nope`)).status).toBe(400);
    expect((await get(`/api/tables/${T}?format=xml`)).status).toBe(400);
  });
});

describe('serve: SQL', () => {
  it('answers a query in each format', async () => {
    const sql = `SELECT municipality, spells FROM ${T} WHERE outflow_year = '2019' ORDER BY municipality`;
    const json = (await (await postQuery(sql)).json()) as { rows: Record<string, unknown>[] };
    expect(json.rows).toHaveLength(5);
    const arrow = tableFromIPC(new Uint8Array(await (await postQuery(sql, { format: 'arrow' })).arrayBuffer()));
    expect(arrow.numRows).toBe(5);
    expect(arrow.getChild('municipality')?.toArray()).toEqual(json.rows.map((r) => r.municipality));
    const csv = await (await postQuery(sql, {}, { Accept: 'text/csv' })).text();
    expect(csv.split('\r\n')[0]).toBe('municipality,spells');
  });

  it('marks an aggregate over suppressed cells as suppressed', async () => {
    const json = (await (
      await postQuery(`SELECT sum(durable) AS total FROM ${T} WHERE outflow_year = '2021' AND municipality <> 'Total'`)
    ).json()) as { rows: Record<string, unknown>[]; warnings: string[] };
    expect(json.rows).toEqual([{ total: null, total_status: 'suppressed' }]);
    expect(json.warnings).toHaveLength(1);
    // min() would skip a suppressed cell: it is marked instead of refused.
    const min = (await (await postQuery(`SELECT min(durable) AS m FROM ${T}`)).json()) as {
      rows: Record<string, unknown>[];
    };
    expect(min.rows).toEqual([{ m: null, m_status: 'suppressed' }]);
  });

  it.each([
    ['two statements', 'SELECT 1; SELECT 2'],
    ['COPY', `COPY ${T} TO '/tmp/x.csv'`],
    ['ATTACH', `ATTACH '/tmp/x.db'`],
    ['INSTALL', 'INSTALL httpfs'],
    ['LOAD', 'LOAD httpfs'],
    ['PRAGMA', 'PRAGMA version'],
    ['SET', 'SET threads = 1'],
    ['read_csv', `SELECT * FROM read_csv('/etc/passwd')`],
    ['read_parquet', `SELECT * FROM read_parquet('/tmp/x.parquet')`],
    ['a file path', `SELECT * FROM '/etc/passwd'`],
    ['a setting', `SELECT current_setting('threads')`],
  ])('refuses %s with 400', async (_label, sql) => {
    const response = await postQuery(sql);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toMatch(/^QUERY_REFUSED:/);
    expect(body.error.message.length).toBeGreaterThan(10);
  });

  it('refuses results over the row limit with 413 and bad bodies with 400/415', async () => {
    expect((await postQuery('SELECT * FROM range(5000)')).status).toBe(413);
    expect(
      (
        await fetch(`${server.url}/api/query`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: '{',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await fetch(`${server.url}/api/query`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' },
          body: 'SELECT 1',
        })
      ).status,
    ).toBe(415);
  });

  it('lets a researcher added while serving in, without a restart', async () => {
    const second = await addToken(tokensFile, 'Bo Researcher');
    await new Promise((r) => setTimeout(r, 1100)); // the tokens file is re-checked at most once a second
    const response = await get('/api/me', {}, second);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ researcher: 'Bo Researcher' });
  });
});

describe('serve: the tokens file must be private', () => {
  it('refuses to start with a group-readable tokens file', async () => {
    const loose = join(dir, 'loose.json');
    await writeFile(loose, JSON.stringify({ format: 'boldlink-tokens/v1', tokens: [] }), { mode: 0o644 });
    await expect(
      startServer({
        database: db,
        tokensFile: loose,
        requestLogFile: join(dir, 'x.jsonl'),
        host: '127.0.0.1',
        port: 0,
      }),
    ).rejects.toMatchObject({ code: 'TOKENS_PERMISSIONS' });
  });
});
