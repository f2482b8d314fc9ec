import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BenchFigure, BenchSuite } from '../figure.js';
import { projectPath } from '../../pipeline/core/projectPath.js';
import { writeSampleRelease } from '../../pipeline/query/sampleRelease.js';
import { addToken } from '../../pipeline/tokens/tokenStore.js';

/** The slice of autocannon's API we use (it ships no types). */
interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly average: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const DURATION_S = 8;
const CONNECTIONS = 16;
/** A researcher's small aggregate: totals by municipality, suppressed cells marked. */
const SMALL_AGGREGATE =
  "SELECT municipality, sum(durable) AS durable, sum(to_work) AS to_work FROM outflow_by_year_municipality WHERE outflow_year <> 'Total' GROUP BY municipality ORDER BY municipality";
/** Each builds 100 MB of values and is refused (413) before any of it is copied out. */
const OVERSIZED = "SELECT repeat('x', 1000000) AS s FROM range(100)";
const IDLE_S = 10;

/**
 * Issue #9: table requests per second and p99 latency over loopback, and the
 * server's resident memory at the end. Issue #20: POST /api/query per second
 * for a small aggregate (guarded, rewritten and marked), and the server's
 * memory after a run of queries refused for their size. The server runs as
 * `boldlink serve` in a child process (as a researcher would run it); the
 * load generator runs here. Reference, same run, same load generator: a
 * trivial node:http server that answers every request with a constant.
 */
