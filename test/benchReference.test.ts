import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudonymizeWithSqlOnly } from '../bench/pseudonymizeSql.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { HOLDER_SOURCE } from '../pipeline/demo/workspace.js';
import { runChain, type ChainRun } from './support/tinyChain.js';

/**
 * The chain benchmark's reference (issue #11) is "the same chain as plain DuckDB SQL": it must do the stage's work,
 * not less. On a generated population (municipal exports with their injected defects, and the holder's files) it
 * writes the same rows per table and identifier status, with F1 where the stage has F1, and quarantines the same
 * rows for the same rules. Only the pseudonyms differ (sha256 stands in for the HMAC).
 */
describe('the chain benchmark reference does the stage work', { timeout: 300_000 }, () => {
  let root: string;
  let chain: ChainRun;
  let duck: Duck;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-bench-reference-'));
    chain = await runChain({ root, until: 'pseudonymize', logLevel: 'warn' });
    duck = await Duck.open({ tempDirectory: join(root, 'duckdb') });
  });

  afterAll(async () => {
    duck?.close();
    await rm(root, { recursive: true, force: true });
  });

  const sources = [
    {
      source: 'rotterdam',
      inputs: () =>
        ['clienten.csv', 'uitkeringen.csv', 'trajecten.csv'].map((f) => join(chain.raw, 'gemeente', 'rotterdam', f)),
      tables: ['clients', 'benefits', 'interventions'],
      mapped: true,
    },
    {
      source: HOLDER_SOURCE,
      inputs: () => ['persons.parquet', 'jobs.parquet'].map((f) => join(chain.raw, 'microdata', f)),
      tables: ['persons', 'jobs'],
      mapped: false,
    },
  ];

  for (const { source, inputs, tables, mapped } of sources) {
    it(`${source}: same rows, statuses, F1 and quarantine`, async () => {
      const out = join(root, 'reference', source);
      const scratch = join(root, 'reference-scratch', source);
      await pseudonymizeWithSqlOnly(
        inputs(),
        mapped ? projectPath('examples/mappings/gemeente.json') : undefined,
        out,
        scratch,
      );
      for (const table of tables) {
        const profile = (file: string) =>
          duck.jsonRows<{ id_status: string; n: number; with_f1: number; with_p1: number }>(
            `SELECT id_status, count(*) AS n, count(f1) AS with_f1, count(p1) AS with_p1 FROM read_parquet(${sqlString(file)}) GROUP BY 1 ORDER BY 1`,
          );
        const columns = async (file: string) =>
          (await duck.jsonRows<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)).map(
            (c) => c.column_name,
          );
        const stage = join(chain.pseudonymized[source]!, `${table}.parquet`);
        const reference = join(out, `${table}.parquet`);
        expect(await profile(reference), table).toEqual(await profile(stage));
        expect(await columns(reference), table).toEqual(await columns(stage));
      }
      const quarantined = (file: string) =>
        duck.jsonRows<{ file: string; rule: string; n: number }>(
          `SELECT file, rule, count(*) AS n FROM read_csv(${sqlString(file)}, all_varchar = true) GROUP BY ALL ORDER BY ALL`,
        );
      const stageQuarantine = join(`${chain.pseudonymized[source]!}.quarantine`, 'quarantine.csv');
      expect(await quarantined(join(scratch, 'quarantine', 'quarantine.csv'))).toEqual(
        await quarantined(stageQuarantine),
      );
      if (mapped) expect((await quarantined(stageQuarantine)).length).toBeGreaterThan(0);
    });
  }
});
