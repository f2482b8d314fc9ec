import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRAMME_TARGET } from '../examples/generator/scales.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { runBoldlink } from './support/cli.js';

/**
 * The ground truth of `boldlink generate` checked against the exported files
 * themselves: the spell merge rule of docs/design.md ("Metric definitions") applied to the municipal exports
 * gives back exactly the true spells, the derived columns follow their
 * definitions, and the WerkLoont-like programme lands on the published trial.
 */

const MAPPING = JSON.parse(await readFile(new URL('../examples/mappings/gemeente.json', import.meta.url), 'utf8')) as {
  tables: Record<string, { values: Record<string, Record<string, string>> }>;
};
const CITIES = ['rotterdam', 'amsterdam', 'utrecht', 'den_haag'];

let root: string;
let out: string;
let duck: Duck;
let observationEnd: string;

const t = (file: string) => sqlString(join(out, file));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-generate-truth-'));
  out = join(root, 'clean');
  const result = await runBoldlink([
    'generate',
    '--scale',
    'small',
    '--seed',
    '5',
    '--defects',
    'none',
    '--out',
    out,
    '--log-level',
    'warn',
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  observationEnd = (JSON.parse(await readFile(join(out, 'truth/metrics.json'), 'utf8')) as { observationEnd: string })
    .observationEnd;
  duck = await Duck.open({ threads: 1 });
  // The municipal benefit exports, decoded from Windows-1252 and labelled back to canonical codes, with the true person behind each row.
  const labels = (column: string) => MAPPING.tables.benefits!.values[column]!;
  const rows: string[] = [];
  for (const city of CITIES) {
    const text = iconv.decode(await readFile(join(out, 'gemeente', city, 'uitkeringen.csv')), 'windows-1252');
    text
      .split('\n')
      .slice(1, -1)
      .forEach((line, index) => {
        const [, type, start, end, reason] = line.split(';');
        rows.push(
          [
            city,
            index + 1,
            labels('benefit_type')[type!],
            start,
            end,
            reason === '' ? '' : labels('end_reason')[reason!],
          ].join(','),
        );
      });
  }
  const csv = join(root, 'benefits.csv');
  await writeFile(csv, `municipality,row,benefit_type,start,end,end_reason\n${rows.join('\n')}\n`);
  await duck.run(`CREATE TABLE benefit AS
    SELECT r.person_id, b.municipality, b.benefit_type, strptime(b.start, '%d-%m-%Y')::DATE AS start_date, strptime(NULLIF(b."end", ''), '%d-%m-%Y')::DATE AS end_date
    FROM read_csv(${sqlString(csv)}, all_varchar = true) b
    JOIN ${t('truth/records.parquet')} r ON r.source = b.municipality AND r.file = 'uitkeringen.csv' AND r.row = b.row::BIGINT`);
  await duck.run(`CREATE TABLE truth AS SELECT * FROM ${t('truth/spells.parquet')}`);
  await duck.run(`CREATE TABLE job AS
    SELECT p.person_id, j.* FROM ${t('microdata/jobs.parquet')} j JOIN ${t('truth/persons.parquet')} p USING (bsn)`);
}, 120_000);

afterAll(async () => {
  duck?.close();
  await rm(root, { recursive: true, force: true });
});

