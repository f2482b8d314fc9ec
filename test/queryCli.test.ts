import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../pipeline/core/projectPath.js';
import { writeSampleRelease } from '../pipeline/query/sampleRelease.js';
import { runBoldlink } from './support/cli.js';

let dir: string;
let release: string;
const T = 'outflow_by_year_municipality';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'boldlink-query-cli-'));
  release = await writeSampleRelease(join(dir, 'release'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each test spawns the CLI; on a loaded machine a start takes seconds.
describe('boldlink query (CLI)', { timeout: 60_000 }, () => {
  it('prints a text table by default', async () => {
    const result = await runBoldlink([
      'query',
      '--release',
      release,
      `SELECT municipality, spells FROM ${T} WHERE outflow_year = '2019' ORDER BY spells DESC LIMIT 2`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').slice(0, 4)).toEqual([
      'municipality  spells',
      '------------  ------',
      'Total           1140',
      'utrecht          390',
    ]);
  });

  it('writes JSON with the suppression warning on stderr', async () => {
    const result = await runBoldlink([
      'query',
      '--release',
      release,
      '--format',
      'json',
      `SELECT sum(to_work) AS to_work FROM ${T} WHERE municipality <> 'Total' AND outflow_year <> 'Total'`,
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      rows: [{ to_work: null, to_work_status: 'suppressed' }],
      rowCount: 1,
    });
    expect(result.stderr).toMatch(/warning: Column 'to_work'.*suppressed/);
  });

  it('writes CSV and an Arrow IPC stream', async () => {
    const sql = `SELECT outflow_year, municipality, durable, durable_status FROM ${T} WHERE outflow_year = '2021' ORDER BY municipality`;
    const csv = await runBoldlink(['query', '--release', release, '--format', 'csv', sql]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\r\n')).toContain('2021,utrecht,,suppressed');
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [projectPath('dist/pipeline/cli.js'), 'query', '--release', release, '--format', 'arrow', sql],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', reject);
      child.on('close', () => resolve(Buffer.concat(chunks)));
    });
    const table = tableFromIPC(new Uint8Array(bytes));
    expect(table.numRows).toBe(5);
    expect([...(table.getChild('durable_status')?.toArray() ?? [])].filter((s) => s === 'suppressed')).toHaveLength(2);
    const utrecht = table
      .toArray()
      .map((r) => r.toJSON() as Record<string, unknown>)
      .find((r) => r.municipality === 'utrecht');
    expect(utrecht?.durable).toBeNull();
  });

  // Every refused form is covered in-process in query.test.ts; here the exit code and message of one.
  it('refuses COPY with exit 2 and a clear message', async () => {
    const cases: [string, RegExp][] = [[`COPY ${T} TO '/tmp/boldlink-leak.csv'`, /Only a read-only SELECT/]];
    const results = await Promise.all(cases.map(([sql]) => runBoldlink(['query', '--release', release, sql])));
    results.forEach((result, i) => {
      expect(result.code, cases[i]?.[0]).toBe(2);
      expect(result.stderr).toMatch(cases[i]?.[1] ?? /./);
      expect(result.stderr).toMatch(/\[QUERY_REFUSED\]/);
      expect(result.stdout).toBe('');
    });
  });

  it('refuses a memory limit or byte limit that is not a size with exit 2, and applies a small byte limit', async () => {
    const memory = await runBoldlink(['query', '--release', release, '--memory-limit', 'lots', 'SELECT 1']);
    expect(memory.code).toBe(2);
    expect(memory.stderr).toMatch(/--memory-limit must be a size/);
    const bytes = await runBoldlink(['query', '--release', release, '--max-bytes', '1000', `SELECT * FROM ${T}`]);
    expect(bytes.code).toBe(1);
    expect(bytes.stderr).toMatch(/larger than 1,000 bytes.*\[RESULT_TOO_LARGE\]/);
    expect(bytes.stdout).toBe('');
  });

  it('refuses a directory that is not a release bundle with exit 1', async () => {
    const result = await runBoldlink(['query', '--release', dir, 'SELECT 1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MANIFEST_MISSING/);
  });
});

describe('boldlink tokens add (CLI)', { timeout: 60_000 }, () => {
  it('prints the token once, stores only its hash with mode 0600, and refuses a duplicate name', async () => {
    const file = join(dir, 'tokens.json');
    const first = await runBoldlink(['tokens', 'add', '--name', 'Ada Researcher', '--file', file]);
    expect(first.code).toBe(0);
    const token = first.stdout.trim();
    expect(token).toMatch(/^bl_[A-Za-z0-9_-]{43}$/);
    expect(first.stderr).not.toContain(token);
    const stored = await readFile(file, 'utf8');
    expect(stored).not.toContain(token);
    expect(JSON.parse(stored)).toMatchObject({
      format: 'boldlink-tokens/v1',
      tokens: [{ name: 'Ada Researcher', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }],
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const again = await runBoldlink(['tokens', 'add', '--name', 'Ada Researcher', '--file', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already has a token/);

    const list = await runBoldlink(['tokens', 'list', '--file', file]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^Ada Researcher\t/);
    expect(list.stdout).not.toMatch(/[0-9a-f]{64}/);
  });
});
