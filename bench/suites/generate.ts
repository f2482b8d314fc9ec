import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duck, sqlString } from '../../pipeline/core/duckdb.js';
import type { BenchFigure, BenchSuite } from '../figure.js';
import { measureBoldlink, timeMedian } from '../measure.js';

/**
 * Issue #4: generation wall time and peak memory at small and city scale.
 * Reference, same run and machine: DuckDB writing the same number of rows
 * with a trivial COPY (range → Parquet, one row per generated row), i.e. the
 * floor any generator that writes this much data has to pay.
 */
export const suite: BenchSuite = {
  name: 'generate',
  async run({ workDir, say }) {
    const figures: BenchFigure[] = [];
    for (const scale of ['small', 'city'] as const) {
      say(`generate --scale ${scale}`);
      const out = join(workDir, scale);
      const run = await measureBoldlink([
        'generate',
        '--scale',
        scale,
        '--seed',
        '1',
        '--out',
        out,
        '--log-level',
        'warn',
      ]);
      if (run.exitCode !== 0) throw new Error(`generate --scale ${scale} failed: ${run.stderr}`);
      const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
        outputs: { rows: number | null }[];
      };
      const rows = manifest.outputs.reduce((sum, f) => sum + (f.rows ?? 0), 0);
      say(`trivial COPY of ${rows} rows`);
      const duck = await Duck.open();
      const copySeconds = await timeMedian(1, () =>
        duck.run(`COPY (SELECT i AS id, i % 1000 AS a, 'x' || i AS b, DATE '2015-01-01' + CAST(i % 3650 AS INTEGER) AS d FROM range(${rows}) t(i))
                  TO ${sqlString(join(workDir, `${scale}-reference.parquet`))} (FORMAT parquet)`),
      );
      duck.close();
      figures.push({
        issue: 4,
        name: `generate --scale ${scale}: wall time`,
        value: run.seconds,
        unit: 's',
        reference: { name: `DuckDB trivial COPY of the same ${rows} rows`, value: copySeconds },
        ratio: run.seconds / copySeconds,
        note: `${Math.round(rows / run.seconds)} rows/s written`,
      });
      figures.push({ issue: 4, name: `generate --scale ${scale}: peak memory`, value: run.peakMiB, unit: 'MiB' });
    }
    return figures;
  },
};