describe('truth of a clean small-scale run (--defects none)', () => {
  it('has no ledger entries and no affected spells', async () => {
    expect(await duck.scalar<bigint>(`SELECT count(*) FROM ${t('truth/ledger.parquet')}`)).toBe(0n);
    expect(await duck.scalar<bigint>(`SELECT count(*) FROM ${t('truth/affected_spells.parquet')}`)).toBe(0n);
  });

  it('has the columns of spells.parquet in docs/design.md, with person_id for rid', async () => {
    const columns = await duck.rows<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE truth)`);
    expect(columns.map((c) => c.column_name)).toEqual([
      'person_id',
      'spell_no',
      'municipality',
      'benefit_type',
      'start_date',
      'end_date',
      'age',
      'outflow',
      'outflow_year',
      'to_work',
      'censored',
      'revolving',
      'durable',
      'first_contract_type',
      'first_hours',
      'first_wage_band',
      'first_lasted_12m',
    ]);
  });

  it('merging the exported benefit periods by the 31-day rule gives exactly the true spells', async () => {
    const merged = `
      WITH ordered AS (
        SELECT *, max(coalesce(end_date, DATE '9999-12-31')) OVER (PARTITION BY person_id ORDER BY start_date, end_date NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS running_end
        FROM benefit
      ), numbered AS (
        SELECT *, sum(CASE WHEN running_end IS NULL OR start_date - running_end > 31 THEN 1 ELSE 0 END)
          OVER (PARTITION BY person_id ORDER BY start_date, end_date NULLS LAST ROWS UNBOUNDED PRECEDING) AS spell_no
        FROM ordered
      )
      SELECT person_id, spell_no::INTEGER AS spell_no, min(start_date) AS start_date,
        CASE WHEN count(end_date) = count(*) THEN max(end_date) END AS end_date,
        arg_max(municipality, coalesce(end_date, DATE '${observationEnd}') - start_date) AS municipality,
        arg_max(benefit_type, coalesce(end_date, DATE '${observationEnd}') - start_date) AS benefit_type
      FROM numbered GROUP BY ALL`;
    const truth = 'SELECT person_id, spell_no, start_date, end_date, municipality, benefit_type FROM truth';
    expect(
      await duck.scalar<bigint>(`SELECT count(*) FROM (SELECT * FROM (${merged}) EXCEPT SELECT * FROM (${truth}))`),
    ).toBe(0n);
    expect(
      await duck.scalar<bigint>(`SELECT count(*) FROM (SELECT * FROM (${truth}) EXCEPT SELECT * FROM (${merged}))`),
    ).toBe(0n);
    // Some spells consist of more than one period, some cross municipalities.
    expect(Number(await duck.scalar(`SELECT count(*) - (SELECT count(*) FROM truth) FROM benefit`))).toBeGreaterThan(
      100,
    );
    expect(
      Number(
        await duck.scalar(
          `SELECT count(*) FROM (SELECT person_id FROM benefit GROUP BY person_id HAVING count(DISTINCT municipality) > 1)`,
        ),
      ),
    ).toBeGreaterThan(10);
  });

  it("takes T as the latest date in the benefit data and the recipients' jobs", async () => {
    const latest = await duck.scalar<string>(`SELECT strftime(max(d), '%Y-%m-%d') FROM (
      SELECT greatest(start_date, coalesce(end_date, start_date)) AS d FROM benefit
      UNION ALL SELECT greatest(start_date, coalesce(end_date, start_date)) FROM job WHERE person_id IN (SELECT person_id FROM benefit))`);
    expect(observationEnd).toBe(latest);
  });

  it('derives outflow, censoring, outflow to work, revolving door and durable outflow by docs/design.md from the exported jobs', async () => {
    const recomputed = await duck.rows<{ problems: bigint }>(`
      WITH spell AS (
        SELECT *, CAST(end_date + INTERVAL 12 MONTH AS DATE) AS h FROM truth
      ), check_rows AS (
        SELECT s.*,
          EXISTS (SELECT 1 FROM job j WHERE j.person_id = s.person_id AND j.start_date BETWEEN s.end_date - 31 AND s.end_date + 31) AS work,
          EXISTS (SELECT 1 FROM truth o WHERE o.person_id = s.person_id AND o.start_date > s.end_date AND o.start_date <= s.h) AS back,
          EXISTS (SELECT 1 FROM job j WHERE j.person_id = s.person_id AND j.start_date <= s.h AND (j.end_date IS NULL OR j.end_date >= s.h)) AS covered
        FROM spell s
      )
      SELECT count(*) FILTER (WHERE
        outflow IS DISTINCT FROM (end_date IS NOT NULL)
        OR outflow_year IS DISTINCT FROM year(end_date)
        OR (outflow AND (censored IS DISTINCT FROM (h > DATE '${observationEnd}') OR to_work IS DISTINCT FROM work))
        OR (NOT outflow AND (to_work IS NOT NULL OR censored IS NOT NULL OR revolving IS NOT NULL OR durable IS NOT NULL))
        OR (outflow AND censored AND (revolving IS NOT NULL OR durable IS NOT NULL))
        OR (outflow AND NOT censored AND (revolving IS DISTINCT FROM back OR durable IS DISTINCT FROM (work AND NOT back AND covered)))
        OR ((first_contract_type IS NOT NULL) IS DISTINCT FROM coalesce(to_work, false))
        OR (age NOT BETWEEN 18 AND 67)
      ) AS problems FROM check_rows`);
    expect(recomputed[0]?.problems).toBe(0n);
    // Consecutive true spells of a person are more than 31 days apart.
    expect(
      await duck.scalar<bigint>(`SELECT count(*) FROM (
      SELECT start_date - lag(end_date) OVER (PARTITION BY person_id ORDER BY spell_no) AS gap FROM truth) WHERE gap <= 31`),
    ).toBe(0n);
  });

  it('has many short spells and a long-term tail, revolving doors, and first jobs of every quality', async () => {
    const shape = await duck.jsonRows<Record<string, number>>(`SELECT
      avg((end_date - start_date < 365)::INTEGER) FILTER (outflow) AS short_share,
      avg((coalesce(end_date, DATE '${observationEnd}') - start_date > 3 * 365)::INTEGER) AS long_share,
      avg(revolving::INTEGER) AS revolving_share, avg(to_work::INTEGER) AS to_work_share, avg(durable::INTEGER) AS durable_share,
      count(DISTINCT first_contract_type) AS contract_types, count(DISTINCT first_wage_band) AS wage_bands,
      count(*) FILTER (first_lasted_12m) AS lasted, count(*) FILTER (NOT first_lasted_12m) AS not_lasted,
      count(*) FILTER (first_hours < 12) AS small_jobs
      FROM truth`);
    const s = shape[0]!;
    expect(s.short_share).toBeGreaterThan(0.3);
    expect(s.long_share).toBeGreaterThan(0.1);
    expect(s.revolving_share).toBeGreaterThan(0.05);
    expect(s.to_work_share).toBeGreaterThan(0.3);
    expect(s.durable_share).toBeGreaterThan(0.1);
    expect(Number(s.contract_types)).toBe(5);
    expect(Number(s.wage_bands)).toBe(3);
    expect(Number(s.lasted)).toBeGreaterThan(50);
    expect(Number(s.not_lasted)).toBeGreaterThan(50);
    expect(Number(s.small_jobs)).toBeGreaterThan(10);
    // About 96 recipients per 1000 inhabitants of the four cities (Rotterdam's level).
    const perThousand =
      await duck.scalar<number>(`SELECT 1000 * count(*) FILTER (recipient) / count(*) FROM ${t('truth/persons.parquet')}
      WHERE municipality_code IN ('GM0599', 'GM0363', 'GM0344', 'GM0518')`);
    expect(perThousand).toBeGreaterThan(88);
    expect(perThousand).toBeLessThan(104);
  });

  it('lands the programme on the trial: the spell covering S ends within 12 months for 47.9% (treatment) and 40.7% (control)', async () => {
    // From the exported trajecten: assignment date S per arm, matched to the true spell covering S.
    const arms = await duck.jsonRows<{ arm: string; n: number; ended: number }>(`
      WITH trajecten AS (
        ${CITIES.map((city) => `SELECT ${sqlString(city)} AS source, row_number() OVER () AS row, * FROM read_csv(${t(`gemeente/${city}/trajecten.csv`)}, delim = ';', header = true, encoding = 'latin-1', all_varchar = true)`).join(' UNION ALL ')}
      ), assigned AS (
        SELECT r.person_id, CASE Groep WHEN 'Experiment' THEN 'treatment' ELSE 'control' END AS arm, strptime(Begindatum, '%d-%m-%Y')::DATE AS s
        FROM trajecten tr JOIN ${t('truth/records.parquet')} r ON r.source = tr.source AND r.file = 'trajecten.csv' AND r.row = tr.row
        WHERE Groep IN ('Experiment', 'Controle')
      )
      SELECT arm, count(*)::INTEGER AS n, count(*) FILTER (WHERE t.end_date <= CAST(a.s + INTERVAL 12 MONTH AS DATE))::INTEGER AS ended
      FROM assigned a JOIN truth t ON t.person_id = a.person_id AND t.start_date <= a.s AND (t.end_date IS NULL OR t.end_date >= a.s)
      GROUP BY arm ORDER BY arm`);
    expect(arms.map((a) => a.arm)).toEqual(['control', 'treatment']);
    for (const a of arms) {
      const target = PROGRAMME_TARGET[a.arm as 'treatment' | 'control'];
      // Outcomes are allocated within each arm by rank (a stratified design), so the only deviation is rounding to whole persons.
      expect(a.n).toBeGreaterThan(50);
      expect(Math.abs(a.ended / a.n - target)).toBeLessThanOrEqual(0.5 / a.n + 1e-12);
    }
    const assignments = await duck.jsonRows<{ arm: string; n: number; ended: number }>(`
      SELECT arm, count(*)::INTEGER AS n, count(*) FILTER (ended_within_12m)::INTEGER AS ended FROM ${t('truth/assignments.parquet')} GROUP BY arm ORDER BY arm`);
    expect(assignments).toEqual(arms);
  });

  it('plants a step in outflow at age 27 (youth desk)', async () => {
    const groups = await duck.jsonRows<{ young: boolean; share: number }>(`
      SELECT age_at_start < 27 AS young, avg(coalesce(end_date <= CAST(start_date + INTERVAL 12 MONTH AS DATE), false)::INTEGER) AS share
      FROM (SELECT s.*, year(s.start_date) - year(p.birth_date) - CASE WHEN month(s.start_date) < month(p.birth_date) THEN 1 ELSE 0 END AS age_at_start
            FROM truth s JOIN ${t('truth/persons.parquet')} p USING (person_id))
      WHERE age_at_start BETWEEN 25 AND 28 AND CAST(start_date + INTERVAL 12 MONTH AS DATE) <= DATE '${observationEnd}'
      GROUP BY ALL ORDER BY young`);
    expect(groups).toHaveLength(2);
    expect(groups[1]!.share - groups[0]!.share).toBeGreaterThan(0.05);
  });

  it("keeps wages around, below and above the minimum wage of the job's start year", async () => {
    const wml = JSON.parse(
      await readFile(new URL('../examples/reference/minimum-wage.json', import.meta.url), 'utf8'),
    ) as { hourly: Record<string, number> };
    await duck.run(
      `CREATE OR REPLACE TABLE wml AS SELECT * FROM (VALUES ${Object.entries(wml.hourly)
        .map(([y, w]) => `(${y}, ${w})`)
        .join(', ')}) v(year, hourly)`,
    );
    const bands = await duck.jsonRows<{ band: string; n: number }>(`
      SELECT CASE WHEN j.hourly_wage < w.hourly THEN 'below' WHEN j.hourly_wage <= 1.1 * w.hourly THEN 'near' ELSE 'above' END AS band, count(*)::INTEGER AS n
      FROM job j JOIN wml w ON w.year = year(j.start_date) GROUP BY ALL ORDER BY band`);
    expect(bands.map((b) => b.band)).toEqual(['above', 'below', 'near']);
    expect(
      Number(
        await duck.scalar(
          `SELECT count(*) FROM job WHERE year(start_date) NOT IN (SELECT year FROM wml) OR hourly_wage <= 0 OR hours_per_week NOT BETWEEN 1 AND 40`,
        ),
      ),
    ).toBe(0);
  });
});

describe('truth with the default defects', () => {
  it('flags every spell of a person whose benefit rows a lossy defect touched', async () => {
    const dirty = join(root, 'dirty');
    const result = await runBoldlink([
      'generate',
      '--scale',
      'tiny',
      '--seed',
      '5',
      '--out',
      dirty,
      '--log-level',
      'warn',
    ]);
    expect(result.code).toBe(0);
    const d = (file: string) => sqlString(join(dirty, file));
    const missing = await duck.scalar<bigint>(`
      SELECT count(*) FROM ${d('truth/spells.parquet')} s
      WHERE s.person_id IN (
        SELECT r.person_id FROM ${d('truth/ledger.parquet')} l JOIN ${d('truth/records.parquet')} r USING (source, file, row)
        WHERE l.file = 'uitkeringen.csv' AND l.kind IN ('wrong_elfproef', 'end_before_start', 'unparsable_date', 'unknown_code', 'stray_quote'))
      AND (s.person_id, s.spell_no) NOT IN (SELECT (person_id, spell_no) FROM ${d('truth/affected_spells.parquet')})`);
    expect(missing).toBe(0n);
    const metrics = JSON.parse(await readFile(join(dirty, 'truth/metrics.json'), 'utf8')) as {
      defects: { affected: { spells: number } };
    };
    expect(metrics.defects.affected.spells).toBe(
      Number(await duck.scalar(`SELECT count(*) FROM ${d('truth/affected_spells.parquet')}`)),
    );
    expect(metrics.defects.affected.spells).toBeGreaterThan(0);
  }, 120_000);
});

// City scale: generation alone, about 20 s on a quiet 2-core machine (a minute or two under load).
// Measured: control 40.68% (n = 1,625), treatment 47.90% (n = 1,593), seed 1.
describe('the programme at city scale', () => {
  it('lands within ±2 points of 47.9% (treatment) and 40.7% (control)', async () => {
    const city = join(root, 'city');
    const result = await runBoldlink([
      'generate',
      '--scale',
      'city',
      '--seed',
      '1',
      '--out',
      city,
      '--log-level',
      'warn',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const arms = await duck.jsonRows<{ arm: string; share: number; n: number }>(`
      SELECT arm, avg(ended_within_12m::INTEGER) AS share, count(*)::INTEGER AS n FROM ${sqlString(join(city, 'truth/assignments.parquet'))} GROUP BY arm ORDER BY arm`);
    expect(arms.map((a) => a.arm)).toEqual(['control', 'treatment']);
    for (const a of arms) {
      expect(a.n).toBeGreaterThan(1000);
      expect(Math.abs(a.share - PROGRAMME_TARGET[a.arm as 'treatment' | 'control'])).toBeLessThanOrEqual(0.02);
    }
  }, 900_000);
});
