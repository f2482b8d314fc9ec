import { createHash } from 'node:crypto';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { StageOutput } from '../pipeline/core/stageOutput.js';

/**
 * Hand-made link outputs (docs/contracts.md, "link → metrics") for the metrics
 * tests: a few rows per person, written the one way stages write, so that
 * `boldlink metrics` reads them exactly as it reads a real link run.
 */

/** A research pseudonym for a person named in a test: 32 hex characters. */
export function rid(person: string): string {
  return createHash('md5').update(`person:${person}`).digest('hex');
}

type Value = string | number | null;
export interface ClientRow {
  person: string;
  municipality?: string;
  birth_month?: string | null;
  sex?: string | null;
  district?: string | null;
  household_type?: string | null;
}
export interface PersonRow {
  person: string;
  birth_month?: string | null;
  sex?: string | null;
  municipality_code?: string;
}
export interface BenefitRow {
  person: string | null;
  start: string | null;
  end: string | null;
  municipality?: string;
  benefit_type?: string;
  end_reason?: string | null;
}
export interface JobRow {
  person: string;
  start: string;
  end: string | null;
  employer?: string;
  contract?: string;
  hours?: number | null;
  wage?: number | null;
}
export interface InterventionRow {
  person: string;
  programme: string | null;
  arm: string;
  start: string;
  end?: string | null;
  ladder_step?: number | null;
  municipality?: string;
}

export interface LinkFixture {
  readonly clients: readonly ClientRow[];
  readonly persons: readonly PersonRow[];
  readonly benefits: readonly BenefitRow[];
  readonly jobs: readonly JobRow[];
  /** null: the link output has no interventions file. */
  readonly interventions: readonly InterventionRow[] | null;
}

interface TableSpec {
  readonly columns: readonly (readonly [string, string])[];
  readonly rows: readonly (readonly Value[])[];
}

function literal(value: Value): string {
  if (value === null) return 'NULL';
  return typeof value === 'number' ? String(value) : sqlString(value);
}

async function writeTable(duck: Duck, path: string, spec: TableSpec): Promise<void> {
  const columns = spec.columns.map(([name, type]) => `${name} ${type}`).join(', ');
  await duck.run(`CREATE OR REPLACE TABLE t (${columns})`);
  if (spec.rows.length > 0)
    await duck.run(`INSERT INTO t VALUES ${spec.rows.map((r) => `(${r.map(literal).join(', ')})`).join(', ')}`);
  await duck.run(`COPY (SELECT * FROM t ORDER BY ALL) TO ${sqlString(path)} (FORMAT parquet)`);
}

export async function writeLinkOutput(outDir: string, fixture: LinkFixture): Promise<void> {
  const output = await StageOutput.create({ stage: 'link', outDir, parameters: { project: 'metrics-test' } });
  const duck = await Duck.open({ threads: 1 });
  try {
    await writeTable(duck, await output.file('clients.parquet'), {
      columns: [
        ['rid', 'VARCHAR'],
        ['municipality', 'VARCHAR'],
        ['birth_month', 'DATE'],
        ['sex', 'VARCHAR'],
        ['district', 'VARCHAR'],
        ['household_type', 'VARCHAR'],
      ],
      rows: fixture.clients.map((c) => [
        rid(c.person),
        c.municipality ?? 'rotterdam',
        c.birth_month ?? null,
        c.sex ?? null,
        c.district ?? null,
        c.household_type ?? null,
      ]),
    });
    await writeTable(duck, await output.file('persons.parquet'), {
      columns: [
        ['rid', 'VARCHAR'],
        ['birth_month', 'DATE'],
        ['sex', 'VARCHAR'],
        ['municipality_code', 'VARCHAR'],
      ],
      rows: fixture.persons.map((p) => [
        rid(p.person),
        p.birth_month ?? null,
        p.sex ?? null,
        p.municipality_code ?? 'GM0599',
      ]),
    });
    await writeTable(duck, await output.file('benefits.parquet'), {
      columns: [
        ['rid', 'VARCHAR'],
        ['municipality', 'VARCHAR'],
        ['benefit_type', 'VARCHAR'],
        ['start_date', 'DATE'],
        ['end_date', 'DATE'],
        ['end_reason', 'VARCHAR'],
      ],
      rows: fixture.benefits.map((b) => [
        b.person === null ? null : rid(b.person),
        b.municipality ?? 'rotterdam',
        b.benefit_type ?? 'bijstand',
        b.start,
        b.end,
        b.end_reason ?? (b.end === null ? null : 'other'),
      ]),
    });
    await writeTable(duck, await output.file('jobs.parquet'), {
      columns: [
        ['rid', 'VARCHAR'],
        ['employer_id', 'VARCHAR'],
        ['start_date', 'DATE'],
        ['end_date', 'DATE'],
        ['contract_type', 'VARCHAR'],
        ['hours_per_week', 'DOUBLE'],
        ['hourly_wage', 'DOUBLE'],
      ],
      rows: fixture.jobs.map((j) => [
        rid(j.person),
        j.employer ?? 'E0',
        j.start,
        j.end,
        j.contract ?? 'permanent',
        j.hours === undefined ? 36 : j.hours,
        j.wage === undefined ? 15 : j.wage,
      ]),
    });
    if (fixture.interventions !== null) {
      await writeTable(duck, await output.file('interventions.parquet'), {
        columns: [
          ['rid', 'VARCHAR'],
          ['municipality', 'VARCHAR'],
          ['programme', 'VARCHAR'],
          ['arm', 'VARCHAR'],
          ['ladder_step', 'TINYINT'],
          ['start_date', 'DATE'],
          ['end_date', 'DATE'],
        ],
        rows: fixture.interventions.map((i) => [
          rid(i.person),
          i.municipality ?? 'rotterdam',
          i.programme,
          i.arm,
          i.ladder_step ?? null,
          i.start,
          i.end ?? null,
        ]),
      });
    }
  } finally {
    duck.close();
  }
  await output.commit();
}

/** Rows of a Parquet file as plain objects (BIGINT → number, DATE → 'YYYY-MM-DD'). */
export async function readParquet<T = Record<string, unknown>>(
  path: string,
  where = 'true',
  orderBy = 'ALL',
): Promise<T[]> {
  const duck = await Duck.open({ threads: 1 });
  try {
    const rows = await duck.rows(`SELECT * FROM read_parquet(${sqlString(path)}) WHERE ${where} ORDER BY ${orderBy}`);
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])) as T);
  } finally {
    duck.close();
  }
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return value;
}
