import { writeFile } from 'node:fs/promises';
import { Duck, sqlIdent, sqlString } from '../core/duckdb.js';
import { StageOutput } from '../core/stageOutput.js';

/**
 * A small, hand-made, synthetic release bundle in the format of
 * docs/contracts.md ("release → query / serve / audit"), with suppressed
 * cells, for the query/serve tests, the serve benchmark and trying the web
 * page before a real release exists. Every number is invented.
 */

export type Row = Record<string, string | number | null>;
export interface SampleTable {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly columns: readonly {
    name: string;
    type: 'VARCHAR' | 'BIGINT' | 'DOUBLE';
    role: string;
    description: string;
  }[];
  readonly rows: readonly Row[];
}

const YEARS = ['2019', '2020', '2021'];
const MUNICIPALITIES = ['amsterdam', 'den_haag', 'rotterdam', 'utrecht'];
const AGE_GROUPS = ['18-26', '27+'];

/** Cells (by key) that the sample's disclosure control suppressed. */
const SUPPRESSED_OUTFLOW = new Set([
  '2021|utrecht|durable',
  '2021|den_haag|durable',
  '2021|utrecht|to_work',
  '2021|den_haag|to_work',
]);

function status(value: number, suppressed: boolean): [number | null, string] {
  return suppressed ? [null, 'suppressed'] : [value, 'published'];
}

function outflowTable(): SampleTable {
  const inner = new Map<string, { spells: number; to_work: number; durable: number }>();
  YEARS.forEach((year, y) =>
    MUNICIPALITIES.forEach((m, i) => {
      const spells = 180 + 70 * i + 25 * y - (m === 'utrecht' && year === '2021' ? 150 : 0);
      const toWork = Math.round(spells * (0.31 + 0.02 * y + 0.01 * i));
      inner.set(`${year}|${m}`, { spells, to_work: toWork, durable: Math.round(toWork * (0.55 - 0.03 * y)) });
    }),
  );
  const rows: Row[] = [];
  for (const year of [...YEARS, 'Total']) {
    for (const m of [...MUNICIPALITIES, 'Total']) {
      const cells = [...inner.entries()]
        .filter(([k]) => (year === 'Total' || k.startsWith(`${year}|`)) && (m === 'Total' || k.endsWith(`|${m}`)))
        .map(([, v]) => v);
      const sum = (key: 'spells' | 'to_work' | 'durable') => cells.reduce((s, c) => s + c[key], 0);
      const row: Row = { outflow_year: year, municipality: m };
      for (const key of ['spells', 'to_work', 'durable'] as const) {
        const [value, st] = status(sum(key), SUPPRESSED_OUTFLOW.has(`${year}|${m}|${key}`));
        row[key] = value;
        row[`${key}_status`] = st;
      }
      rows.push(row);
    }
  }
  return {
    name: 'outflow_by_year_municipality',
    title: 'Outflow from social assistance by year and municipality',
    description:
      'Benefit spells that ended, those that ended with work, and durable outflow (still working 12 months later, no return to benefit).',
    columns: [
      { name: 'outflow_year', type: 'VARCHAR', role: 'dimension', description: 'Year the benefit spell ended' },
      { name: 'municipality', type: 'VARCHAR', role: 'dimension', description: 'Municipality paying the benefit' },
      ...measureColumns([
        ['spells', 'BIGINT', 'count', 'Benefit spells that ended (outflow)'],
        ['to_work', 'BIGINT', 'count', 'Of which a job started within 31 days of the end'],
        ['durable', 'BIGINT', 'count', 'Of which durable outflow: a job 12 months after the end, no new spell'],
      ]),
    ],
    rows,
  };
}

