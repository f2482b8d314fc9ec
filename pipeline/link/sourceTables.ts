/**
 * The pseudonymize → link contract (docs/contracts.md): which files a source
 * hands the TTP and the columns (with DuckDB types) link reads from each.
 * Reading through explicit, cast column lists means a file that drifts from
 * the contract fails here, naming file and column, instead of deep in a join.
 */

export type MunicipalTable = 'clients' | 'benefits' | 'interventions';
export type HolderTable = 'persons' | 'jobs';
export type SourceTable = MunicipalTable | HolderTable;

export const MUNICIPAL_TABLES: readonly MunicipalTable[] = ['clients', 'benefits', 'interventions'];
export const HOLDER_TABLES: readonly HolderTable[] = ['persons', 'jobs'];

/** Kept in the type the holder delivered (an employer number may be text or an integer). */
export const AS_DELIVERED = '';

const identity = { p1: 'VARCHAR', f1: 'VARCHAR', id_status: 'VARCHAR' } as const;

export const SOURCE_COLUMNS: Readonly<Record<SourceTable, Readonly<Record<string, string>>>> = {
  clients: { ...identity, birth_month: 'DATE', sex: 'VARCHAR', district: 'VARCHAR', household_type: 'VARCHAR' },
  benefits: { ...identity, benefit_type: 'VARCHAR', start_date: 'DATE', end_date: 'DATE', end_reason: 'VARCHAR' },
  interventions: {
    ...identity,
    programme: 'VARCHAR',
    arm: 'VARCHAR',
    ladder_step: 'TINYINT',
    start_date: 'DATE',
    end_date: 'DATE',
  },
  persons: { ...identity, birth_month: 'DATE', sex: 'VARCHAR', municipality_code: 'VARCHAR' },
  jobs: {
    ...identity,
    employer_id: AS_DELIVERED,
    start_date: 'DATE',
    end_date: 'DATE',
    contract_type: 'VARCHAR',
    hours_per_week: 'DOUBLE',
    hourly_wage: 'DOUBLE',
  },
};

export function sourceFileName(table: SourceTable): string {
  return `${table}.parquet`;
}
