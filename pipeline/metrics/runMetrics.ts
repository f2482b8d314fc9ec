import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { Manifest } from '../../schemas/manifest.js';
import { Duck, sqlString } from '../core/duckdb.js';
import { rowsOfFile } from '../core/fileRows.js';
import { DataError, type DataIssue } from '../core/errors.js';
import { log } from '../core/log.js';
import { progressBar } from '../core/progress.js';
import { StageInput } from '../core/stageInput.js';
import { StageOutput } from '../core/stageOutput.js';
import { DEFAULT_DEFINITIONS_FILE, loadDefinitions } from './definitionsFile.js';
import { effectsCatalogueEntry } from './effectsCatalogue.js';
import {
  inputIssuesStatement,
  inputStatements,
  LINKED_COLUMNS,
  metricsStatements,
  observationEndQuery,
  type LinkedFiles,
  type PlannedStatement,
} from './metricsPlan.js';
import { loadMinimumWage } from './minimumWage.js';
import { AGGREGATE_TABLES, catalogueEntry, populations } from './tableCatalogue.js';
import { secondsSince } from '../core/elapsed.js';

export interface MetricsOptions {
  readonly input: string;
  readonly out: string;
  readonly definitionsFile?: string;
  /** YYYY-MM-DD; overrides the definitions file and the data. */
  readonly observationEnd?: string;
}

export interface HeadlineYear {
  readonly outflow_year: number;
  readonly outflows: number;
  readonly to_work: number;
  readonly uncensored: number;
  readonly durable: number;
  readonly censored: number;
}

export const TABLES_FORMAT = 'boldlink-tables/v1';

/**
 * `boldlink metrics`: benefit spells, outflow (to work, durable), job quality,
 * aggregate tables with margins and the effects, from a link output, inside
 * the secure environment.
 */
export async function runMetrics(options: MetricsOptions): Promise<Manifest> {
  const definitionsFile = resolve(options.definitionsFile ?? DEFAULT_DEFINITIONS_FILE);
  const loaded = await loadDefinitions(definitionsFile);
  const d = loaded.definitions;
  const wage = await loadMinimumWage();
  const input = await StageInput.open(options.input, { stage: 'link' });
  const files = linkedFiles(input);

  const { observationEnd, observationEndSource } = await probeInputs(
    files,
    options.observationEnd ?? d.observationEnd ?? undefined,
    options.observationEnd !== undefined,
  );

  const output = await StageOutput.create({
    stage: 'metrics',
    outDir: options.out,
    parameters: {
      input: input.dir,
      definitionsFile,
      definitions: d,
      observationEnd,
      observationEndSource,
      minimumWageFile: wage.file,
    },
    definitions: [
      { name: d.name, version: loaded.version },
      { name: 'minimum-wage', version: wage.version },
    ],
  });
  const quarantineDir = `${output.outDir}.quarantine`;
  const quarantineTemp = `${quarantineDir}.tmp-${process.pid}`;
  let duck: Duck | undefined;
  try {
    output.addStageInput(input);
    for (const key of input.manifest.keys) output.addKey({ ...key, use: 'inherited' });
    duck = await Duck.open({ memoryLimit: metricsMemoryLimit(), tempDirectory: output.scratchDir });
    await mkdir(join(output.workDir, 'tables'), { recursive: true });
    const outputs = {
      spells: await output.file('spells.parquet'),
      tablesDir: join(output.workDir, 'tables'),
      effects: await output.file('effects.parquet'),
    };
    const statements = [
      ...(await inputStatements(files)),
      ...(await metricsStatements(d, wage, observationEnd, outputs)),
    ];
    const bar = progressBar('metrics', statements.length);
    for (const statement of statements) {
      await runStep(duck, statement);
      if (statement.step === 'benefit spells') await refuseMissingMinimumWage(duck, wage.file);
      bar.increment();
    }
    bar.stop();

    const issues = await recordAccounting(duck, output, input, files);
    await rm(quarantineTemp, { recursive: true, force: true });
    if (issues > 0) {
      await mkdir(quarantineTemp, { recursive: true, mode: 0o700 });
      await runStep(duck, await inputIssuesStatement(join(quarantineTemp, 'quarantine.csv')));
      await chmod(join(quarantineTemp, 'quarantine.csv'), 0o600);
    }
    await recordSummary(duck, output, observationEnd, observationEndSource, issues);
    duck.close();
    duck = undefined;

    const byPopulation = populations(d);
    const catalogue = {
      format: TABLES_FORMAT,
      tables: [...AGGREGATE_TABLES.map((t) => catalogueEntry(t, byPopulation[t.population])), effectsCatalogueEntry(d)],
    };
    await writeFile(await output.file('tables.json'), `${JSON.stringify(catalogue, null, 2)}\n`);
    const manifest = await output.commit();
    // The quarantine of this run replaces the previous one only once the output is in place.
    await rm(quarantineDir, { recursive: true, force: true });
    if (issues > 0) await rename(quarantineTemp, quarantineDir);
    return manifest;
  } catch (error) {
    duck?.close();
    await output.abandon();
    await rm(quarantineTemp, { recursive: true, force: true });
    throw error;
  }
}

