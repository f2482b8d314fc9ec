import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { runBoldlink } from './support/cli.js';

/**
 * Issue #7: on city data the effects table recovers the planted programme
 * effect (47.9% − 40.7% ≈ 7.2 points ending within 12 months) within its 95%
 * interval. The whole chain at city scale takes minutes on the shared
 * machine, so it runs only when asked: BOLDLINK_CITY_TESTS=1.
 * (Measured 2026-11-25: pooled 0.0721, interval 0.0377 … 0.1065.)
 */

const MUNICIPALITIES = ['rotterdam', 'amsterdam', 'utrecht', 'den_haag'];
let root: string;

async function boldlink(args: string[]): Promise<void> {
  const result = await runBoldlink(args, { cwd: root });
  if (result.code !== 0) throw new Error(`boldlink ${args[0]} failed (${result.code}): ${result.stderr.slice(0, 600)}`);
}

describe.skipIf(process.env.BOLDLINK_CITY_TESTS === undefined)('the programme effect on city data', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-metrics-city-'));
    await mkdir(join(root, 'keys'), { mode: 0o700 });
    await boldlink(['generate', '--scale', 'city', '--seed', '11', '--defects', 'none', '--out', 'generated']);
    await boldlink(['keys', 'new', '--role', 'source', '--out', 'keys/source.key']);
    await boldlink(['keys', 'new', '--role', 'ttp', '--out', 'keys/ttp.key']);
    await boldlink([
      'pseudonymize',
      '--key',
      'keys/source.key',
      '--source',
      'cbs',
      '--input',
      'generated/microdata/persons.parquet',
      'generated/microdata/jobs.parquet',
      '--out',
      'ps/cbs',
    ]);
    for (const m of MUNICIPALITIES) {
      const dir = `generated/gemeente/${m}`;
      await boldlink([
        'pseudonymize',
        '--key',
        'keys/source.key',
        '--source',
        m,
        '--mapping',
        join(process.cwd(), 'examples/mappings/gemeente.json'),
        '--input',
        `${dir}/clienten.csv`,
        `${dir}/uitkeringen.csv`,
        `${dir}/trajecten.csv`,
        '--out',
        `ps/${m}`,
      ]);
    }
    await boldlink([
      'link',
      '--key',
      'keys/ttp.key',
      '--project',
      'city',
      '--input',
      'ps/cbs',
      ...MUNICIPALITIES.map((m) => `ps/${m}`),
      '--out',
      'linked',
    ]);
    const truth = JSON.parse(await readFile(join(root, 'generated', 'truth', 'metrics.json'), 'utf8')) as {
      observationEnd: string;
    };
    await boldlink(['metrics', '--input', 'linked', '--out', 'metrics', '--observation-end', truth.observationEnd]);
  }, 1_800_000);

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('recovers the planted difference within the 95% interval, pooled over cohorts', async () => {
    const truth = JSON.parse(await readFile(join(root, 'generated', 'truth', 'metrics.json'), 'utf8')) as {
      programme: { target: { treatment: number; control: number } };
    };
    const planted = truth.programme.target.treatment - truth.programme.target.control;
    const duck = await Duck.open({ threads: 1 });
    try {
      const [row] = await duck.jsonRows<{ difference: number; ci_low: number; ci_high: number }>(
        `SELECT difference, ci_low, ci_high FROM read_parquet(${sqlString(join(root, 'metrics', 'effects.parquet'))}) WHERE design = 'programme' AND cohort = 'Total' AND outcome = 'ended_within_12m'`,
      );
      expect(row?.ci_low).toBeLessThan(planted);
      expect(row?.ci_high).toBeGreaterThan(planted);
      expect(Math.abs((row?.difference ?? 0) - planted)).toBeLessThan(0.02);
    } finally {
      duck.close();
    }
  });
});
