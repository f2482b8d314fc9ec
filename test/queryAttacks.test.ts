import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../pipeline/query/releaseDatabase.js';
import { runInProcess } from './support/inProcessCli.js';
import { type SampleServer, startSampleServer } from './support/sampleServer.js';
import { ATTACKS, type Attack } from './support/queryAttacks.js';

/**
 * Every attack of issue #20 (and its neighbours), through `boldlink query`
 * and POST /api/query, each with its exact outcome: the same refusal reason
 * and message, the same rows, the same limit, both ways.
 */

let sample: SampleServer;
const TIMEOUT_S = 2;

beforeAll(async () => {
  sample = await startSampleServer('attacks', {
    researcher: 'Mallory Researcher',
    limits: { ...DEFAULT_LIMITS, timeoutMs: TIMEOUT_S * 1000 },
  });
});
afterAll(async () => {
  await sample.close();
});

const STATUS = { RESULT_TOO_LARGE: 413, VALUE_TOO_LARGE: 413, QUERY_TIMEOUT: 408 } as const;

async function viaHttp(attack: Attack): Promise<void> {
  const response = await sample.query(attack.sql);
  const body = (await response.json()) as { rows?: unknown[]; error?: { code: string; message: string } };
  const outcome = attack.outcome;
  if ('rows' in outcome) {
    expect(response.status, body.error?.message).toBe(200);
    expect(body.rows).toEqual(outcome.rows);
  } else if ('refused' in outcome) {
    expect(response.status).toBe(400);
    expect(body.error?.code).toBe(`QUERY_REFUSED:${outcome.refused}`);
    expect(body.error?.message).toMatch(outcome.names);
  } else if ('failed' in outcome) {
    expect(response.status).toBe(400);
    expect(body.error?.code).toBe('QUERY_FAILED');
    expect(body.error?.message).toMatch(outcome.failed);
  } else {
    expect(response.status, body.error?.message).toBe(STATUS[outcome.limit]);
    expect(body.error?.code).toBe(outcome.limit);
  }
}

async function viaCli(attack: Attack): Promise<void> {
  const result = await runInProcess(
    ['query', '--release', sample.release, '--format', 'json', '--timeout', String(TIMEOUT_S), attack.sql],
    { logLevel: 'warn' },
  );
  const outcome = attack.outcome;
  if ('rows' in outcome) {
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { rows: unknown[] }).rows).toEqual(outcome.rows);
  } else if ('refused' in outcome || 'failed' in outcome) {
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch('refused' in outcome ? /\[QUERY_REFUSED\]/ : /\[QUERY_FAILED\]/);
    expect(result.stderr).toMatch('refused' in outcome ? outcome.names : outcome.failed);
  } else {
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`[${outcome.limit}]`);
  }
}

describe(`the query service against ${ATTACKS.length} attacks`, { timeout: 60_000 }, () => {
  it.each(ATTACKS.map((a) => [`${a.finding}: ${a.name}`, a] as const))('HTTP %s', async (_label, attack) => {
    await viaHttp(attack);
  });
  it.each(ATTACKS.map((a) => [`${a.finding}: ${a.name}`, a] as const))('CLI %s', async (_label, attack) => {
    await viaCli(attack);
  });

  it('refuses with the same message both ways', async () => {
    for (const attack of ATTACKS.filter((a) => 'refused' in a.outcome).slice(0, 10)) {
      const http = (await (await sample.query(attack.sql)).json()) as { error: { message: string } };
      const cli = await runInProcess(['query', '--release', sample.release, attack.sql], { logLevel: 'warn' });
      expect(cli.stderr).toContain(`boldlink: ${http.error.message} [QUERY_REFUSED]`);
    }
  });

  it('stays up and answers after every attack', async () => {
    const response = await sample.query('SELECT 1 AS ok');
    expect(await response.json()).toMatchObject({ rows: [{ ok: 1 }] });
  });
});