function linkedFiles(input: StageInput): LinkedFiles {
  const required = ['clients', 'persons', 'benefits', 'jobs'] as const;
  const missing = required.filter((name) => !input.has(`${name}.parquet`));
  if (missing.length > 0) {
    throw new DataError(
      'INPUT_INCOMPLETE',
      `${input.dir} lacks ${missing.map((m) => `${m}.parquet`).join(', ')}: metrics needs the linked clients, persons, benefits and jobs (docs/contracts.md, "link → metrics"). Rerun 'boldlink link' with every source.`,
      missing.map((m) => ({
        file: join(input.dir, `${m}.parquet`),
        rule: 'input.missing',
        message: 'missing from the link output',
      })),
    );
  }
  return {
    clients: input.path('clients.parquet'),
    persons: input.path('persons.parquet'),
    benefits: input.path('benefits.parquet'),
    jobs: input.path('jobs.parquet'),
    interventions: input.has('interventions.parquet') ? input.path('interventions.parquet') : null,
  };
}

/** Check every file has its columns, and find T when neither the command line nor the definitions fix it. */
async function probeInputs(
  files: LinkedFiles,
  fixed: string | undefined,
  fromCommandLine: boolean,
): Promise<{
  observationEnd: string;
  observationEndSource: 'command line' | 'definitions' | 'latest date in the linked data';
}> {
  const duck = await Duck.open({ memoryLimit: metricsMemoryLimit() });
  try {
    const issues: DataIssue[] = [];
    for (const [table, columns] of Object.entries(LINKED_COLUMNS)) {
      const path = files[table as keyof LinkedFiles];
      if (path === null) continue;
      const present = new Set(
        (await duck.rows<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`)).map(
          (r) => r.column_name,
        ),
      );
      for (const column of columns) {
        if (!present.has(column))
          issues.push({
            file: path,
            column,
            rule: 'input.column_missing',
            message: 'column missing from the link output',
          });
      }
    }
    if (issues.length > 0) {
      throw new DataError(
        'INPUT_SCHEMA',
        `The link output lacks columns metrics needs, e.g. ${issues[0]?.file}: '${issues[0]?.column}' (docs/contracts.md, "link → metrics").`,
        issues,
      );
    }
    if (fixed !== undefined)
      return { observationEnd: fixed, observationEndSource: fromCommandLine ? 'command line' : 'definitions' };
    for (const statement of await inputStatements(files)) await duck.run(statement.sql);
    const latest = await duck.jsonRows<{ observation_end: string | null }>(await observationEndQuery());
    const observationEnd = latest[0]?.observation_end ?? null;
    if (observationEnd === null) {
      throw DataError.single('INPUT_EMPTY', {
        file: files.benefits,
        rule: 'input.empty',
        message: 'no usable benefit period or job, so there is nothing to measure (and no observation end to infer)',
      });
    }
    return { observationEnd, observationEndSource: 'latest date in the linked data' };
  } finally {
    duck.close();
  }
}

async function runStep(duck: Duck, statement: PlannedStatement): Promise<void> {
  const started = process.hrtime.bigint();
  try {
    await duck.run(statement.sql);
  } catch (error) {
    throw new Error(`metrics step '${statement.step}' failed in DuckDB: ${(error as Error).message}`, { cause: error });
  }
  log().debug({ step: statement.step, seconds: secondsSince(started) }, 'metrics step done');
}

/** A first job in a year the reference lacks would get no wage band: refuse rather than under-count. */
async function refuseMissingMinimumWage(duck: Duck, referenceFile: string): Promise<void> {
  const years = await duck.jsonRows<{ year: number }>(
    'SELECT DISTINCT first_start_year AS year FROM spellFacts WHERE first_wml_missing ORDER BY 1',
  );
  if (years.length === 0) return;
  const list = years.map((y) => y.year).join(', ');
  throw DataError.single('REFERENCE_INCOMPLETE', {
    file: referenceFile,
    column: 'hourly',
    rule: 'reference.minimum_wage_year',
    message: `has no hourly minimum wage for ${list}, the start year of first jobs after outflow; add the rate in force on 1 January (with its source) and rerun`,
  });
}

async function recordAccounting(
  duck: Duck,
  output: StageOutput,
  input: StageInput,
  files: LinkedFiles,
): Promise<number> {
  const byRule = await duck.jsonRows<{ file: string; rule: string; rows: number }>(
    'SELECT file, rule, count(*)::INTEGER AS rows FROM inputIssues GROUP BY ALL ORDER BY ALL',
  );
  let total = 0;
  for (const [table, path] of Object.entries(files)) {
    if (path === null) continue;
    const file = `${table}.parquet`;
    const rowsIn = input.rows(file) ?? (await rowsOfFile(duck, path)) ?? 0;
    const quarantinedByReason: Record<string, number> = {};
    for (const r of byRule.filter((x) => x.file === file)) quarantinedByReason[r.rule] = r.rows;
    const rowsQuarantined = Object.values(quarantinedByReason).reduce((s, n) => s + n, 0);
    total += rowsQuarantined;
    output.addAccounting({
      scope: file,
      rowsIn,
      rowsOut: rowsIn - rowsQuarantined,
      rowsQuarantined,
      quarantinedByReason,
    });
    if (rowsQuarantined > 0)
      log().warn(
        { file, rows: rowsQuarantined, reasons: quarantinedByReason },
        'metrics: input rows set apart (see the quarantine beside the output)',
      );
  }
  return total;
}

async function recordSummary(
  duck: Duck,
  output: StageOutput,
  observationEnd: string,
  observationEndSource: string,
  quarantined: number,
): Promise<void> {
  const [totals] = await duck.jsonRows<Record<string, number>>(`
    SELECT count(*)::INTEGER AS spells,
      count(*) FILTER (WHERE outflow)::INTEGER AS outflows,
      count(*) FILTER (WHERE to_work)::INTEGER AS to_work,
      count(*) FILTER (WHERE NOT censored)::INTEGER AS uncensored,
      count(*) FILTER (WHERE durable)::INTEGER AS durable,
      count(*) FILTER (WHERE censored)::INTEGER AS censored,
      count(DISTINCT rid)::INTEGER AS persons
    FROM spellFacts`);
  const headline = await duck.jsonRows<HeadlineYear>(`
    SELECT outflow_year, count(*)::INTEGER AS outflows,
      count(*) FILTER (WHERE to_work)::INTEGER AS to_work,
      count(*) FILTER (WHERE NOT censored)::INTEGER AS uncensored,
      count(*) FILTER (WHERE durable)::INTEGER AS durable,
      count(*) FILTER (WHERE censored)::INTEGER AS censored
    FROM spellFacts WHERE outflow GROUP BY outflow_year ORDER BY outflow_year`);
  output.setSummary('observationEnd', observationEnd);
  output.setSummary('observationEndSource', observationEndSource);
  output.setSummary('totals', totals ?? {});
  output.setSummary('outflowByYear', headline);
  output.setSummary('quarantinedRows', quarantined);
  output.setSummary(
    'tables',
    AGGREGATE_TABLES.map((t) => t.name),
  );
  log().info({ observationEnd, ...totals, quarantined }, 'metrics: spells measured');
}

/** DuckDB's own default takes most of the machine; leave room for the rest and spill instead. */
export function metricsMemoryLimit(): string {
  return process.env.BOLDLINK_MEMORY_LIMIT ?? `${Math.max(256, Math.floor((totalmem() * 0.5) / 2 ** 20))}MB`;
}
