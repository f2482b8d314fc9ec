import type { Duck } from '../../pipeline/core/duckdb.js';
import { PROGRAMME_TARGET } from './scales.js';

/**
 * truth/metrics.json: the headline figures docs/design.md defines ("Metric definitions"), per outflow
 * year and per breakdown, counted straight from truth/spells (the generator's
 * event model). Counts only; the file is ground truth for tests, not a release.
 */
export async function truthMetrics(duck: Duck, observationEnd: string): Promise<Record<string, unknown>> {
  const outflowMeasures = `
    count(*) AS outflows,
    count(*) FILTER (to_work) AS to_work,
    count(*) FILTER (censored) AS censored,
    count(*) FILTER (NOT censored) AS uncensored,
    count(*) FILTER (revolving) AS revolving,
    count(*) FILTER (durable) AS durable,
    count(*) FILTER (first_hours < 35) AS first_part_time,
    count(*) FILTER (first_hours < 12) AS first_small_job,
    count(*) FILTER (first_wage_band = 'below') AS first_wage_below,
    count(*) FILTER (first_wage_band = 'near') AS first_wage_near,
    count(*) FILTER (first_wage_band = 'above') AS first_wage_above,
    count(*) FILTER (first_lasted_12m IS NOT NULL) AS first_lasted_known,
    count(*) FILTER (first_lasted_12m) AS first_lasted_12m,
    count(*) FILTER (to_work AND first_lasted_12m IS NULL) AS first_lasted_censored`;
  const outflows = `(SELECT s.*, p.sex, p.household_type,
      CASE WHEN s.age < 27 THEN '18-26' ELSE '27+' END AS age_group,
      CASE WHEN s.age < 27 THEN '18-26' WHEN s.age < 35 THEN '27-34' ELSE (10 * floor((s.age - 5) / 10) + 5)::INTEGER::VARCHAR || '-' || (10 * floor((s.age - 5) / 10) + 14)::INTEGER::VARCHAR END AS age_band
    FROM truth_spell s JOIN person p USING (person_id) WHERE s.outflow)`;
  const rows = async (query: string) => (await duck.jsonRows<Record<string, unknown>>(query)).map(countsAsNumbers);
  const by = async (dimension: string) =>
    rows(`SELECT ${dimension}, ${outflowMeasures} FROM ${outflows} GROUP BY ALL ORDER BY ALL`);
  const totals = await rows(
    `SELECT (SELECT count(*) FROM truth_spell) AS spells, (SELECT count(DISTINCT person_id) FROM truth_spell) AS persons, ${outflowMeasures} FROM ${outflows}`,
  );
  const firstJobContract = await rows(
    `SELECT first_contract_type AS contract_type, count(*) AS first_jobs FROM truth_spell WHERE to_work GROUP BY ALL ORDER BY ALL`,
  );
  const programme = await rows(`
    SELECT programme, cohort::VARCHAR AS cohort, arm, count(*) AS assigned, count(*) FILTER (ended_within_12m) AS ended_within_12m,
      count(*) FILTER (censored) AS censored, count(*) FILTER (durable) AS durable, count(*) FILTER (durable IS NOT NULL) AS durable_known
    FROM truth_assignment GROUP BY GROUPING SETS ((programme, cohort, arm), (programme, arm))
    ORDER BY programme, cohort NULLS LAST, arm`);
  // Youth desk: spells starting at 25–26 vs 27–28; ended within 12 months of the start.
  const youthDesk = await rows(`
    SELECT CASE WHEN start_age < 27 THEN '25-26' ELSE '27-28' END AS age_group,
      count(*) FILTER (NOT censored_12m) AS known_12m,
      count(*) FILTER (ended_within_12m) AS ended_within_12m,
      count(*) FILTER (censored_12m) AS censored_12m
    FROM (
      SELECT age_on(date_trunc('month', p.birth_date)::DATE, s.start_date) AS start_age,
        coalesce(s.end_date <= CAST(s.start_date + INTERVAL 12 MONTH AS DATE), false) AS ended_within_12m,
        CAST(s.start_date + INTERVAL 12 MONTH AS DATE) > DATE '${observationEnd}' AND (s.end_date IS NULL OR s.end_date > DATE '${observationEnd}') AS censored_12m
      FROM truth_spell s JOIN person p USING (person_id)
    ) WHERE start_age BETWEEN 25 AND 28 GROUP BY ALL ORDER BY ALL`);
  const affected = await rows(`SELECT count(*) AS spells, count(DISTINCT person_id) AS persons FROM truth_affected`);
  const ledger = await rows(`SELECT source, file, kind, count(*) AS defects FROM ledger GROUP BY ALL ORDER BY ALL`);
  return {
    format: 'boldlink-truth-metrics/v1',
    observationEnd,
    conventions: {
      age: 'whole years from the first day of the birth month, on the end date for outflows, else on the start date',
      nulls:
        'to_work and censored are NULL when the spell has no outflow; revolving and durable are NULL when not an outflow or censored; first_* are NULL without outflow to work; first_lasted_12m is NULL when the first job is ongoing and start + 12 months > T',
      ageBands: '18-26, 27-34, then 10-year bands 35-44, 45-54, …',
    },
    totals: totals[0],
    byOutflowYear: await by('outflow_year'),
    byMunicipality: await by('municipality'),
    byOutflowYearMunicipality: await by('outflow_year, municipality'),
    byAgeGroup: await by('age_group'),
    byAgeBand: await by('age_band'),
    bySex: await by('sex'),
    byHouseholdType: await by('household_type'),
    byBenefitType: await by('benefit_type'),
    firstJobContract,
    programme: { target: PROGRAMME_TARGET, cells: programme },
    youthDesk,
    defects: { affected: affected[0], ledger },
  };
}

/** DuckDB hands BIGINT counts to JSON as strings; counts are numbers in metrics.json. Dimension values stay strings. */
function countsAsNumbers(row: Record<string, unknown>): Record<string, unknown> {
  const dimensions = new Set([
    'cohort',
    'age_group',
    'age_band',
    'municipality',
    'sex',
    'household_type',
    'benefit_type',
    'contract_type',
    'programme',
    'arm',
    'source',
    'file',
    'kind',
  ]);
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      !dimensions.has(key) && typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value,
    ]),
  );
}