function jobQualityTable(): SampleTable {
  const rows: Row[] = [];
  for (const year of [...YEARS, 'Total']) {
    for (const age of [...AGE_GROUPS, 'Total']) {
      const ys = year === 'Total' ? YEARS : [year];
      const as = age === 'Total' ? AGE_GROUPS : [age];
      let firstJobs = 0;
      let partTime = 0;
      let hours = 0;
      for (const y of ys) {
        for (const a of as) {
          const n = 120 + 40 * YEARS.indexOf(y) + (a === '27+' ? 160 : 0);
          firstJobs += n;
          partTime += Math.round(n * (a === '27+' ? 0.48 : 0.62));
          hours += n * (a === '27+' ? 27.5 : 22.0);
        }
      }
      const tinyCell = year === '2019' && age === '18-26';
      const [pt, ptStatus] = status(partTime, false);
      const [mh, mhStatus] = status(Math.round((hours / firstJobs) * 10) / 10, tinyCell);
      rows.push({
        outflow_year: year,
        age_group: age,
        first_jobs: firstJobs,
        first_jobs_status: 'published',
        part_time: pt,
        part_time_status: ptStatus,
        mean_hours: mh,
        mean_hours_status: mhStatus,
      });
    }
  }
  return {
    name: 'job_quality_by_year_age_group',
    title: 'Quality of the first job after outflow, by year and age group',
    description:
      'First jobs after outflow to work: how many, how many part-time (< 35 hours a week), and mean hours per week.',
    columns: [
      { name: 'outflow_year', type: 'VARCHAR', role: 'dimension', description: 'Year the benefit spell ended' },
      {
        name: 'age_group',
        type: 'VARCHAR',
        role: 'dimension',
        description: 'Age on the day the spell ended (youth desk boundary at 27)',
      },
      ...measureColumns([
        ['first_jobs', 'BIGINT', 'count', 'First jobs after outflow to work'],
        ['part_time', 'BIGINT', 'count', 'Of which part-time (under 35 hours a week)'],
        ['mean_hours', 'DOUBLE', 'mean', 'Mean contracted hours per week'],
      ]),
    ],
    rows,
  };
}

