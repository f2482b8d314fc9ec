import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { projectKey, researchPseudonym, sourcePseudonym } from '../keys/pseudonyms.js';
import type { CanonicalBsn } from '../schemas/bsn.js';
import { runBoldlink } from './support/cli.js';

/**
 * The whole chain at tiny and at small scale on clean generated data (generate → keys →
 * pseudonymize → link → metrics): what `metrics` measures must be exactly the
 * generator's ground truth, computed from its own event model with no shared code.
 */

interface TruthMetrics {
  observationEnd: string;
  totals: Record<string, number>;
  byOutflowYear: Record<string, number | string>[];
  byMunicipality: Record<string, number | string>[];
  bySex: Record<string, number | string>[];
  byHouseholdType: Record<string, number | string>[];
  byBenefitType: Record<string, number | string>[];
  byAgeGroup: Record<string, number | string>[];
  programme: {
    target: { treatment: number; control: number };
    cells: {
      programme: string;
      cohort: string | null;
      arm: string;
      assigned: number;
      ended_within_12m: number;
      censored: number;
    }[];
  };
  youthDesk: { age_group: string; known_12m: number; ended_within_12m: number; censored_12m: number }[];
}

const MUNICIPALITIES = ['rotterdam', 'amsterdam', 'utrecht', 'den_haag'];
const OUTFLOW_MEASURES = [
  'to_work',
  'censored',
  'uncensored',
  'revolving',
  'durable',
  'first_part_time',
  'first_small_job',
  'first_wage_below',
  'first_wage_near',
  'first_wage_above',
  'first_lasted_known',
  'first_lasted_12m',
  'first_lasted_censored',
];

