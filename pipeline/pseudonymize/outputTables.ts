import type { CanonicalTable } from '../../schemas/mapping.js';
import { sqlIdent } from '../core/duckdb.js';
import { checksOf, rawBsn, takesClientsFallback } from './fileChecks.js';
import type { InputFile } from './inputFiles.js';
import { bsnUsableSql, idStatusSql } from './pseudonymFunctions.js';

/**
 * What leaves the source, per table (docs/contracts.md, "pseudonymize → link"):
 * pseudonyms instead of the BSN, birth month instead of birth date, and no
 * postcode or house number (those live on only inside F1). Each entry is a SQL
 * expression over the checked rows, aliased to its output column.
 */
const IDENTIFIERS = ['p1', 'f1', 'id_status'];
const BIRTH_MONTH = `CAST(date_trunc('month', birth_date) AS DATE) AS birth_month`;

export const OUTPUT_COLUMNS: Readonly<Record<CanonicalTable, readonly string[]>> = {
  clients: [...IDENTIFIERS, BIRTH_MONTH, 'sex', 'district', 'household_type'],
  benefits: [...IDENTIFIERS, 'benefit_type', 'start_date', 'end_date', 'end_reason'],
  interventions: [
    ...IDENTIFIERS,
    'programme',
    'arm',
    'CAST(ladder_step AS TINYINT) AS ladder_step',
    'start_date',
    'end_date',
  ],
  persons: [...IDENTIFIERS, BIRTH_MONTH, 'sex', 'municipality_code'],
  jobs: [...IDENTIFIERS, 'employer_id', 'start_date', 'end_date', 'contract_type', 'hours_per_week', 'hourly_wage'],
};

/** Tables in the order they are written. */
export const TABLE_ORDER: readonly CanonicalTable[] = ['clients', 'benefits', 'interventions', 'persons', 'jobs'];

/**
 * The output rows of one input: the rows not quarantined, pseudonymized and coarsened (OUTPUT_COLUMNS), in input
 * order. `heldBack`: the filter that is true for its quarantined rows (`PseudonymFunctions.holdBack`), if it has any.
 */
export function outputRows(file: InputFile, heldBack: string | undefined): string {
  const checks = checksOf(file);
  const code = `bsn_check(${rawBsn(file)})`;
  const notUsable = `NOT ${bsnUsableSql(code)}`;
  const fallback = `fallback_f1(${checks.fallbackParts.join(', ')})`;
  const f1 =
    file.table === 'persons'
      ? fallback
      : file.table === 'clients'
        ? `CASE WHEN ${notUsable} THEN ${fallback} END`
        : takesClientsFallback(file)
          ? `CASE WHEN ${notUsable} THEN clients_fallback(trim(${rawBsn(file)})) END`
          : 'NULL::VARCHAR';
  const kept = heldBack === undefined ? '' : `WHERE NOT ${heldBack}`;
  return `SELECT ${OUTPUT_COLUMNS[file.table].join(', ')} FROM (
    SELECT bsn_p1(${rawBsn(file)}) AS p1, ${f1} AS f1, ${idStatusSql(code)} AS id_status,
      ${[...checks.values].map(([name, value]) => `${value} AS ${sqlIdent(name)}`).join(', ')}
    FROM ${checks.rows} s ${kept})`;
}
