import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adultGroupLabel, youthGroupLabel, type Band, type MetricDefinitions } from '../../schemas/definitions.js';
import { fillSql, sqlString } from '../core/duckdb.js';
import { besideModule } from '../core/projectPath.js';
import { minimumWageRelation, type MinimumWage } from './minimumWage.js';
import {
  AGGREGATE_TABLES,
  cellDimensions,
  everyCombination,
  groupingSets,
  orderBy,
  populations,
} from './tableCatalogue.js';

/**
 * The metrics stage as an ordered list of SQL statements, filled from the .sql
 * files beside this module. The command runs exactly these; the benchmark runs
 * the same list straight in DuckDB to measure what the command adds.
 */

export interface PlannedStatement {
  readonly step: string;
  readonly sql: string;
}

/** The link output's files; `interventions` may be absent when no municipality delivered any. */
export interface LinkedFiles {
  readonly clients: string;
  readonly persons: string;
  readonly benefits: string;
  readonly jobs: string;
  readonly interventions: string | null;
}

/** Columns each link output file must have (docs/contracts.md, "link → metrics"). */
export const LINKED_COLUMNS = {
  clients: ['rid', 'municipality', 'birth_month', 'sex', 'district', 'household_type'],
  persons: ['rid', 'birth_month', 'sex', 'municipality_code'],
  benefits: ['rid', 'municipality', 'benefit_type', 'start_date', 'end_date', 'end_reason'],
  jobs: ['rid', 'employer_id', 'start_date', 'end_date', 'contract_type', 'hours_per_week', 'hourly_wage'],
  interventions: ['rid', 'municipality', 'programme', 'arm', 'ladder_step', 'start_date', 'end_date'],
} as const;

export interface MetricsOutputs {
  readonly spells: string;
  readonly tablesDir: string;
  readonly effects: string;
}

async function sqlFile(name: string, fragments: Record<string, string> = {}): Promise<string> {
  return fillSql(await readFile(besideModule(import.meta.url, name), 'utf8'), fragments);
}

function parquetSource(path: string): string {
  return `read_parquet(${sqlString(path)}, file_row_number = true)`;
}

/** An empty relation with the interventions columns, for a link output without interventions. */
const NO_INTERVENTIONS =
  '(SELECT * FROM (VALUES (NULL::BIGINT, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::INTEGER, NULL::DATE, NULL::DATE)) AS none(file_row_number, rid, municipality, programme, arm, ladder_step, start_date, end_date) WHERE false)';

/** Views over the linked Parquet files (and the rows set apart). */
export async function inputStatements(files: LinkedFiles): Promise<PlannedStatement[]> {
  return [
    {
      step: 'linked inputs',
      sql: await sqlFile('linkedInputs.sql', {
        clientsSource: parquetSource(files.clients),
        personsSource: parquetSource(files.persons),
        benefitsSource: parquetSource(files.benefits),
        jobsSource: parquetSource(files.jobs),
        interventionsSource: files.interventions === null ? NO_INTERVENTIONS : parquetSource(files.interventions),
      }),
    },
  ];
}

/** Returns one row `observation_end` (DATE, NULL without data); needs the input views. */
export async function observationEndQuery(): Promise<string> {
  return sqlFile('observationEnd.sql');
}

function bandCase(value: string, bands: readonly Band[], below?: number): string {
  const whens = bands.map((b) =>
    b.to === undefined
      ? `WHEN ${value} >= ${b.from} THEN ${sqlString(b.label)}`
      : `WHEN ${value} BETWEEN ${b.from} AND ${b.to} THEN ${sqlString(b.label)}`,
  );
  const guard =
    below === undefined
      ? `WHEN ${value} IS NULL THEN 'unknown'`
      : `WHEN ${value} IS NULL OR ${value} < ${below} THEN 'unknown'`;
  return `CASE ${guard} ${whens.join(' ')} ELSE 'unknown' END`;
}

export function sqlDate(isoDate: string): string {
  return `DATE ${sqlString(isoDate)}`;
}

/** Everything after the inputs: spells, spells.parquet, the aggregate tables and the effects. */
export async function metricsStatements(
  d: MetricDefinitions,
  wage: MinimumWage,
  observationEnd: string,
  outputs: MetricsOutputs,
): Promise<PlannedStatement[]> {
  const T = sqlDate(observationEnd);
  const statements: PlannedStatement[] = [
    {
      step: 'calendar',
      sql: await sqlFile('calendar.sql', {
        minimumAge: String(d.minimumAge),
        youthBoundaryAge: String(d.youthBoundaryAge),
        youthGroupLabel: sqlString(youthGroupLabel(d)),
        adultGroupLabel: sqlString(adultGroupLabel(d)),
        ageBandCase: bandCase('age', d.ageBands, d.minimumAge),
        durationBandCase: bandCase('months', d.durationBands),
      }),
    },
    {
      step: 'benefit spells',
      sql: await sqlFile('spells.sql', {
        observationEnd: T,
        spellGapDays: String(d.spellGapDays),
        durabilityHorizonMonths: String(d.durabilityHorizonMonths),
        workDaysBefore: String(d.workWindowDays.before),
        workDaysAfter: String(d.workWindowDays.after),
        partTimeHoursBelow: String(d.partTimeHoursBelow),
        smallJobHoursBelow: String(d.smallJobHoursBelow),
        wageBandNearFactor: String(d.wageBandNearFactor),
        jobLastedMonths: String(d.jobLastedMonths),
        endsWithinMonths: String(d.endsWithinMonths),
        minimumWage: minimumWageRelation(wage),
      }),
    },
    { step: 'spells.parquet', sql: await sqlFile('spellsOutput.sql', { path: sqlString(outputs.spells) }) },
    {
      step: 'table units',
      sql: await sqlFile('units.sql', { observationEnd: T, endsWithinMonths: String(d.endsWithinMonths) }),
    },
  ];
  const byPopulation = populations(d, observationEnd);
  for (const table of AGGREGATE_TABLES) {
    const population = byPopulation[table.population];
    statements.push({
      step: `tables/${table.name}.parquet`,
      sql: await sqlFile(population.sqlFile, {
        dimensions: table.dimensions.join(', '),
        cellDimensions: cellDimensions(table),
        groupingSets: groupingSets(table),
        everyCombination: everyCombination(table, d, population.unitsTable),
        orderBy: orderBy(table, d),
        path: sqlString(join(outputs.tablesDir, `${table.name}.parquet`)),
      }),
    });
  }
  statements.push({
    step: 'effects.parquet',
    sql: await sqlFile('effects.sql', {
      youthBoundaryAge: String(d.youthBoundaryAge),
      discontinuityYears: String(d.discontinuityYears),
      endsWithinMonths: String(d.endsWithinMonths),
      youngerLabel: sqlString(`${d.youthBoundaryAge - d.discontinuityYears}-${d.youthBoundaryAge - 1}`),
      olderLabel: sqlString(`${d.youthBoundaryAge}-${d.youthBoundaryAge + d.discontinuityYears - 1}`),
      path: sqlString(outputs.effects),
    }),
  });
  return statements;
}

export async function inputIssuesStatement(path: string): Promise<PlannedStatement> {
  return { step: 'quarantine', sql: await sqlFile('inputIssues.sql', { path: sqlString(path) }) };
}
