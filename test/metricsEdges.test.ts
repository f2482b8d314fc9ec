import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMetrics } from '../pipeline/metrics/runMetrics.js';
import type { Manifest } from '../schemas/manifest.js';
import {
  readParquet,
  rid,
  writeLinkOutput,
  type BenefitRow,
  type InterventionRow,
  type JobRow,
} from './metricsLinkFixture.js';

/**
 * Every edge of docs/design.md, "Metric definitions",, one or two persons each, with
 * the answer worked out by hand. Observation end T = 2023-12-31 throughout.
 *
 * Most outflows end E = 2018-06-30, so H = E + 12 months = 2019-06-30, which is
 * E + 365 days (no 29 February in between).
 */

const T = '2023-12-31';
const E = '2018-06-30';

interface SpellRow {
  rid: string;
  spell_no: number;
  municipality: string;
  benefit_type: string;
  start_date: string;
  end_date: string | null;
  age: number | null;
  outflow: boolean;
  outflow_year: number | null;
  to_work: boolean | null;
  censored: boolean | null;
  revolving: boolean | null;
  durable: boolean | null;
  first_contract_type: string | null;
  first_hours: number | null;
  first_wage_band: string | null;
  first_lasted_12m: boolean | null;
}

const benefits: BenefitRow[] = [
  // Gap of exactly 31 days (2019-05-01 − 2019-03-31 = 31): one spell.
  { person: 'gap31', start: '2019-01-01', end: '2019-03-31' },
  { person: 'gap31', start: '2019-05-01', end: '2019-06-30' },
  // Gap of 32 days: two spells; the second starts within 12 months of the first's end (revolving door).
  { person: 'gap32', start: '2019-01-01', end: '2019-03-31' },
  { person: 'gap32', start: '2019-05-02', end: '2019-06-30' },
  // Overlapping and nested periods merge; type and municipality from the longest period (Jan–Jun).
  { person: 'overlap', start: '2019-01-01', end: '2019-06-30', municipality: 'rotterdam', benefit_type: 'bijstand' },
  { person: 'overlap', start: '2019-03-01', end: '2019-04-30', municipality: 'amsterdam', benefit_type: 'ioaw' },
  { person: 'overlap', start: '2019-06-15', end: '2019-08-31', municipality: 'amsterdam', benefit_type: 'ioaw' },
  // Moved after a month: the longer Utrecht period decides.
  { person: 'moved', start: '2019-01-01', end: '2019-01-31', municipality: 'amsterdam', benefit_type: 'bijstand' },
  { person: 'moved', start: '2019-02-01', end: '2019-12-31', municipality: 'utrecht', benefit_type: 'ioaz' },
  // Ongoing spell: no outflow, nothing else applies.
  { person: 'ongoing', start: '2020-01-01', end: null },
  // Jobs around E = 2018-06-30.
  { person: 'jobEminus31', start: '2018-01-01', end: E },
  { person: 'jobEplus31', start: '2018-01-01', end: E },
  { person: 'jobsOutsideWindow', start: '2018-01-01', end: E },
  // Return to benefit on day 365 (= H) and day 366 after E.
  { person: 'return365', start: '2018-01-01', end: E },
  { person: 'return365', start: '2019-06-30', end: '2019-12-31' },
  { person: 'return366', start: '2018-01-01', end: E },
  { person: 'return366', start: '2019-07-01', end: '2019-12-31' },
  // A job that ends on day H covers it; one that ends the day before does not.
  { person: 'jobEndsOnH', start: '2018-01-01', end: E },
  { person: 'jobEndsBeforeH', start: '2018-01-01', end: E },
  // Two jobs on the same day.
  { person: 'sameDayMoreHours', start: '2018-01-01', end: E },
  { person: 'sameDaySameHours', start: '2018-01-01', end: E },
  // Censoring: H = 2024-01-31 > T, and H = T exactly (not censored).
  { person: 'censored', start: '2022-06-01', end: '2023-01-31' },
  { person: 'horizonIsT', start: '2022-01-01', end: '2022-12-31' },
];

