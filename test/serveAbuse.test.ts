import { chmod, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../pipeline/query/releaseDatabase.js';
import { LOG_FIELD_LIMITS } from '../pipeline/serve/requestLog.js';
import type { RunningServer } from '../pipeline/serve/server.js';
import { type SampleServer, startSampleServer } from './support/sampleServer.js';

/** HTTP abuse of `boldlink serve` (issue #20, points 5–7): the log, the tokens file, methods, Node's own answers. */

let sample: SampleServer;
let server: RunningServer;
let token: string;
let tokensFile: string;
let logFile: string;

beforeAll(async () => {
  sample = await startSampleServer('serve-abuse', { limits: DEFAULT_LIMITS, unauthenticatedLogPerSecond: 5 });
  ({ server, token, tokensFile, logFile } = sample);
});
afterAll(async () => {
  await sample.close();
});

const auth = () => ({ Authorization: `Bearer ${token}` });
async function logLines(): Promise<Record<string, unknown>[]> {
  return (await readFile(logFile, 'utf8'))
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Send raw bytes and read the whole answer (for what fetch would not send). */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('serve: the request log keeps no credential', () => {
  it.each([
    ['?token=', (t: string) => `/api/tables?token=${t}`],
    ['?access_token=', (t: string) => `/api/tables?access_token=${t}`],
    ['?api_key=', (t: string) => `/api/tables?api_key=${t}&format=json`],
    ['an encoded token in another parameter', (t: string) => `/api/tables?q=${encodeURIComponent(t)}`],
    ['a token in the path', (t: string) => `/api/tables/${t}`],
  ])('refuses a token sent as %s and logs it redacted', async (_label, url) => {
    const response = await fetch(`${server.url}${url(token)}`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    const text = await readFile(logFile, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(3, 30));
    expect(text).toContain('[redacted]');
  });

  it('never logs a token sent inside SQL', async () => {
    const response = await sample.query(`SELECT '${token}' AS pasted`);
    expect(response.status).toBe(200);
    expect(await readFile(logFile, 'utf8')).not.toContain(token);
  });
});

describe('serve: the request log cannot be grown without bound', () => {
  it('caps every field and logs unauthenticated requests at a bounded rate, counting the rest', async () => {
    const before = (await stat(logFile)).size;
    const linesBefore = (await logLines()).length;
    const longPath = `/api/${'x'.repeat(7000)}`;
    const requests = 200;
    for (let i = 0; i < requests; i += 20)
      await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${server.url}${longPath}`).then((r) => r.arrayBuffer())),
      );
    // An authenticated request is always logged, and carries the count of unlogged ones.
    expect((await fetch(`${server.url}/api/me`, { headers: auth() })).status).toBe(200);
    const lines = (await logLines()).slice(linesBefore);
    const unauthenticated = lines.filter((l) => l.researcher === null);
    const unlogged = lines.reduce((sum, l) => sum + (typeof l.unlogged === 'number' ? l.unlogged : 0), 0);
    expect(unauthenticated.length + unlogged).toBe(requests);
    expect(unlogged).toBeGreaterThan(0);
    for (const line of unauthenticated) {
      expect(line.status).toBe(401);
      expect(String(line.path).length).toBeLessThanOrEqual(LOG_FIELD_LIMITS.path + 20);
    }
    // 200 requests with 7 KB paths: the log grew by the capped lines only.
    const grown = (await stat(logFile)).size - before;
    expect(grown).toBeLessThan((unauthenticated.length + 1) * (LOG_FIELD_LIMITS.path + 400));
  });
});

describe('serve: the tokens file must stay private while serving', () => {
  it('refuses every token from the request after the file became world-readable, and accepts again once fixed', async () => {
    expect((await fetch(`${server.url}/api/me`, { headers: auth() })).status).toBe(200);
    await chmod(tokensFile, 0o644);
    try {
      const refused = await fetch(`${server.url}/api/me`, { headers: auth() });
      expect(refused.status).toBe(401);
    } finally {
      await chmod(tokensFile, 0o600);
    }
    expect((await fetch(`${server.url}/api/me`, { headers: auth() })).status).toBe(200);
  });
});

describe('serve: methods and malformed requests', () => {
  it.each([
    ['TRACE', '/api/me', 'GET, HEAD'],
    ['OPTIONS', '/api/tables', 'GET, HEAD'],
    ['DELETE', '/api/tables/outflow_by_year_municipality', 'GET, HEAD'],
    ['PUT', '/api/query', 'POST'],
    ['GET', '/api/query', 'POST'],
    ['POST', '/', 'GET, HEAD'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const answer = await raw(
      `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
    expect(answer).toMatch(new RegExp(`\\r\\nallow: ${allow}\\r\\n`, 'i'));
    expect(answer).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
  });

  it("answers headers too large with Node's 431, carrying the security headers", async () => {
    const answer = await raw(`GET /api/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toMatch(/\r\nContent-Security-Policy: default-src 'none'/);
    expect(answer).toMatch(/\r\nX-Frame-Options: DENY\r\n/);
    expect(answer).toContain('"code":"HEADERS_TOO_LARGE"');
  });

  it('answers a request that is not HTTP with 400, carrying the security headers', async () => {
    const answer = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/);
  });

  it('refuses SQL with a NUL character with 400 and a code', async () => {
    const response = await sample.query('SELECT 1\u0000');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('QUERY_REFUSED:INVALID_TEXT');
  });

  it('refuses a body over 64 KiB with 413', async () => {
    const response = await sample.query(`SELECT '${'x'.repeat(70_000)}'`);
    expect(response.status).toBe(413);
  });

  it('refuses a result over the byte limit with 413 and keeps answering', async () => {
    const big = await sample.query("SELECT repeat('x', 1000000) AS s FROM range(100)");
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('RESULT_TOO_LARGE');
    expect((await fetch(`${server.url}/api/me`, { headers: auth() })).status).toBe(200);
  });
});

describe('serve: redaction (property)', () => {
  it('no query string with a token in it keeps the token, raw or percent-encoded', async () => {
    const { redactQueryString } = await import('../pipeline/serve/requestLog.js');
    const { newToken } = await import('../pipeline/tokens/tokenStore.js');
    const fc = (await import('fast-check')).default;
    const word = fc.stringMatching(/^[a-z_]{1,12}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(word, word), { maxLength: 5 }),
        fc.nat(5),
        fc.constantFrom('raw', 'encoded', 'name'),
        word,
        (pairs, at, form, name) => {
          const secret = newToken();
          const placed =
            form === 'raw'
              ? `${name}=${secret}`
              : form === 'encoded'
                ? `${name}=${encodeURIComponent(secret).replaceAll('_', '%5F')}`
                : `${secret}=1`;
          const parts = pairs.map(([k, v]) => `${k}=${v}`);
          parts.splice(Math.min(at, parts.length), 0, placed);
          const logged = redactQueryString(parts.join('&'));
          expect(logged).not.toContain(secret.slice(3));
          expect(decodeURIComponent(logged)).not.toContain(secret.slice(3));
        },
      ),
      { numRuns: 500 },
    );
  });
});
