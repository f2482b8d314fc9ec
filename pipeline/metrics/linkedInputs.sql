-- Every output below has an ORDER BY over a unique key, so DuckDB need not keep
-- insertion order, which lets large intermediate results stream and spill.
SET preserve_insertion_order = false;

-- The link output (docs/contracts.md, "link → metrics") as views. Each row gets
-- the first rule it breaks, or NULL; rows that break one are set apart in
-- inputIssues (file, row, column, rule) and counted, never silently dropped.

CREATE OR REPLACE TEMP VIEW clientRows AS
SELECT file_row_number + 1 AS source_row, rid, municipality, CAST(birth_month AS DATE) AS birth_month, sex, district, household_type,
  CASE WHEN rid IS NULL THEN 'rid.missing' END AS rule
FROM ${clientsSource};

CREATE OR REPLACE TEMP VIEW personRows AS
SELECT file_row_number + 1 AS source_row, rid, CAST(birth_month AS DATE) AS birth_month, sex, municipality_code,
  CASE WHEN rid IS NULL THEN 'rid.missing' END AS rule
FROM ${personsSource};

CREATE OR REPLACE TEMP VIEW benefitRows AS
SELECT file_row_number + 1 AS source_row, rid, municipality, benefit_type, CAST(start_date AS DATE) AS start_date, CAST(end_date AS DATE) AS end_date, end_reason,
  CASE
    WHEN rid IS NULL THEN 'rid.missing'
    WHEN start_date IS NULL THEN 'start_date.missing'
    WHEN end_date < start_date THEN 'end_date.before_start'
  END AS rule
FROM ${benefitsSource};

CREATE OR REPLACE TEMP VIEW jobRows AS
SELECT file_row_number + 1 AS source_row, rid, employer_id, CAST(start_date AS DATE) AS start_date, CAST(end_date AS DATE) AS end_date,
  contract_type, CAST(hours_per_week AS DOUBLE) AS hours_per_week, CAST(hourly_wage AS DOUBLE) AS hourly_wage,
  CASE
    WHEN rid IS NULL THEN 'rid.missing'
    WHEN start_date IS NULL THEN 'start_date.missing'
    WHEN end_date < start_date THEN 'end_date.before_start'
    WHEN hours_per_week < 0 THEN 'hours_per_week.negative'
    WHEN hourly_wage < 0 THEN 'hourly_wage.negative'
  END AS rule
FROM ${jobsSource};

CREATE OR REPLACE TEMP VIEW interventionRows AS
SELECT file_row_number + 1 AS source_row, rid, municipality, programme, arm, CAST(ladder_step AS INTEGER) AS ladder_step,
  CAST(start_date AS DATE) AS start_date, CAST(end_date AS DATE) AS end_date,
  CASE
    WHEN rid IS NULL THEN 'rid.missing'
    WHEN start_date IS NULL THEN 'start_date.missing'
    WHEN end_date < start_date THEN 'end_date.before_start'
    WHEN arm IS NULL OR arm NOT IN ('treatment', 'control', 'none') THEN 'arm.unknown'
    WHEN arm IN ('treatment', 'control') AND programme IS NULL THEN 'programme.missing'
    WHEN ladder_step NOT BETWEEN 1 AND 6 THEN 'ladder_step.range'
  END AS rule
FROM ${interventionsSource};

CREATE OR REPLACE TEMP VIEW linkedClients AS SELECT * EXCLUDE (source_row, rule) FROM clientRows WHERE rule IS NULL;
CREATE OR REPLACE TEMP VIEW linkedPersons AS SELECT * EXCLUDE (source_row, rule) FROM personRows WHERE rule IS NULL;
CREATE OR REPLACE TEMP VIEW benefitPeriods AS SELECT * EXCLUDE (source_row, rule) FROM benefitRows WHERE rule IS NULL;
CREATE OR REPLACE TEMP VIEW linkedJobs AS SELECT * EXCLUDE (source_row, rule) FROM jobRows WHERE rule IS NULL;
CREATE OR REPLACE TEMP VIEW linkedInterventions AS SELECT * EXCLUDE (source_row, rule) FROM interventionRows WHERE rule IS NULL;

-- A view: it is read only for the accounting and the quarantine file, after the metrics.
CREATE OR REPLACE TEMP VIEW inputIssues AS
SELECT file, source_row AS row, split_part(rule, '.', 1) AS "column", rule FROM (
  SELECT 'clients.parquet' AS file, source_row, rule FROM clientRows WHERE rule IS NOT NULL
  UNION ALL SELECT 'persons.parquet', source_row, rule FROM personRows WHERE rule IS NOT NULL
  UNION ALL SELECT 'benefits.parquet', source_row, rule FROM benefitRows WHERE rule IS NOT NULL
  UNION ALL SELECT 'jobs.parquet', source_row, rule FROM jobRows WHERE rule IS NOT NULL
  UNION ALL SELECT 'interventions.parquet', source_row, rule FROM interventionRows WHERE rule IS NOT NULL
);
