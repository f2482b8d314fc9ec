-- The units each aggregate table counts, with their dimension values as the
-- strings the tables carry ('unknown' for a missing attribute, never dropped).

CREATE OR REPLACE TEMP TABLE outflowUnits AS
SELECT rid,
  CAST(outflow_year AS VARCHAR) AS outflow_year,
  coalesce(municipality, 'unknown') AS municipality,
  coalesce(district, 'unknown') AS district,
  ageGroup(age_at_end) AS age_group,
  ageBand(age_at_end) AS age_band,
  coalesce(sex, 'unknown') AS sex,
  coalesce(household_type, 'unknown') AS household_type,
  durationBand(duration_months) AS duration,
  coalesce(benefit_type, 'unknown') AS benefit_type,
  coalesce(CAST(ladder_step AS VARCHAR), 'unknown') AS ladder_step,
  arm,
  to_work, censored, revolving, durable,
  first_part_time, first_small_job, first_wage_band, first_lasted_12m, first_hourly_wage, first_hours
FROM spellFacts
WHERE outflow;

CREATE OR REPLACE TEMP TABLE inflowUnits AS
SELECT rid,
  CAST(inflow_year AS VARCHAR) AS inflow_year,
  coalesce(municipality, 'unknown') AS municipality,
  ageGroup(age_at_start) AS age_group,
  ageBand(age_at_start) AS age_band,
  ended_within_from_start
FROM spellFacts;

-- A person's first assignment to a programme's treatment or control arm, on day S,
-- and the spell covering S (spells never overlap, so there is at most one).
CREATE OR REPLACE TEMP TABLE assignmentUnits AS
WITH programmeAssignments AS (
  SELECT rid, programme, arm, start_date AS assigned_on
  FROM linkedInterventions
  WHERE arm IN ('treatment', 'control')
  QUALIFY row_number() OVER (PARTITION BY rid, programme ORDER BY start_date, arm) = 1
),
coveringSpells AS (
  SELECT a.*, s.spell_no, s.end_date, s.outflow, s.durable, plusMonths(a.assigned_on, ${endsWithinMonths}) AS ends_within_date
  FROM programmeAssignments a
  LEFT JOIN spellFacts s ON s.rid = a.rid AND s.start_date <= a.assigned_on AND coalesce(s.end_date, DATE '9999-12-31') >= a.assigned_on
),
endings AS (
  SELECT *,
    CASE
      WHEN spell_no IS NULL THEN NULL
      WHEN outflow AND end_date <= ends_within_date THEN true
      WHEN ends_within_date <= ${observationEnd} THEN false
    END AS ended_within
  FROM coveringSpells
)
SELECT rid, programme, CAST(year(assigned_on) AS VARCHAR) AS cohort, arm,
  spell_no IS NOT NULL AS on_benefit,
  ended_within,
  -- Durable outflow within the months: unknown while the ending or its durability is.
  CASE WHEN ended_within IS NULL THEN NULL WHEN NOT ended_within THEN false ELSE durable END AS durable_outflow
FROM endings;
