import type { CanonicalTable } from '../../schemas/mapping.js';

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
  interventions: [...IDENTIFIERS, 'programme', 'arm', 'CAST(ladder_step AS TINYINT) AS ladder_step', 'start_date', 'end_date'],
  persons: [...IDENTIFIERS, BIRTH_MONTH, 'sex', 'municipality_code'],
  jobs: [...IDENTIFIERS, 'employer_id', 'start_date', 'end_date', 'contract_type', 'hours_per_week', 'hourly_wage'],
};

/** Tables in the order they are written. */
export const TABLE_ORDER: readonly CanonicalTable[] = ['clients', 'benefits', 'interventions', 'persons', 'jobs'];
