-- One row per benefit spell with everything docs/design.md ("Metric definitions")
-- says about it. T = ${observationEnd}. Comments say why; the definitions
-- themselves are in docs/design.md and the definitions file.
CREATE OR REPLACE TEMP TABLE spellFacts AS
WITH
-- The running end of everything before a period, per person in start order;
-- an ongoing period (no end) runs forever, so everything after it joins it.
periodsInOrder AS (
  SELECT rid, municipality, benefit_type, start_date, end_date,
    max(coalesce(end_date, DATE '9999-12-31')) OVER (
      PARTITION BY rid ORDER BY start_date, end_date NULLS LAST, municipality, benefit_type
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS running_end
  FROM benefitPeriods
),
-- A period opens a new spell when it starts more than the gap after the running end
-- (start − running end ≤ gap merges; overlaps give a negative difference and merge).
spellBoundaries AS (
  SELECT *, CASE WHEN running_end IS NULL OR start_date - running_end > ${spellGapDays} THEN 1 ELSE 0 END AS opens_spell
  FROM periodsInOrder
),
periodsInSpells AS (
  SELECT *,
    CAST(sum(opens_spell) OVER (
      PARTITION BY rid ORDER BY start_date, end_date NULLS LAST, municipality, benefit_type
      ROWS UNBOUNDED PRECEDING
    ) AS INTEGER) AS spell_no
  FROM spellBoundaries
),
-- Type and municipality come from the longest period; an ongoing one is measured up to T.
-- Ties: the earliest, then by name, so the answer never depends on row order.
longestPeriod AS (
  SELECT rid, spell_no, municipality, benefit_type
  FROM periodsInSpells
  QUALIFY row_number() OVER (
    PARTITION BY rid, spell_no
    ORDER BY coalesce(end_date, greatest(${observationEnd}, start_date)) - start_date DESC, start_date, municipality, benefit_type
  ) = 1
),
benefitSpells AS (
  SELECT rid, spell_no, min(start_date) AS start_date,
    CASE WHEN bool_or(end_date IS NULL) THEN NULL ELSE max(end_date) END AS end_date
  FROM periodsInSpells
  GROUP BY rid, spell_no
),
-- Outflow: E ≤ T. H = E + horizon months is where durability is judged.
outflows AS (
  SELECT s.rid, s.spell_no, s.start_date, s.end_date, l.municipality, l.benefit_type,
    coalesce(s.end_date <= ${observationEnd}, false) AS outflow,
    CASE WHEN s.end_date <= ${observationEnd} THEN plusMonths(s.end_date, ${durabilityHorizonMonths}) END AS horizon_date
  FROM benefitSpells s
  JOIN longestPeriod l ON l.rid = s.rid AND l.spell_no = s.spell_no
),
jobsAroundOutflow AS (
  SELECT o.rid, o.spell_no, j.employer_id, j.start_date, j.end_date, j.contract_type, j.hours_per_week, j.hourly_wage
  FROM outflows o
  JOIN linkedJobs j ON j.rid = o.rid
    AND j.start_date BETWEEN o.end_date - ${workDaysBefore} AND o.end_date + ${workDaysAfter}
  WHERE o.outflow
),
-- Earliest start; ties by more hours, then employer_id (then the rest, for a stable answer).
firstJobAfterOutflow AS (
  SELECT *
  FROM jobsAroundOutflow
  QUALIFY row_number() OVER (
    PARTITION BY rid, spell_no
    ORDER BY start_date, hours_per_week DESC NULLS LAST, employer_id NULLS LAST, end_date NULLS LAST, contract_type, hourly_wage
  ) = 1
),
-- Another spell of the person starts in (E, H].
revolvingDoor AS (
  SELECT DISTINCT o.rid, o.spell_no
  FROM outflows o
  JOIN benefitSpells later ON later.rid = o.rid AND later.start_date > o.end_date AND later.start_date <= o.horizon_date
  WHERE o.outflow
),
-- Some job (any, not only the first) covers day H.
jobCoveringHorizon AS (
  SELECT DISTINCT o.rid, o.spell_no
  FROM outflows o
  JOIN linkedJobs j ON j.rid = o.rid AND j.start_date <= o.horizon_date AND coalesce(j.end_date, DATE '9999-12-31') >= o.horizon_date
  WHERE o.outflow
),
-- Wages compare in DOUBLE, as the hourly wage is one: WML ≤ w ≤ factor × WML is "near".
jobQuality AS (
  SELECT f.rid, f.spell_no,
    f.contract_type AS first_contract_type,
    f.hours_per_week AS first_hours,
    f.hourly_wage AS first_hourly_wage,
    f.hours_per_week < ${partTimeHoursBelow} AS first_part_time,
    f.hours_per_week < ${smallJobHoursBelow} AS first_small_job,
    CASE
      WHEN f.hourly_wage IS NULL OR wml.wml_hourly IS NULL THEN NULL
      WHEN f.hourly_wage < CAST(wml.wml_hourly AS DOUBLE) THEN 'below'
      WHEN f.hourly_wage <= CAST(${wageBandNearFactor} AS DOUBLE) * CAST(wml.wml_hourly AS DOUBLE) THEN 'near'
      ELSE 'above'
    END AS first_wage_band,
    CAST(year(f.start_date) AS INTEGER) AS first_start_year,
    wml.wml_hourly IS NULL AS first_wml_missing,
    -- Lasted when it ran its months; with no end yet it has only once those months fit before T.
    CASE
      WHEN f.end_date IS NOT NULL THEN f.end_date >= plusMonths(f.start_date, ${jobLastedMonths})
      WHEN plusMonths(f.start_date, ${jobLastedMonths}) <= ${observationEnd} THEN true
    END AS first_lasted_12m
  FROM firstJobAfterOutflow f
  LEFT JOIN ${minimumWage} wml ON wml.wml_year = year(f.start_date)
),
personFacts AS (
  SELECT rid, birth_month, sex
  FROM linkedPersons
  QUALIFY row_number() OVER (PARTITION BY rid ORDER BY birth_month NULLS LAST, sex NULLS LAST) = 1
),
-- District and household type are those the spell's municipality records for the person.
clientFacts AS (
  SELECT rid, municipality, birth_month, sex, district, household_type
  FROM linkedClients
  QUALIFY row_number() OVER (
    PARTITION BY rid, municipality
    ORDER BY district NULLS LAST, household_type NULLS LAST, birth_month NULLS LAST, sex NULLS LAST
  ) = 1
),
-- Ladder step and programme arm as last recorded by an intervention starting within the spell.
spellInterventions AS (
  SELECT o.rid, o.spell_no,
    arg_max(i.ladder_step, (i.start_date, i.ladder_step)) FILTER (WHERE i.ladder_step IS NOT NULL) AS ladder_step,
    arg_max(i.arm, (i.start_date, i.arm)) FILTER (WHERE i.arm IN ('treatment', 'control')) AS arm
  FROM outflows o
  JOIN linkedInterventions i ON i.rid = o.rid
    AND i.start_date >= o.start_date AND i.start_date <= coalesce(o.end_date, greatest(${observationEnd}, o.start_date))
  GROUP BY o.rid, o.spell_no
),
spellsWithPerson AS (
  SELECT o.*,
    coalesce(p.birth_month, c.birth_month) AS birth_month,
    coalesce(p.sex, c.sex) AS sex,
    c.district, c.household_type,
    i.ladder_step, coalesce(i.arm, 'none') AS arm,
    plusMonths(o.start_date, ${endsWithinMonths}) AS ends_within_date
  FROM outflows o
  LEFT JOIN personFacts p ON p.rid = o.rid
  LEFT JOIN clientFacts c ON c.rid = o.rid AND c.municipality = o.municipality
  LEFT JOIN spellInterventions i ON i.rid = o.rid AND i.spell_no = o.spell_no
)
SELECT
  s.rid, s.spell_no, s.municipality, s.benefit_type, s.start_date, s.end_date,
  -- Age on E for an outflow, otherwise on the spell start (docs/design.md, "Metric definitions").
  CASE WHEN s.outflow THEN ageOn(s.birth_month, s.end_date) ELSE ageOn(s.birth_month, s.start_date) END AS age,
  ageOn(s.birth_month, s.start_date) AS age_at_start,
  CASE WHEN s.outflow THEN ageOn(s.birth_month, s.end_date) END AS age_at_end,
  s.outflow,
  CASE WHEN s.outflow THEN CAST(year(s.end_date) AS INTEGER) END AS outflow_year,
  CAST(year(s.start_date) AS INTEGER) AS inflow_year,
  CASE WHEN s.outflow THEN wholeMonths(s.start_date, s.end_date) END AS duration_months,
  s.horizon_date,
  CASE WHEN s.outflow THEN q.rid IS NOT NULL END AS to_work,
  -- Censored: H past T. Such outflows get no revolving/durable verdict at all.
  CASE WHEN s.outflow THEN s.horizon_date > ${observationEnd} END AS censored,
  CASE WHEN s.outflow AND s.horizon_date <= ${observationEnd} THEN r.rid IS NOT NULL END AS revolving,
  CASE WHEN s.outflow AND s.horizon_date <= ${observationEnd} THEN q.rid IS NOT NULL AND r.rid IS NULL AND h.rid IS NOT NULL END AS durable,
  q.first_contract_type, q.first_hours, q.first_hourly_wage, q.first_wage_band,
  q.first_part_time, q.first_small_job, q.first_lasted_12m, q.first_start_year, q.first_wml_missing,
  s.sex, s.district, s.household_type, s.ladder_step, s.arm,
  -- Ends within the months after its own start (the age comparison of the effects); NULL while unknown at T.
  CASE
    WHEN s.outflow AND s.end_date <= s.ends_within_date THEN true
    WHEN s.ends_within_date <= ${observationEnd} THEN false
  END AS ended_within_from_start
FROM spellsWithPerson s
LEFT JOIN jobQuality q ON q.rid = s.rid AND q.spell_no = s.spell_no
LEFT JOIN revolvingDoor r ON r.rid = s.rid AND r.spell_no = s.spell_no
LEFT JOIN jobCoveringHorizon h ON h.rid = s.rid AND h.spell_no = s.spell_no;