function effectsTable(): SampleTable {
  const rows: Row[] = [];
  const add = (
    programme: string,
    cohort: string,
    comparison: string,
    tn: number,
    cn: number,
    ts: number,
    cs: number,
    suppressed: boolean,
  ) => {
    const diff = ts - cs;
    const se = Math.sqrt((ts * (1 - ts)) / tn + (cs * (1 - cs)) / cn);
    const row: Row = { programme, cohort_year: cohort, comparison };
    const values: [string, number][] = [
      ['treatment_n', tn],
      ['control_n', cn],
      ['treatment_share', round3(ts)],
      ['control_share', round3(cs)],
      ['difference', round3(diff)],
      ['ci_low', round3(diff - 1.96 * se)],
      ['ci_high', round3(diff + 1.96 * se)],
    ];
    for (const [key, value] of values) {
      const hide = suppressed && key !== 'treatment_n' && key !== 'control_n';
      row[key] = hide ? null : value;
      row[`${key}_status`] = hide ? 'suppressed' : 'published';
    }
    rows.push(row);
  };
  add('werkloont', '2019', 'treatment_vs_control', 240, 230, 0.42, 0.33, false);
  add('werkloont', '2020', 'treatment_vs_control', 260, 255, 0.39, 0.34, false);
  add('werkloont', '2021', 'treatment_vs_control', 14, 12, 0.5, 0.25, true);
  add('youth_desk', '2019', 'age_25_26_vs_27_28', 310, 290, 0.36, 0.31, false);
  add('youth_desk', '2020', 'age_25_26_vs_27_28', 300, 305, 0.35, 0.33, false);
  return {
    name: 'effects_within_12_months',
    title: 'Effect on leaving the benefit within 12 months',
    description:
      'Share of people whose benefit spell ended within 12 months of assignment: treatment minus control, with a 95% confidence interval; and ages 25–26 against 27–28 (youth desk).',
    columns: [
      { name: 'programme', type: 'VARCHAR', role: 'dimension', description: 'Programme or comparison' },
      { name: 'cohort_year', type: 'VARCHAR', role: 'dimension', description: 'Year of assignment' },
      { name: 'comparison', type: 'VARCHAR', role: 'dimension', description: 'Which groups are compared' },
      ...measureColumns([
        ['treatment_n', 'BIGINT', 'count', 'People in the treatment group (or ages 25–26)'],
        ['control_n', 'BIGINT', 'count', 'People in the control group (or ages 27–28)'],
        ['treatment_share', 'DOUBLE', 'rate', 'Share ending within 12 months, treatment'],
        ['control_share', 'DOUBLE', 'rate', 'Share ending within 12 months, control'],
        ['difference', 'DOUBLE', 'estimate', 'Treatment minus control'],
        ['ci_low', 'DOUBLE', 'estimate', 'Lower bound of the 95% confidence interval'],
        ['ci_high', 'DOUBLE', 'estimate', 'Upper bound of the 95% confidence interval'],
      ]),
    ],
    rows,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function measureColumns(specs: [string, 'BIGINT' | 'DOUBLE', string, string][]): SampleTable['columns'][number][] {
  return specs.flatMap(([name, type, role, description]) => [
    { name, type, role, description },
    {
      name: `${name}_status`,
      type: 'VARCHAR' as const,
      role: 'status',
      description: `published, suppressed or rounded (disclosure control) for ${name}`,
    },
  ]);
}

export function sampleTables(): SampleTable[] {
  return [outflowTable(), jobQualityTable(), effectsTable()];
}

/** Write the sample bundle to `outDir` as a committed 'release' stage output. */
export async function writeSampleRelease(
  outDir: string,
  tables: readonly SampleTable[] = sampleTables(),
): Promise<string> {
  const output = await StageOutput.create({ stage: 'release', outDir, parameters: { sample: true } });
  try {
    const duck = await Duck.open({ threads: 1 });
    try {
      for (const table of tables) {
        const values = table.rows
          .map((row) => `(${table.columns.map((c) => literal(row[c.name] ?? null, c.type)).join(', ')})`)
          .join(',\n');
        await duck.run(
          `CREATE TABLE ${sqlIdent(table.name)} AS SELECT * FROM (VALUES ${values}) v(${table.columns.map((c) => sqlIdent(c.name)).join(', ')})`,
        );
        const select = `SELECT ${table.columns.map((c) => `${sqlIdent(c.name)}::${c.type} AS ${sqlIdent(c.name)}`).join(', ')} FROM ${sqlIdent(table.name)}`;
        await duck.run(
          `COPY (${select}) TO ${sqlString(await output.file(`tables/${table.name}.parquet`))} (FORMAT parquet)`,
        );
        await duck.run(
          `COPY (${select}) TO ${sqlString(await output.file(`tables/${table.name}.csv`))} (FORMAT csv, HEADER true)`,
        );
        await duck.run(
          `COPY (${select}) TO ${sqlString(await output.file(`tables/${table.name}.json`))} (FORMAT json, ARRAY true)`,
        );
      }
    } finally {
      duck.close();
    }
    const catalogue = {
      format: 'boldlink-release-tables/v1',
      tables: tables.map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        columns: t.columns.map(({ name, role, description }) => ({ name, role, description })),
      })),
    };
    await writeFile(await output.file('tables.json'), `${JSON.stringify(catalogue, null, 2)}\n`);
    await writeFile(
      await output.file('report.html'),
      '<!doctype html><html lang="en"><meta charset="utf-8"><title>Sample release</title><p>Synthetic sample release for testing.</p></html>\n',
    );
    await output.commit();
    return output.outDir;
  } catch (error) {
    await output.abandon();
    throw error;
  }
}

function literal(value: string | number | null, type: string): string {
  if (value === null) return `NULL::${type}`;
  return typeof value === 'number' ? `${value}::${type}` : sqlString(value);
}
