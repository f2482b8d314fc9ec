import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { StageOutput } from '../pipeline/core/stageOutput.js';
import { runBoldlink } from './support/cli.js';

/**
 * A hand-made metrics stage (docs/contracts.md "metrics → release"): outflows
 * by year × municipality > district, outflows by year × sex (same population,
 * linked through the year margins), and two effect rows.
 */
let root: string;
let metricsDir: string;

const districts = [
  // municipality, district, 2021 spells, 2021 durable, 2022 spells, 2022 durable
  ['rotterdam', 'Charlois', 4, 1, 30, 12],
  ['rotterdam', 'Noord', 40, 15, 35, 14],
  ['rotterdam', 'Delfshaven', 25, 11, 45, 20],
  ['utrecht', 'Oost', 33, 12, 28, 13],
  ['utrecht', 'West', 22, 10, 31, 11],
] as const;

function outflowRows(): string[] {
  type Cell = { spells: number; durable: number; wageN: number; wageSum: number };
  const cells = new Map<string, Cell>();
  const add = (year: string, m: string, d: string, spells: number, durable: number) => {
    const key = [year, m, d].join('|');
    const cell = cells.get(key) ?? { spells: 0, durable: 0, wageN: 0, wageSum: 0 };
    cell.spells += spells;
    cell.durable += durable;
    cell.wageN += durable;
    cell.wageSum += durable * 14.5;
    cells.set(key, cell);
  };
  for (const [m, d, s1, d1, s2, d2] of districts) {
    for (const [year, s, du] of [
      ['2021', s1, d1],
      ['2022', s2, d2],
    ] as const) {
      for (const y of [year, 'Total'])
        for (const [mm, dd] of [
          [m, d],
          [m, 'Total'],
          ['Total', 'Total'],
        ] as const)
          add(y, mm, dd, s, du);
    }
  }
  return [...cells].map(([key, c]) => {
    const [year, m, d] = key.split('|');
    // top1/top2: one high earner per cell, so dominance is not triggered except where few contribute.
    return `(${sqlString(year!)}, ${sqlString(m!)}, ${sqlString(d!)}, ${c.spells}, ${c.durable}, ${c.spells}, ${c.durable === 0 ? 'NULL' : c.wageSum / c.wageN}, ${c.wageN}, ${c.wageSum}, ${c.wageN > 0 ? 14.5 : 'NULL'}, ${c.wageN > 1 ? 14.5 : 'NULL'})`;
  });
}

