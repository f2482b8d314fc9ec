import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duck, fillSql, sqlString } from '../../pipeline/core/duckdb.js';
import { StageOutput } from '../../pipeline/core/stageOutput.js';
import { loadDefinitions } from '../../pipeline/metrics/definitionsFile.js';
import {
  inputStatements,
  metricsStatements,
  observationEndQuery,
  type LinkedFiles,
} from '../../pipeline/metrics/metricsPlan.js';
import { loadMinimumWage } from '../../pipeline/metrics/minimumWage.js';
import { metricsMemoryLimit } from '../../pipeline/metrics/runMetrics.js';
import type { BenchFigure, BenchSuite } from '../figure.js';
import { measureBoldlink, measureCommand, type CommandMeasurement } from '../measure.js';

/**
 * Issue #7: the metrics stage at city scale — wall time, peak memory, and its
 * cost relative to the same SQL files run straight in DuckDB (target ≤ 1.2×).
 *
 * The input is a link-format stage directory of city size (60k persons on
 * benefit in four municipalities, ~120k benefit periods, ~480k jobs, 30k
 * interventions), synthesised here in DuckDB SQL so the figure does not wait
 * for the generator and link stages.
 */

const SCALES: Record<string, { persons: number }> = {
  tiny: { persons: 2_000 },
  small: { persons: 10_000 },
  city: { persons: 60_000 },
};
const REPEAT = Number(process.env.BOLDLINK_BENCH_REPEAT ?? 3);

/** Link-format tables (docs/contracts.md, "link → metrics") of one synthetic city. */
const SYNTHETIC_LINKED = `
CREATE TABLE people AS
SELECT i, md5('rid:' || i) AS rid, ['rotterdam', 'amsterdam', 'utrecht', 'den_haag'][1 + i % 4] AS municipality,
       CAST(DATE '1955-01-01' + to_months(CAST(hash(i) % 540 AS INTEGER)) AS DATE) AS birth_month,
       CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END AS sex
FROM range(\${persons}) t(i);

CREATE TABLE clients AS
SELECT rid, municipality, birth_month, sex, 'wijk ' || CAST(hash(i, 1) % 12 AS INTEGER) AS district,
       ['single', 'single_parent', 'couple', 'couple_with_children', 'other'][1 + CAST(hash(i, 2) % 5 AS INTEGER)] AS household_type
FROM people;

CREATE TABLE persons AS
SELECT rid, birth_month, sex, ['GM0599', 'GM0363', 'GM0344', 'GM0518'][1 + i % 4] AS municipality_code FROM people;

-- One to three periods a person, gaps of 0 to 400 days (some within the 31-day merge), the last sometimes ongoing.
CREATE TABLE periods AS
SELECT p.i, p.rid, p.municipality, k,
       CAST(DATE '2015-01-01' + CAST(hash(p.i) % 1500 + k * 500 + hash(p.i, k) % 400 AS INTEGER) AS DATE) AS start_date,
       CAST(60 + hash(p.i, k, 7) % 460 AS INTEGER) AS length
FROM people p, range(3) r(k)
WHERE k < 1 + p.i % 3;

CREATE TABLE benefits AS
SELECT rid, municipality, ['bijstand', 'bijstand', 'bijstand', 'ioaw', 'bbz'][1 + CAST(hash(i, k, 3) % 5 AS INTEGER)] AS benefit_type, start_date,
       CASE WHEN hash(i, k, 4) % 8 = 0 THEN NULL ELSE CAST(start_date + CAST(length AS INTEGER) AS DATE) END AS end_date,
       CASE WHEN hash(i, k, 4) % 8 = 0 THEN NULL ELSE ['work', 'other_income', 'partner', 'moved', 'other'][1 + CAST(hash(i, k, 5) % 5 AS INTEGER)] END AS end_reason
FROM periods;

-- Eight jobs a person: most anywhere in 2013–2024, one near the end of the first period.
CREATE TABLE jobs AS
SELECT p.rid, 'E' || CAST(hash(p.i, j) % 40000 AS INTEGER) AS employer_id,
       CASE WHEN j = 0 THEN CAST(f.start_date + f.length + CAST(hash(p.i, 9) % 80 AS INTEGER) - 40 AS DATE)
            ELSE CAST(DATE '2013-01-01' + CAST(hash(p.i, j, 1) % 4300 AS INTEGER) AS DATE) END AS start_date,
       CAST(hash(p.i, j, 2) % 900 AS INTEGER) AS length,
       ['permanent', 'temporary', 'on_call', 'agency', 'self_employed'][1 + CAST(hash(p.i, j, 3) % 5 AS INTEGER)] AS contract_type,
       CAST(4 + CAST(hash(p.i, j, 4) % 37 AS INTEGER) AS DOUBLE) AS hours_per_week,
       9.0 + CAST(hash(p.i, j, 5) % 160 AS INTEGER) / 10.0 AS hourly_wage
FROM people p JOIN periods f ON f.i = p.i AND f.k = 0, range(8) r(j);

CREATE TABLE interventions AS
SELECT f.rid, f.municipality, ['werkloont', 'jobcoach'][1 + f.i % 2] AS programme,
       ['treatment', 'control', 'none'][1 + CAST(hash(f.i, 6) % 3 AS INTEGER)] AS arm, CAST(1 + CAST(hash(f.i, 8) % 6 AS INTEGER) AS TINYINT) AS ladder_step,
       CAST(f.start_date + 30 AS DATE) AS start_date, CAST(f.start_date + 210 AS DATE) AS end_date
FROM periods f
WHERE f.k = 0 AND f.i % 2 = 0;
`;