export const suite: BenchSuite = {
  name: 'serve',
  async run({ workDir, say }): Promise<BenchFigure[]> {
    const release = await writeSampleRelease(join(workDir, 'release'));
    const tokensFile = join(workDir, 'tokens.json');
    const token = await addToken(tokensFile, 'bench');
    const headers = { authorization: `Bearer ${token}` };
    // A mix of table requests: whole tables, filters, sorts, CSV.
    const paths = [
      '/api/tables/outflow_by_year_municipality',
      '/api/tables/outflow_by_year_municipality?municipality=rotterdam&outflow_year=2020',
      '/api/tables/outflow_by_year_municipality?outflow_year=2021&sort=-spells',
      '/api/tables/job_quality_by_year_age_group?age_group=27%2B',
      '/api/tables/effects_within_12_months?format=csv',
      '/api/tables/outflow_by_year_municipality?municipality=utrecht&format=csv',
    ];

    const reference = await startChild(process.execPath, ['-e', TRIVIAL_SERVER]);
    let referenceResult: AutocannonResult;
    try {
      say('reference: trivial node:http server');
      referenceResult = await load(reference.url, ['/'], {});
    } finally {
      await stop(reference.child);
    }

    const served = await startChild(
      process.execPath,
      [
        projectPath('dist/pipeline/cli.js'),
        'serve',
        '--release',
        release,
        '--tokens',
        tokensFile,
        '--port',
        '0',
        '--request-log',
        join(workDir, 'requests.jsonl'),
      ],
      { BOLDLINK_LOG_LEVEL: 'warn', BOLDLINK_THREADS: '1' },
    );
    let result: AutocannonResult;
    let queries: AutocannonResult;
    let rssMiB: number;
    let afterOversized: number;
    let afterIdle: number;
    let refused = 0;
    const queryRequest = {
      method: 'POST',
      path: '/api/query',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: SMALL_AGGREGATE }),
    };
    try {
      say(`boldlink serve: ${paths.length} table requests, ${CONNECTIONS} connections, ${DURATION_S} s`);
      result = await load(served.url, paths, headers);
      say(`boldlink serve: POST /api/query (small aggregate), ${CONNECTIONS} connections, ${DURATION_S} s`);
      queries = await loadRequests(served.url, [queryRequest], headers);
      rssMiB = await residentMiB(served.child.pid ?? 0);
      say('boldlink serve: 20 queries over the result size limit');
      for (let i = 0; i < 20; i++) {
        const response = await fetch(`${served.url}/api/query`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ sql: OVERSIZED }),
        });
        await response.arrayBuffer();
        if (response.status === 413) refused++;
      }
      afterOversized = await residentMiB(served.child.pid ?? 0);
      // The engine hands memory back after a query (allocator flush); give it a moment, then look again.
      await new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000));
      afterIdle = await residentMiB(served.child.pid ?? 0);
    } finally {
      await stop(served.child);
    }
    const queryReference = await startChild(process.execPath, ['-e', TRIVIAL_SERVER]);
    let queryReferenceResult: AutocannonResult;
    try {
      queryReferenceResult = await loadRequests(queryReference.url, [{ ...queryRequest, path: '/' }], {});
    } finally {
      await stop(queryReference.child);
    }
    const failures = result.non2xx + result.errors + result.timeouts;
    const note = `${CONNECTIONS} connections, ${DURATION_S} s, ${result.requests.total} requests, ${failures} failed; p50 ${result.latency.p50} ms`;
    const queryFailures = queries.non2xx + queries.errors + queries.timeouts;
    const queryNote = `${CONNECTIONS} connections, ${DURATION_S} s, ${queries.requests.total} requests, ${queryFailures} failed; p50 ${queries.latency.p50} ms, p99 ${queries.latency.p99} ms`;
    return [
      {
        issue: 20,
        name: 'serve: POST /api/query (small aggregate) per second',
        value: queries.requests.average,
        unit: 'req/s',
        reference: { name: 'trivial node:http server, same POST', value: queryReferenceResult.requests.average },
        ratio: queries.requests.average / queryReferenceResult.requests.average,
        met: queryFailures === 0,
        note: queryNote,
      },
      {
        issue: 20,
        name: 'serve: p99 latency of POST /api/query (small aggregate)',
        value: queries.latency.p99,
        unit: 'ms',
        reference: { name: 'trivial node:http server p99', value: queryReferenceResult.latency.p99 },
        note: queryNote,
      },
      {
        issue: 20,
        name: 'serve: resident memory after 20 queries over the result size limit',
        value: afterOversized,
        unit: 'MiB',
        reference: { name: 'after the table and query load', value: rssMiB },
        met: refused === 20,
        note: `each builds 100 MB of values; ${refused} of 20 refused with 413`,
      },
      {
        issue: 20,
        name: `serve: resident memory ${IDLE_S} s after them`,
        value: afterIdle,
        unit: 'MiB',
        reference: { name: 'after the table and query load', value: rssMiB },
        target: 'back to the reference (±25%)',
        met: afterIdle <= rssMiB * 1.25,
      },
      {
        issue: 9,
        name: 'serve: table requests per second',
        value: result.requests.average,
        unit: 'req/s',
        reference: { name: 'trivial node:http server', value: referenceResult.requests.average },
        ratio: result.requests.average / referenceResult.requests.average,
        target: '≥ 2,000 req/s',
        met: result.requests.average >= 2000 && failures === 0,
        note,
      },
      {
        issue: 9,
        name: 'serve: p99 latency of table requests',
        value: result.latency.p99,
        unit: 'ms',
        reference: { name: 'trivial node:http server p99', value: referenceResult.latency.p99 },
        target: '< 50 ms',
        met: result.latency.p99 < 50,
        note,
      },
      { issue: 9, name: 'serve: server resident memory after the load', value: rssMiB, unit: 'MiB' },
    ];
  },
};

const TRIVIAL_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ ok: true });
const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); });
server.listen(0, '127.0.0.1', () => process.stdout.write('listening at http://127.0.0.1:' + server.address().port + '/\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function load(url: string, paths: readonly string[], headers: Record<string, string>): Promise<AutocannonResult> {
  return loadRequests(
    url,
    paths.map((path) => ({ method: 'GET', path })),
    headers,
  );
}

function loadRequests(
  url: string,
  requests: readonly Record<string, unknown>[],
  headers: Record<string, string>,
): Promise<AutocannonResult> {
  return autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers, requests });
}

/** Start a server child and wait for the URL it prints ('… at http://127.0.0.1:PORT/'). */
function startChild(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`server did not start within 60 s: ${errors.slice(0, 500)}`));
    }, 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:[0-9]+)\//.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${errors.slice(0, 500)}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function residentMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = /VmRSS:\s+([0-9]+) kB/.exec(status)?.[1];
  return kib === undefined ? Number.NaN : Number(kib) / 1024;
}