const jobs: JobRow[] = [
  // E − 31 = 2018-05-30: to work; no end, so it covers H and lasted 12 months. 10.54 ≤ 1.1 × 9.59 = 10.549: near.
  { person: 'jobEminus31', start: '2018-05-30', end: null, hours: 40, wage: 10.54, contract: 'permanent' },
  // E + 31 = 2018-07-31: to work; ends before H; 11.5 h is a small part-time job; 9.59 = WML 2018: near.
  { person: 'jobEplus31', start: '2018-07-31', end: '2018-12-31', hours: 11.5, wage: 9.59, contract: 'temporary' },
  // E − 32 and E + 32: not to work, although the first still runs on H.
  { person: 'jobsOutsideWindow', start: '2018-05-29', end: null },
  { person: 'jobsOutsideWindow', start: '2018-08-01', end: '2018-09-01' },
  { person: 'return365', start: '2018-07-01', end: null },
  { person: 'return366', start: '2018-07-01', end: null },
  { person: 'jobEndsOnH', start: '2018-07-01', end: '2019-06-30' },
  { person: 'jobEndsBeforeH', start: '2018-07-01', end: '2019-06-29' },
  // More hours wins; it ends exactly 12 months after its start (lasted). 9.58 < 9.59: below.
  {
    person: 'sameDayMoreHours',
    start: '2018-07-15',
    end: '2019-07-15',
    employer: 'E2',
    hours: 20,
    wage: 12,
    contract: 'temporary',
  },
  {
    person: 'sameDayMoreHours',
    start: '2018-07-15',
    end: '2019-07-15',
    employer: 'E1',
    hours: 32,
    wage: 9.58,
    contract: 'permanent',
  },
  // Same hours: the lower employer_id wins. 10.55 > 10.549: above.
  {
    person: 'sameDaySameHours',
    start: '2018-07-15',
    end: null,
    employer: 'E2',
    hours: 24,
    wage: 9.59,
    contract: 'agency',
  },
  {
    person: 'sameDaySameHours',
    start: '2018-07-15',
    end: null,
    employer: 'E1',
    hours: 24,
    wage: 10.55,
    contract: 'on_call',
  },
  // Still running, started less than 12 months before T: lasted is unknown (NULL).
  { person: 'censored', start: '2023-02-01', end: null },
  { person: 'horizonIsT', start: '2023-01-15', end: null },
];

// Programme WerkLoont, assigned 2020-03-01 (S + 12 months = 2021-03-01):
// treatment 3 of 4 ended within 12 months, control 1 of 4; one treatment person was not on benefit.
const effectPersons: {
  person: string;
  arm: 'treatment' | 'control';
  end: string | null;
  start?: string;
  assigned?: string;
}[] = [
  { person: 't1', arm: 'treatment', end: '2020-09-30' },
  { person: 't2', arm: 'treatment', end: '2020-09-30' },
  { person: 't3', arm: 'treatment', end: '2021-03-01' },
  { person: 't4', arm: 'treatment', end: '2021-06-30' },
  { person: 'c1', arm: 'control', end: '2020-12-31' },
  { person: 'c2', arm: 'control', end: '2021-12-31' },
  { person: 'c3', arm: 'control', end: '2021-03-02' },
  { person: 'c4', arm: 'control', end: null },
  // Assigned 2023-06-01: S + 12 months is past T, spell still running: censored.
  { person: 'c5', arm: 'control', end: null, start: '2023-01-01', assigned: '2023-06-01' },
];
for (const p of effectPersons) benefits.push({ person: p.person, start: p.start ?? '2020-01-01', end: p.end });
const interventions: InterventionRow[] = [
  ...effectPersons.map((p) => ({
    person: p.person,
    programme: 'werkloont',
    arm: p.arm,
    start: p.assigned ?? '2020-03-01',
    ladder_step: 3,
  })),
  { person: 'notOnBenefit', programme: 'werkloont', arm: 'treatment', start: '2020-03-01' },
  // A later ladder step recorded within the spell wins.
  { person: 'jobEminus31', programme: 'coaching', arm: 'none', start: '2018-02-01', ladder_step: 2 },
  { person: 'jobEminus31', programme: 'coaching', arm: 'none', start: '2018-04-01', ladder_step: 4 },
];

// Youth desk: spell start 2020-06-01, ages 25 and 26 (born 1995-01, 1994-01) against 27 and 28.
const agePersons = [
  { person: 'age25', birth: '1995-01-01', end: '2021-01-31' }, // ends within 12 months
  { person: 'age26', birth: '1994-01-01', end: '2021-12-31' }, // does not
  { person: 'age27', birth: '1993-01-01', end: '2020-12-31' },
  { person: 'age28', birth: '1992-01-01', end: '2021-03-31' },
];
for (const p of agePersons) benefits.push({ person: p.person, start: '2020-06-01', end: p.end });