export async function synthesiseLinked(outDir: string, persons: number, tempDir: string): Promise<void> {
  const duck = await Duck.open({ tempDirectory: tempDir });
  const output = await StageOutput.create({ stage: 'link', outDir, parameters: { project: 'bench' } });
  try {
    await duck.run(fillSql(SYNTHETIC_LINKED, { persons: String(persons) }));
    const tables: Record<string, string> = {
      clients: 'SELECT * FROM clients ORDER BY ALL',
      persons: 'SELECT * FROM persons ORDER BY ALL',
      benefits: 'SELECT * FROM benefits ORDER BY ALL',
      jobs: `SELECT rid, employer_id, start_date, CASE WHEN length % 3 = 0 THEN NULL ELSE CAST(start_date + CAST(length AS INTEGER) AS DATE) END AS end_date,
                    contract_type, hours_per_week, hourly_wage FROM jobs ORDER BY ALL`,
      interventions: 'SELECT * FROM interventions ORDER BY ALL',
    };
    for (const [table, select] of Object.entries(tables))
      await duck.run(
        `COPY (${select}) TO ${sqlString(await output.file(`${table}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`,
      );
    await output.commit();
  } catch (error) {
    await output.abandon();
    throw error;
  } finally {
    duck.close();
  }
}

/**
 * The stage's SQL files, filled exactly as the command fills them, run straight
 * in DuckDB from plain paths: no checksum verification of the input, no column
 * probe, no manifest, quarantine or commit. Runs in its own Node process so
 * both sides pay process start-up.
 */
export async function runMetricsSqlDirectly(linkedDir: string, outDir: string, tempDir: string): Promise<void> {
  await mkdir(join(outDir, 'tables'), { recursive: true });
  const files: LinkedFiles = {
    clients: join(linkedDir, 'clients.parquet'),
    persons: join(linkedDir, 'persons.parquet'),
    benefits: join(linkedDir, 'benefits.parquet'),
    jobs: join(linkedDir, 'jobs.parquet'),
    interventions: join(linkedDir, 'interventions.parquet'),
  };
  const { definitions } = await loadDefinitions();
  const wage = await loadMinimumWage();
  const duck = await Duck.open({ memoryLimit: metricsMemoryLimit(), tempDirectory: tempDir });
  try {
    for (const statement of await inputStatements(files)) await duck.run(statement.sql);
    const [row] = await duck.jsonRows<{ observation_end: string }>(await observationEndQuery());
    const outputs = {
      spells: join(outDir, 'spells.parquet'),
      tablesDir: join(outDir, 'tables'),
      effects: join(outDir, 'effects.parquet'),
    };
    for (const statement of await metricsStatements(definitions, wage, row?.observation_end ?? '2024-12-31', outputs))
      await duck.run(statement.sql);
  } finally {
    duck.close();
  }
}

async function writeDirectSqlScript(file: string, linkedDir: string, outDir: string, tempDir: string): Promise<string> {
  await writeFile(
    file,
    `import { runMetricsSqlDirectly } from ${JSON.stringify(import.meta.url)};\nawait runMetricsSqlDirectly(${JSON.stringify(linkedDir)}, ${JSON.stringify(outDir)}, ${JSON.stringify(tempDir)});\n`,
  );
  return file;
}

export const suite: BenchSuite = {
  name: 'metrics',
  async run({ workDir, scale, say }) {
    const size = SCALES[scale] ?? SCALES.city!;
    const linked = join(workDir, 'linked');
    say(`synthesising a link output (${size.persons} persons on benefit)`);
    await synthesiseLinked(linked, size.persons, join(workDir, 'synth-tmp'));

    const stageRuns: CommandMeasurement[] = [];
    const sqlRuns: CommandMeasurement[] = [];
    // Interleaved, so a busy neighbour on the shared machine slows both sides alike.
    for (let i = 0; i < REPEAT; i++) {
      say(`metrics stage, run ${i + 1}/${REPEAT}`);
      const stage = await measureBoldlink(['metrics', '--input', linked, '--out', join(workDir, 'metrics')]);
      if (stage.exitCode !== 0)
        throw new Error(`boldlink metrics failed (exit ${stage.exitCode}): ${stage.stderr.slice(0, 400)}`);
      stageRuns.push(stage);
      say(`the same SQL run directly, run ${i + 1}/${REPEAT}`);
      const script = await writeDirectSqlScript(
        join(workDir, `direct-${i}.mjs`),
        linked,
        join(workDir, `direct-${i}`),
        join(workDir, 'direct-tmp'),
      );
      const direct = await measureCommand(process.execPath, [script]);
      if (direct.exitCode !== 0)
        throw new Error(`the direct metrics SQL failed (exit ${direct.exitCode}): ${direct.stderr.slice(0, 400)}`);
      sqlRuns.push(direct);
    }
    const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const stageSeconds = median(stageRuns.map((r) => r.seconds));
    const sqlSeconds = median(sqlRuns.map((r) => r.seconds));
    const ratio = stageSeconds / sqlSeconds;
    const note = `${scale}: ${size.persons} persons on benefit, ~${Math.round(size.persons * 2)} periods, ${size.persons * 8} jobs; median of ${REPEAT}`;
    const figures: BenchFigure[] = [
      {
        issue: 7,
        name: `metrics stage wall time (${scale})`,
        value: stageSeconds,
        unit: 's',
        reference: { name: 'its SQL files run directly', value: sqlSeconds },
        ratio,
        target: '≤ 1.2×',
        met: ratio <= 1.2,
        note,
      },
      {
        issue: 7,
        name: `metrics stage peak memory (${scale})`,
        value: Math.max(...stageRuns.map((r) => r.peakMiB)),
        unit: 'MiB',
        reference: { name: 'its SQL files run directly', value: Math.max(...sqlRuns.map((r) => r.peakMiB)) },
        note,
      },
    ];
    return figures;
  },
};