// Tiny (2,500 persons) and small (50,000): the aggregates must equal the truth exactly at both.
describe.each([
  ['tiny', ['--scale', 'tiny', '--persons', '2500']],
  ['small', ['--scale', 'small']],
] as const)('%s scale', (scale, generateArgs) => {
  let root: string;
  let truth: TruthMetrics;
  let duck: Duck;

  async function boldlink(args: string[]): Promise<void> {
    const result = await runBoldlink(args, { cwd: root });
    if (result.code !== 0)
      throw new Error(`boldlink ${args[0]} failed (${result.code}): ${result.stderr.slice(0, 600)}`);
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-metrics-truth-'));
    await mkdir(join(root, 'keys'), { mode: 0o700 });
    await Promise.all([
      boldlink(['generate', ...generateArgs, '--seed', '7', '--defects', 'none', '--out', 'generated']),
      boldlink(['keys', 'new', '--role', 'source', '--out', 'keys/source.key']),
      boldlink(['keys', 'new', '--role', 'ttp', '--out', 'keys/ttp.key']),
    ]);
    // Each source pseudonymizes on its own, as it would at its own site.
    await Promise.all([
      boldlink([
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
      ]),
      ...MUNICIPALITIES.map((m) => {
        const dir = `generated/gemeente/${m}`;
        return boldlink([
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
      }),
    ]);
    await boldlink([
      'link',
      '--key',
      'keys/ttp.key',
      '--project',
      'truth',
      '--input',
      'ps/cbs',
      ...MUNICIPALITIES.map((m) => `ps/${m}`),
      '--out',
      'linked',
    ]);
    truth = JSON.parse(await readFile(join(root, 'generated', 'truth', 'metrics.json'), 'utf8')) as TruthMetrics;
    await boldlink(['metrics', '--input', 'linked', '--out', 'metrics', '--observation-end', truth.observationEnd]);
    duck = await Duck.open({ threads: 1 });
  }, 180_000);

  afterAll(async () => {
    duck?.close();
    await rm(root, { recursive: true, force: true });
  });

  const table = (name: string) => `read_parquet(${sqlString(join(root, 'metrics', 'tables', `${name}.parquet`))})`;

  async function counts(sql: string): Promise<Record<string, number | string>[]> {
    const rows = await duck.rows(sql);
    return rows.map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : (v as string)])),
    );
  }

  describe(`metrics against the generator ground truth (${scale}, clean data)`, () => {
    it('reproduces truth/spells.parquet exactly, spell by spell', async () => {
      const key = (file: string) =>
        new Uint8Array(Buffer.from((JSON.parse(readFileSync(file, 'utf8')) as { key: string }).key, 'base64'));
      const source = key(join(root, 'keys', 'source.key'));
      const project = projectKey(key(join(root, 'keys', 'ttp.key')), 'truth');
      const persons = await duck.jsonRows<{ person_id: string; bsn: string }>(
        `SELECT person_id::VARCHAR AS person_id, bsn FROM read_parquet(${sqlString(join(root, 'generated', 'truth', 'persons.parquet'))})
         WHERE person_id IN (SELECT person_id FROM read_parquet(${sqlString(join(root, 'generated', 'truth', 'spells.parquet'))}))`,
      );
      await duck.run('CREATE OR REPLACE TABLE person_rid (person_id BIGINT, rid VARCHAR)');
      const values = persons.map(
        (p) => `(${p.person_id}, '${researchPseudonym(project, sourcePseudonym(source, p.bsn as CanonicalBsn))}')`,
      );
      for (let i = 0; i < values.length; i += 1000)
        await duck.run(`INSERT INTO person_rid VALUES ${values.slice(i, i + 1000).join(', ')}`);
      await duck.run(
        `CREATE OR REPLACE VIEW truth_spells AS SELECT r.rid, t.* EXCLUDE (person_id) FROM read_parquet(${sqlString(join(root, 'generated', 'truth', 'spells.parquet'))}) t JOIN person_rid r USING (person_id)`,
      );
      await duck.run(
        `CREATE OR REPLACE VIEW measured_spells AS SELECT * FROM read_parquet(${sqlString(join(root, 'metrics', 'spells.parquet'))})`,
      );
      const total = Number(await duck.scalar('SELECT count(*) FROM truth_spells'));
      expect(total).toBeGreaterThan(100);
      expect(Number(await duck.scalar('SELECT count(*) FROM measured_spells'))).toBe(total);
      expect(
        Number(
          await duck.scalar(
            'SELECT count(*) FROM (SELECT * FROM truth_spells EXCEPT ALL SELECT * FROM measured_spells)',
          ),
        ),
      ).toBe(0);
      expect(
        Number(
          await duck.scalar(
            'SELECT count(*) FROM (SELECT * FROM measured_spells EXCEPT ALL SELECT * FROM truth_spells)',
          ),
        ),
      ).toBe(0);
    }, 60_000);

    it('gives the truth totals and counts by outflow year, municipality, sex, household type, benefit type and age group', async () => {
      const select = (dim: string, tableName: string, other: string) =>
        `SELECT ${dim}, spells::INTEGER AS outflows, ${OUTFLOW_MEASURES.map((m) => `${m}::INTEGER AS ${m}`).join(', ')} FROM ${table(tableName)} WHERE ${dim} <> 'Total' AND ${other} = 'Total' AND spells > 0 ORDER BY ${dim}`;
      const pick = (rows: Record<string, number | string>[], dim: string) =>
        rows.map((r) => ({
          [dim]: String(r[dim]),
          outflows: r.outflows,
          ...Object.fromEntries(OUTFLOW_MEASURES.map((m) => [m, r[m]])),
        }));
      expect(await counts(select('outflow_year', 'outflow_by_year_municipality', 'municipality'))).toEqual(
        pick(truth.byOutflowYear, 'outflow_year'),
      );
      expect(await counts(select('municipality', 'outflow_by_year_municipality', 'outflow_year'))).toEqual(
        pick(truth.byMunicipality, 'municipality'),
      );
      expect(await counts(select('sex', 'outflow_by_year_sex', 'outflow_year'))).toEqual(pick(truth.bySex, 'sex'));
      expect(await counts(select('household_type', 'outflow_by_year_household_type', 'outflow_year'))).toEqual(
        pick(truth.byHouseholdType, 'household_type'),
      );
      expect(await counts(select('benefit_type', 'outflow_by_year_benefit_type', 'outflow_year'))).toEqual(
        pick(truth.byBenefitType, 'benefit_type'),
      );
      const ages = await counts(
        `SELECT age_group, spells::INTEGER AS outflows, ${OUTFLOW_MEASURES.map((m) => `${m}::INTEGER AS ${m}`).join(', ')} FROM ${table('outflow_by_year_age')} WHERE outflow_year = 'Total' AND age_group <> 'Total' AND age_band = 'Total' AND spells > 0 ORDER BY age_group`,
      );
      expect(ages).toEqual(pick(truth.byAgeGroup, 'age_group'));
      const [all] = await counts(
        `SELECT spells::INTEGER AS outflows, durable::INTEGER AS durable, censored::INTEGER AS censored FROM ${table('outflow_by_year_municipality')} WHERE outflow_year = 'Total' AND municipality = 'Total'`,
      );
      expect(all).toEqual({
        outflows: truth.totals.outflows,
        durable: truth.totals.durable,
        censored: truth.totals.censored,
      });
    }, 60_000);

    it('gives the truth programme cells and youth-desk groups for ending within 12 months', async () => {
      const cells =
        await counts(`SELECT programme, cohort, arm, on_benefit::INTEGER AS assigned, ended_within_12m::INTEGER AS ended_within_12m, ended_censored::INTEGER AS censored
        FROM ${table('assignments_by_programme_cohort_arm')} WHERE programme <> 'Total' AND arm IN ('treatment', 'control') AND on_benefit > 0 ORDER BY programme, cohort = 'Total', cohort, arm`);
      const expected = truth.programme.cells.map((c) => ({
        programme: c.programme,
        cohort: c.cohort ?? 'Total',
        arm: c.arm,
        assigned: c.assigned,
        ended_within_12m: c.ended_within_12m,
        censored: c.censored,
      }));
      expect(cells).toEqual(expected);
      const youth =
        await counts(`SELECT group_treatment, n_treatment::INTEGER AS nt, x_treatment::INTEGER AS xt, censored_treatment::INTEGER AS ct, group_control, n_control::INTEGER AS nc, x_control::INTEGER AS xc, censored_control::INTEGER AS cc
        FROM read_parquet(${sqlString(join(root, 'metrics', 'effects.parquet'))}) WHERE design = 'age_discontinuity' AND cohort = 'Total' AND outcome = 'ended_within_12m'`);
      const [young, old] = truth.youthDesk;
      expect(youth).toEqual([
        {
          group_treatment: young?.age_group,
          nt: young?.known_12m,
          xt: young?.ended_within_12m,
          ct: young?.censored_12m,
          group_control: old?.age_group,
          nc: old?.known_12m,
          xc: old?.ended_within_12m,
          cc: old?.censored_12m,
        },
      ]);
    }, 60_000);

    it('declares in tables.json only measure relations (total = Σ parts) that hold in every row of every table', async () => {
      const catalogue = JSON.parse(await readFile(join(root, 'metrics', 'tables.json'), 'utf8')) as {
        tables: { name: string; kind?: string; relations?: { total: string; parts: string[] }[] }[];
      };
      let checked = 0;
      for (const t of catalogue.tables) {
        if (t.kind === 'effects') continue;
        for (const r of t.relations ?? []) {
          const [row] = await counts(
            `SELECT count(*) FILTER (WHERE ${r.total} <> ${r.parts.join(' + ')}) AS broken, count(*) AS rows FROM ${table(t.name)}`,
          );
          expect({ table: t.name, relation: r, broken: row?.broken }).toEqual({
            table: t.name,
            relation: r,
            broken: 0,
          });
          checked += Number(row?.rows);
        }
      }
      expect(checked).toBeGreaterThan(0);
    }, 60_000);

    it('has the planted programme effect inside the 95% interval of the pooled estimate', async () => {
      const planted = truth.programme.target.treatment - truth.programme.target.control;
      const [row] = await duck.jsonRows<{ ci_low: number; ci_high: number }>(
        `SELECT ci_low, ci_high FROM read_parquet(${sqlString(join(root, 'metrics', 'effects.parquet'))}) WHERE design = 'programme' AND cohort = 'Total' AND outcome = 'ended_within_12m'`,
      );
      expect(row?.ci_low).toBeLessThan(planted);
      expect(row?.ci_high).toBeGreaterThan(planted);
    }, 60_000);
  });
});