const everyone = [...new Set([...benefits.map((b) => b.person as string), 'notOnBenefit'])];
const birthMonth: Record<string, string> = {
  ongoing: '1995-03-01', // 24 at the spell start 2020-01-01
  jobEminus31: '1980-07-01', // 37 on E = 2018-06-30: the birthday month is July
  jobEplus31: '1980-06-01', // 38 on E: born in June, birthday reached on 1 June
  ...Object.fromEntries(agePersons.map((p) => [p.person, p.birth])),
};

let root: string;
let out: string;
let manifest: Manifest;
let spells: SpellRow[];

async function spellsOf(person: string): Promise<SpellRow[]> {
  return spells.filter((s) => s.rid === rid(person)).sort((a, b) => a.spell_no - b.spell_no);
}

async function onlySpell(person: string): Promise<SpellRow> {
  const rows = await spellsOf(person);
  expect(rows).toHaveLength(1);
  return rows[0] as SpellRow;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-metrics-edges-'));
  await writeLinkOutput(join(root, 'linked'), {
    clients: everyone.map((person) => ({
      person,
      district: person.startsWith('job') ? 'Noord' : 'Centrum',
      household_type: 'single',
      sex: 'F',
    })),
    persons: everyone.map((person) => ({
      person,
      birth_month: birthMonth[person] ?? '1960-01-01',
      sex: person.startsWith('c') ? 'M' : 'F',
    })),
    benefits,
    jobs,
    interventions,
  });
  out = join(root, 'metrics');
  manifest = await runMetrics({ input: join(root, 'linked'), out, observationEnd: T });
  spells = await readParquet<SpellRow>(join(out, 'spells.parquet'));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('benefit spells', () => {
  it('merges a period starting 31 days after the running end, and splits at 32', async () => {
    expect(await onlySpell('gap31')).toMatchObject({ start_date: '2019-01-01', end_date: '2019-06-30' });
    const split = await spellsOf('gap32');
    expect(split.map((s) => [s.spell_no, s.start_date, s.end_date])).toEqual([
      [1, '2019-01-01', '2019-03-31'],
      [2, '2019-05-02', '2019-06-30'],
    ]);
    expect(split[0]).toMatchObject({ outflow: true, revolving: true, durable: false });
  }, 30_000);

  it('merges overlapping and nested periods and takes type and municipality from the longest period', async () => {
    expect(await onlySpell('overlap')).toMatchObject({
      start_date: '2019-01-01',
      end_date: '2019-08-31',
      municipality: 'rotterdam',
      benefit_type: 'bijstand',
    });
    expect(await onlySpell('moved')).toMatchObject({
      start_date: '2019-01-01',
      end_date: '2019-12-31',
      municipality: 'utrecht',
      benefit_type: 'ioaz',
    });
  }, 30_000);

  it('leaves an ongoing spell without outflow and every outflow measure NULL; age on its start', async () => {
    expect(await onlySpell('ongoing')).toMatchObject({
      end_date: null,
      outflow: false,
      outflow_year: null,
      to_work: null,
      censored: null,
      revolving: null,
      durable: null,
      first_contract_type: null,
      first_hours: null,
      first_wage_band: null,
      first_lasted_12m: null,
      age: 24,
    });
  }, 30_000);

  it('writes exactly the docs/design.md columns of spells.parquet with their types', async () => {
    const { Duck } = await import('../pipeline/core/duckdb.js');
    const duck = await Duck.open({ threads: 1 });
    try {
      const columns = await duck.jsonRows<{ column_name: string; column_type: string }>(
        `DESCRIBE SELECT * FROM read_parquet('${join(out, 'spells.parquet')}')`,
      );
      expect(columns.map((c) => `${c.column_name} ${c.column_type}`)).toEqual([
        'rid VARCHAR',
        'spell_no INTEGER',
        'municipality VARCHAR',
        'benefit_type VARCHAR',
        'start_date DATE',
        'end_date DATE',
        'age INTEGER',
        'outflow BOOLEAN',
        'outflow_year INTEGER',
        'to_work BOOLEAN',
        'censored BOOLEAN',
        'revolving BOOLEAN',
        'durable BOOLEAN',
        'first_contract_type VARCHAR',
        'first_hours DOUBLE',
        'first_wage_band VARCHAR',
        'first_lasted_12m BOOLEAN',
      ]);
    } finally {
      duck.close();
    }
  }, 30_000);
});

describe('outflow to work', () => {
  it('counts a job starting 31 days before or after the spell end, not 32', async () => {
    expect(await onlySpell('jobEminus31')).toMatchObject({
      outflow: true,
      outflow_year: 2018,
      to_work: true,
      durable: true,
    });
    expect(await onlySpell('jobEplus31')).toMatchObject({ to_work: true, durable: false });
    // The job from E − 32 still runs on H, but durable outflow needs outflow to work.
    expect(await onlySpell('jobsOutsideWindow')).toMatchObject({
      to_work: false,
      durable: false,
      first_contract_type: null,
    });
  }, 30_000);

  it('takes the job with more hours as first when two start the same day, then the lower employer_id', async () => {
    expect(await onlySpell('sameDayMoreHours')).toMatchObject({ first_contract_type: 'permanent', first_hours: 32 });
    expect(await onlySpell('sameDaySameHours')).toMatchObject({ first_contract_type: 'on_call', first_hours: 24 });
  }, 30_000);
});

describe('revolving door and durable outflow', () => {
  it('counts a return on day 365 (= H) as revolving, not one on day 366', async () => {
    const [first365] = await spellsOf('return365');
    expect(first365).toMatchObject({ end_date: E, to_work: true, revolving: true, durable: false });
    const [first366] = await spellsOf('return366');
    expect(first366).toMatchObject({ end_date: E, to_work: true, revolving: false, durable: true });
  }, 30_000);

  it('needs a job covering day H: ending on H covers it, ending the day before does not', async () => {
    expect(await onlySpell('jobEndsOnH')).toMatchObject({
      to_work: true,
      revolving: false,
      durable: true,
      first_lasted_12m: false,
    });
    expect(await onlySpell('jobEndsBeforeH')).toMatchObject({
      to_work: true,
      revolving: false,
      durable: false,
      first_lasted_12m: false,
    });
  }, 30_000);

  it('censors an outflow whose H runs past T (no revolving/durable verdict), but not one with H = T', async () => {
    expect(await onlySpell('censored')).toMatchObject({
      outflow: true,
      censored: true,
      to_work: true,
      revolving: null,
      durable: null,
      first_lasted_12m: null,
    });
    expect(await onlySpell('horizonIsT')).toMatchObject({
      outflow: true,
      censored: false,
      to_work: true,
      revolving: false,
      durable: true,
      first_lasted_12m: null,
    });
  }, 30_000);
});

describe('job quality and age', () => {
  it('bands the wage against the hourly WML of the start year (2018: 9.59): below, near up to 1.1×, above', async () => {
    expect((await onlySpell('sameDayMoreHours')).first_wage_band).toBe('below'); // 9.58
    expect((await onlySpell('jobEplus31')).first_wage_band).toBe('near'); // 9.59
    expect((await onlySpell('jobEminus31')).first_wage_band).toBe('near'); // 10.54
    expect((await onlySpell('sameDaySameHours')).first_wage_band).toBe('above'); // 10.55
  }, 30_000);

  it('calls a job lasted when it ends 12 months after its start or runs 12 months by T', async () => {
    expect((await onlySpell('sameDayMoreHours')).first_lasted_12m).toBe(true); // 2018-07-15 … 2019-07-15
    expect((await onlySpell('jobEminus31')).first_lasted_12m).toBe(true); // no end, started 2018
    expect((await onlySpell('jobEplus31')).first_lasted_12m).toBe(false);
  }, 30_000);

  it('takes age in whole years on E from the first day of the birth month', async () => {
    expect((await onlySpell('jobEminus31')).age).toBe(37); // born July 1980, E in June 2018
    expect((await onlySpell('jobEplus31')).age).toBe(38); // born June 1980
  }, 30_000);

  it('counts part-time below 35 hours and small jobs below 12 in the outflow tables', async () => {
    const [row] = await readParquet<Record<string, number>>(
      join(out, 'tables', 'outflow_by_year_municipality.parquet'),
      "outflow_year = '2018' AND municipality = 'Total'",
    );
    // 2018 outflows: jobEminus31, jobEplus31, jobsOutsideWindow, return365, return366, jobEndsOnH, jobEndsBeforeH, sameDayMoreHours, sameDaySameHours.
    expect(row).toMatchObject({
      spells: 9,
      to_work: 8,
      censored: 0,
      uncensored: 9,
      revolving: 1,
      durable: 5,
      first_part_time: 3, // 11.5 h, 32 h, 24 h (the rest have 36 or 40 h)
      first_small_job: 1,
      first_wage_below: 1,
      first_wage_near: 2,
      first_wage_above: 5,
    });
  }, 30_000);
});

describe('ladder step and programme arm of a spell', () => {
  it('takes the ladder step last recorded within the spell', async () => {
    const rows = await readParquet<Record<string, string | number>>(
      join(out, 'tables', 'outflow_by_year_ladder_step.parquet'),
      "outflow_year = '2018' AND ladder_step = '4'",
    );
    expect(rows[0]?.spells).toBe(1);
    const two = await readParquet<Record<string, string | number>>(
      join(out, 'tables', 'outflow_by_year_ladder_step.parquet'),
      "outflow_year = '2018' AND ladder_step = '2'",
    );
    expect(two[0]?.spells).toBe(0);
  }, 30_000);
});

describe('effects', () => {
  interface EffectRow {
    design: string;
    comparison: string;
    cohort: string;
    outcome: string;
    n_treatment: number;
    x_treatment: number;
    n_control: number;
    x_control: number;
    censored_control: number;
    difference: number;
    standard_error: number;
    ci_low: number;
    ci_high: number;
    group_treatment: string;
    group_control: string;
  }

  it('gives the treatment − control difference with its 95% interval per programme and cohort', async () => {
    const rows = await readParquet<EffectRow>(
      join(out, 'effects.parquet'),
      "design = 'programme' AND outcome = 'ended_within_12m'",
    );
    const cohort2020 = rows.find((r) => r.cohort === '2020');
    // Treatment 3/4 (t3 ends on S + 12 months exactly), control 1/4 (c3 ends one day later).
    expect(cohort2020).toMatchObject({
      comparison: 'werkloont',
      n_treatment: 4,
      x_treatment: 3,
      n_control: 4,
      x_control: 1,
      difference: 0.5,
    });
    const se = Math.sqrt((0.75 * 0.25) / 4 + (0.25 * 0.75) / 4);
    expect(cohort2020?.standard_error).toBeCloseTo(se, 12);
    expect(cohort2020?.ci_low).toBeCloseTo(0.5 - 1.959963984540054 * se, 12);
    expect(cohort2020?.ci_high).toBeCloseTo(0.5 + 1.959963984540054 * se, 12);
    // Pooled: c5 (assigned 2023, spell still running at T) is censored, counted apart.
    expect(rows.find((r) => r.cohort === 'Total')).toMatchObject({ n_treatment: 4, n_control: 4, censored_control: 1 });
  }, 30_000);

  it('compares ages 25–26 with 27–28 at spell start for the youth desk', async () => {
    const [row] = await readParquet<EffectRow>(
      join(out, 'effects.parquet'),
      "design = 'age_discontinuity' AND cohort = '2020' AND outcome = 'ended_within_12m'",
    );
    expect(row).toMatchObject({
      comparison: 'youth_desk_27',
      group_treatment: '25-26',
      group_control: '27-28',
      n_treatment: 2,
      x_treatment: 1,
      n_control: 2,
      x_control: 2,
      difference: -0.5,
    });
    expect(row?.standard_error).toBeCloseTo(Math.sqrt(0.25 / 2), 12);
  }, 30_000);

  it('counts assignments not on benefit in the assignment table but not in the effect', async () => {
    const [row] = await readParquet<Record<string, string | number>>(
      join(out, 'tables', 'assignments_by_programme_cohort_arm.parquet'),
      "programme = 'werkloont' AND cohort = '2020' AND arm = 'treatment'",
    );
    expect(row).toMatchObject({
      assigned: 5,
      on_benefit: 4,
      ended_known: 4,
      ended_within_12m: 3,
      durable_known: 4,
      durable_outflow: 0,
    });
  }, 30_000);
});

describe('the manifest', () => {
  it('records T, the definitions with their version and the minimum-wage reference', () => {
    expect(manifest.parameters.observationEnd).toBe(T);
    expect(manifest.parameters.observationEndSource).toBe('command line');
    expect(manifest.definitions.map((d) => d.name)).toEqual(['bold-default', 'minimum-wage']);
    expect(manifest.definitions[0]?.version).toMatch(/^bold-default@[0-9a-f]{12}$/);
    expect(manifest.outputs.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'spells.parquet',
        'effects.parquet',
        'tables.json',
        'tables/outflow_by_year_municipality.parquet',
      ]),
    );
    expect(JSON.stringify(manifest)).not.toContain(rid('gap31'));
  }, 30_000);
});