function sexRows(): string[] {
  // Year totals equal those of the first table (linked cells).
  const total = (year: 0 | 1) => districts.reduce((s, d) => s + (year === 0 ? d[2] : d[4]), 0);
  const durable = (year: 0 | 1) => districts.reduce((s, d) => s + (year === 0 ? d[3] : d[5]), 0);
  const rows: string[] = [];
  const cells: [string, string, number, number][] = [];
  for (const [year, y] of [
    ['2021', 0],
    ['2022', 1],
  ] as const) {
    const f = Math.round(total(y) * 0.55);
    const fd = Math.round(durable(y) * 0.5);
    cells.push([year, 'F', f, fd], [year, 'M', total(y) - f, durable(y) - fd], [year, 'Total', total(y), durable(y)]);
  }
  for (const sex of ['F', 'M', 'Total']) {
    const s = cells.filter((c) => c[1] === sex).reduce((a, c) => a + c[2], 0);
    const d = cells.filter((c) => c[1] === sex).reduce((a, c) => a + c[3], 0);
    cells.push(['Total', sex, s, d]);
  }
  for (const [year, sex, s, d] of cells) rows.push(`(${sqlString(year)}, ${sqlString(sex)}, ${s}, ${d}, ${s})`);
  return rows;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-release-'));
  metricsDir = join(root, 'metrics');
  const output = await StageOutput.create({ stage: 'metrics', outDir: metricsDir, parameters: {} });
  const duck = await Duck.open({ threads: 1 });
  try {
    await duck.run(
      `COPY (SELECT * FROM (VALUES ${outflowRows().join(', ')}) AS t(outflow_year, municipality, district, spells, durable, persons, mean_hourly_wage, wage_n, wage_sum, wage_top1, wage_top2)) TO ${sqlString(await output.file('tables/outflow_by_year_district.parquet'))} (FORMAT parquet)`,
    );
    await duck.run(
      `COPY (SELECT * FROM (VALUES ${sexRows().join(', ')}) AS t(outflow_year, sex, spells, durable, persons)) TO ${sqlString(await output.file('tables/outflow_by_year_sex.parquet'))} (FORMAT parquet)`,
    );
    await duck.run(`COPY (SELECT * FROM (VALUES
        ('programme', 'werkloont', '2021', 'durable_outflow', 'treatment', 'control', 60, 50, 20, 18, 3, 2, 58, 49, 0.3333, 0.36, -0.0267, 0.09, -0.2, 0.15),
        ('programme', 'werkloont', '2022', 'durable_outflow', 'treatment', 'control', 6, 40, 2, 9, 0, 1, 6, 40, 0.3333, 0.225, 0.108, 0.2, -0.28, 0.5)
      ) AS t(design, comparison, cohort, outcome, group_treatment, group_control, n_treatment, n_control, x_treatment, x_control, censored_treatment, censored_control, persons_treatment, persons_control, share_treatment, share_control, difference, standard_error, ci_low, ci_high)) TO ${sqlString(await output.file('effects.parquet'))} (FORMAT parquet)`);
  } finally {
    duck.close();
  }
  const measures = (mean: boolean) => [
    { column: 'spells', kind: 'count', nature: 'units', description: 'Outflows.' },
    {
      column: 'durable',
      kind: 'count',
      nature: 'attribute',
      description: 'Durable outflows.',
      rate: { denominator: 'spells' },
    },
    ...(mean
      ? [
          {
            column: 'mean_hourly_wage',
            kind: 'mean',
            description: 'Mean hourly wage.',
            contributors: 'wage_n',
            sum: 'wage_sum',
            top1: 'wage_top1',
            top2: 'wage_top2',
          },
        ]
      : []),
  ];
  const group = (name: string) => ({
    name,
    label: `group_${name}`,
    n: `n_${name}`,
    x: `x_${name}`,
    share: `share_${name}`,
    censored: `censored_${name}`,
    persons: `persons_${name}`,
  });
  await writeFile(
    await output.file('tables.json'),
    JSON.stringify({
      format: 'boldlink-tables/v2',
      tables: [
        {
          name: 'outflow_by_year_district',
          title: 'Outflow by year and district',
          description: 'Outflows.',
          dimensions: ['outflow_year', 'municipality', 'district'],
          hierarchies: [['municipality', 'district']],
          population: 'outflows',
          measures: measures(true),
          internal: ['persons', 'wage_n', 'wage_sum', 'wage_top1', 'wage_top2'],
        },
        {
          name: 'outflow_by_year_sex',
          title: 'Outflow by year and sex',
          description: 'Outflows.',
          dimensions: ['outflow_year', 'sex'],
          hierarchies: [],
          population: 'outflows',
          measures: measures(false),
          internal: ['persons'],
        },
        {
          name: 'effects',
          kind: 'effects',
          file: 'effects.parquet',
          title: 'Effects',
          description: 'Treatment vs control.',
          dimensions: ['design', 'comparison', 'cohort', 'outcome'],
          groups: [group('treatment'), group('control')],
          estimates: ['difference', 'standard_error', 'ci_low', 'ci_high'],
          internal: ['persons_treatment', 'persons_control'],
        },
      ],
    }),
  );
  await output.commit();
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('boldlink release', () => {
  it('writes a bundle of protected tables, a report and a manifest, and keeps the disclosure log outside', async () => {
    const out = join(root, 'release');
    const result = await runBoldlink(['release', '--input', metricsDir, '--out', out]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'report.html', 'tables', 'tables.json']);
    expect((await readdir(join(out, 'tables'))).sort()).toEqual(
      ['effects', 'outflow_by_year_district', 'outflow_by_year_sex']
        .flatMap((n) => [`${n}.csv`, `${n}.json`, `${n}.parquet`])
        .sort(),
    );
    const district = JSON.parse(await readFile(join(out, 'tables', 'outflow_by_year_district.json'), 'utf8')) as Record<
      string,
      unknown
    >[];
    // Internal columns never leave; every value column has its status.
    expect(Object.keys(district[0]!).sort()).toEqual(
      [
        'district',
        'durable',
        'durable_status',
        'mean_hourly_wage',
        'mean_hourly_wage_status',
        'municipality',
        'outflow_year',
        'spells',
        'spells_status',
      ].sort(),
    );
    const cell = (y: string, m: string, d: string) =>
      district.find((r) => r.outflow_year === y && r.municipality === m && r.district === d)!;
    // Charlois 2021 has 4 outflows: suppressed, value NULL; a second Rotterdam district in 2021 goes with it.
    expect(cell('2021', 'rotterdam', 'Charlois').spells_status).toBe('suppressed');
    expect(cell('2021', 'rotterdam', 'Charlois').spells).toBeNull();
    const rotterdam2021 = ['Noord', 'Delfshaven'].filter(
      (d) => cell('2021', 'rotterdam', d).spells_status === 'suppressed',
    );
    expect(rotterdam2021.length).toBeGreaterThanOrEqual(1);
    for (const row of district) {
      for (const c of ['spells', 'durable', 'mean_hourly_wage']) {
        if (row[`${c}_status`] === 'suppressed') expect(row[c]).toBeNull();
        else expect(['published', 'rounded']).toContain(row[`${c}_status`]);
      }
      if (row.spells_status === 'published') expect(row.spells as number).toBeGreaterThanOrEqual(10);
    }
    // The linked table agrees with the district table on shared year totals.
    const sex = JSON.parse(await readFile(join(out, 'tables', 'outflow_by_year_sex.json'), 'utf8')) as Record<
      string,
      unknown
    >[];
    for (const year of ['2021', '2022']) {
      const a = cell(year, 'Total', 'Total');
      const b = sex.find((r) => r.outflow_year === year && r.sex === 'Total')!;
      expect(b.spells_status).toBe(a.spells_status);
    }
    // Effects: the 2022 row has a treatment group of 6: suppressed whole.
    const effects = JSON.parse(await readFile(join(out, 'tables', 'effects.json'), 'utf8')) as Record<
      string,
      unknown
    >[];
    expect(effects.find((r) => r.cohort === '2022')!.difference_status).toBe('suppressed');
    expect(effects.find((r) => r.cohort === '2022')!.difference).toBeNull();
    expect(effects.find((r) => r.cohort === '2021')!.difference_status).toBe('published');
    expect(Object.keys(effects[0]!)).not.toContain('persons_treatment');
    // Catalogue for query/serve.
    const catalogue = JSON.parse(await readFile(join(out, 'tables.json'), 'utf8')) as {
      tables: { name: string; columns: { name: string; role: string }[] }[];
    };
    expect(catalogue.tables.map((t) => t.name).sort()).toEqual([
      'effects',
      'outflow_by_year_district',
      'outflow_by_year_sex',
    ]);
    expect(catalogue.tables[0]!.columns.find((c) => c.name === 'spells_status')!.role).toBe('status');
    // What an attacker (and an auditor holding only the bundle) knows of the structure: both outflow tables count one
    // population, and durable is a rate of spells. The mean's contributor columns stay inside.
    const described = catalogue.tables as unknown as { name: string; population?: string; measures?: unknown[] }[];
    for (const name of ['outflow_by_year_district', 'outflow_by_year_sex'])
      expect(described.find((t) => t.name === name)?.population).toBe('outflows');
    expect(described.find((t) => t.name === 'outflow_by_year_district')?.measures).toEqual([
      { column: 'spells', kind: 'count', nature: 'units' },
      { column: 'durable', kind: 'count', nature: 'attribute', rate: { denominator: 'spells' } },
      { column: 'mean_hourly_wage', kind: 'mean' },
    ]);
    // Nothing in the bundle says which suppressions were primary.
    for (const file of ['manifest.json', 'tables.json', 'report.html', 'tables/outflow_by_year_district.csv']) {
      const text = await readFile(join(out, file), 'utf8');
      // (The manifest does carry the rules in force, which are public.)
      expect(text).not.toMatch(/primary|secondary|wage_n|wage_sum|persons_treatment/);
    }
    // The report is self-contained and marks suppressed cells.
    const report = await readFile(join(out, 'report.html'), 'utf8');
    expect(report).not.toMatch(/<script[^>]+src=|https?:\/\//);
    expect(report).toContain('class="suppressed-cell"');
    // The disclosure log sits beside the bundle, with rule and kind per suppression.
    const logText = await readFile(`${out}.disclosure-log/disclosure-log.csv`, 'utf8');
    expect(logText).toMatch(
      /outflow_by_year_district,"outflow_year=2021, municipality=rotterdam, district=Charlois",spells,primary,frequency/,
    );
    expect(logText).toMatch(/,secondary,/);
  }, 120_000);

  it('refuses a table whose margins do not add up, naming the table and cell', async () => {
    const broken = join(root, 'broken-metrics');
    const output = await StageOutput.create({ stage: 'metrics', outDir: broken, parameters: {} });
    const duck = await Duck.open({ threads: 1 });
    try {
      await duck.run(
        `COPY (SELECT * FROM (VALUES ('a', 20), ('b', 30), ('Total', 49)) AS t(sex, spells)) TO ${sqlString(await output.file('tables/by_sex.parquet'))} (FORMAT parquet)`,
      );
    } finally {
      duck.close();
    }
    await writeFile(
      await output.file('tables.json'),
      JSON.stringify({
        format: 'boldlink-tables/v2',
        tables: [
          {
            name: 'by_sex',
            title: 't',
            description: 'd',
            dimensions: ['sex'],
            population: 'p',
            measures: [{ column: 'spells', kind: 'count', nature: 'units' }],
          },
        ],
      }),
    );
    await output.commit();
    const out = join(root, 'broken-release');
    const result = await runBoldlink(['release', '--input', broken, '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/by_sex/);
    expect(result.stderr).toMatch(/sex=Total/);
    await expect(readdir(out)).rejects.toThrow();
  }, 60_000);
});
