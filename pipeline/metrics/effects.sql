-- Treatment − control differences with a 95% confidence interval (normal
-- approximation for a difference of two proportions), per programme and
-- assignment year, and for the youth-desk boundary: ages just below it against
-- just above it at spell start. Censored units are left out of n and counted.
COPY (
  WITH
  effectUnits AS (
    SELECT 'programme' AS design, programme AS comparison, cohort, arm AS effect_group, rid,
      ended_within, durable_outflow
    FROM assignmentUnits
    WHERE on_benefit
    UNION ALL
    SELECT 'age_discontinuity', 'youth_desk_${youthBoundaryAge}', CAST(inflow_year AS VARCHAR),
      CASE WHEN age_at_start < ${youthBoundaryAge} THEN 'treatment' ELSE 'control' END,
      rid,
      ended_within_from_start,
      CASE WHEN ended_within_from_start IS NULL THEN NULL WHEN NOT ended_within_from_start THEN false ELSE durable END
    FROM spellFacts
    WHERE age_at_start BETWEEN ${youthBoundaryAge} - ${discontinuityYears} AND ${youthBoundaryAge} + ${discontinuityYears} - 1
  ),
  outcomes AS (
    SELECT design, comparison, cohort, effect_group, rid, 'ended_within_${endsWithinMonths}m' AS outcome, ended_within AS achieved FROM effectUnits
    UNION ALL
    SELECT design, comparison, cohort, effect_group, rid, 'durable_outflow', durable_outflow FROM effectUnits
  ),
  groupCells AS (
    SELECT design, comparison,
      CASE WHEN grouping(cohort) = 1 THEN 'Total' ELSE cohort END AS cohort,
      outcome, effect_group,
      count(achieved) AS n,
      count(*) FILTER (WHERE achieved) AS x,
      count(*) FILTER (WHERE achieved IS NULL) AS censored,
      count(DISTINCT rid) FILTER (WHERE achieved IS NOT NULL) AS persons
    FROM outcomes
    GROUP BY GROUPING SETS ((design, comparison, cohort, outcome, effect_group), (design, comparison, outcome, effect_group))
  ),
  comparisons AS (
    SELECT DISTINCT design, comparison, cohort, outcome FROM groupCells
  ),
  paired AS (
    SELECT k.design, k.comparison, k.cohort, k.outcome,
      CASE WHEN k.design = 'programme' THEN 'treatment' ELSE ${youngerLabel} END AS group_treatment,
      CASE WHEN k.design = 'programme' THEN 'control' ELSE ${olderLabel} END AS group_control,
      coalesce(t.n, 0)::BIGINT AS n_treatment,
      coalesce(t.x, 0)::BIGINT AS x_treatment,
      coalesce(t.censored, 0)::BIGINT AS censored_treatment,
      coalesce(t.persons, 0)::BIGINT AS persons_treatment,
      coalesce(c.n, 0)::BIGINT AS n_control,
      coalesce(c.x, 0)::BIGINT AS x_control,
      coalesce(c.censored, 0)::BIGINT AS censored_control,
      coalesce(c.persons, 0)::BIGINT AS persons_control
    FROM comparisons k
    LEFT JOIN groupCells t ON t.design = k.design AND t.comparison = k.comparison AND t.cohort = k.cohort AND t.outcome = k.outcome AND t.effect_group = 'treatment'
    LEFT JOIN groupCells c ON c.design = k.design AND c.comparison = k.comparison AND c.cohort = k.cohort AND c.outcome = k.outcome AND c.effect_group = 'control'
  ),
  shares AS (
    SELECT *,
      CASE WHEN n_treatment > 0 THEN x_treatment / n_treatment END::DOUBLE AS share_treatment,
      CASE WHEN n_control > 0 THEN x_control / n_control END::DOUBLE AS share_control
    FROM paired
  ),
  estimates AS (
    SELECT *,
      share_treatment - share_control AS difference,
      sqrt(share_treatment * (1 - share_treatment) / n_treatment + share_control * (1 - share_control) / n_control) AS standard_error
    FROM shares
  )
  SELECT design, comparison, cohort, outcome, group_treatment, group_control,
    n_treatment, x_treatment, share_treatment, censored_treatment, persons_treatment,
    n_control, x_control, share_control, censored_control, persons_control,
    difference, standard_error,
    difference - 1.959963984540054 * standard_error AS ci_low,
    difference + 1.959963984540054 * standard_error AS ci_high
  FROM estimates
  ORDER BY design DESC, comparison, cohort = 'Total', cohort, outcome
) TO ${path} (FORMAT parquet, COMPRESSION zstd);
