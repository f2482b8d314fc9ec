-- One aggregate table over outflows: ${dimensions}. Every combination of the
-- dimensions' values and 'Total' is a row; cells without units hold 0.
COPY (
  WITH outflowCells AS (
    SELECT ${cellDimensions},
      count(*) AS spells,
      count(DISTINCT u.rid) AS persons,
      count(*) FILTER (WHERE u.to_work) AS to_work,
      count(*) FILTER (WHERE u.censored) AS censored,
      count(*) FILTER (WHERE NOT u.censored) AS uncensored,
      count(*) FILTER (WHERE u.revolving) AS revolving,
      count(*) FILTER (WHERE u.durable) AS durable,
      count(*) FILTER (WHERE u.first_part_time) AS first_part_time,
      count(*) FILTER (WHERE u.first_small_job) AS first_small_job,
      count(*) FILTER (WHERE u.first_wage_band = 'below') AS first_wage_below,
      count(*) FILTER (WHERE u.first_wage_band = 'near') AS first_wage_near,
      count(*) FILTER (WHERE u.first_wage_band = 'above') AS first_wage_above,
      count(*) FILTER (WHERE u.to_work AND u.first_wage_band IS NULL) AS first_wage_unknown,
      count(u.first_lasted_12m) AS first_lasted_known,
      count(*) FILTER (WHERE u.first_lasted_12m) AS first_lasted_12m,
      count(*) FILTER (WHERE u.to_work AND u.first_lasted_12m IS NULL) AS first_lasted_censored,
      count(u.first_hourly_wage) AS wage_n,
      -- Summed as DECIMAL: a DOUBLE sum depends on the threads' order, and the same inputs must give byte-identical tables.
      sum(u.first_hourly_wage::DECIMAL(18, 6))::DOUBLE AS wage_sum,
      max(u.first_hourly_wage, 2) AS wage_top,
      count(u.first_hours) AS hours_n,
      sum(u.first_hours::DECIMAL(18, 6))::DOUBLE AS hours_sum,
      max(u.first_hours, 2) AS hours_top
    FROM outflowUnits u
    GROUP BY GROUPING SETS (${groupingSets})
  )
  SELECT e.*,
    coalesce(c.spells, 0)::BIGINT AS spells,
    coalesce(c.to_work, 0)::BIGINT AS to_work,
    coalesce(c.censored, 0)::BIGINT AS censored,
    coalesce(c.uncensored, 0)::BIGINT AS uncensored,
    coalesce(c.revolving, 0)::BIGINT AS revolving,
    coalesce(c.durable, 0)::BIGINT AS durable,
    coalesce(c.first_part_time, 0)::BIGINT AS first_part_time,
    coalesce(c.first_small_job, 0)::BIGINT AS first_small_job,
    coalesce(c.first_wage_below, 0)::BIGINT AS first_wage_below,
    coalesce(c.first_wage_near, 0)::BIGINT AS first_wage_near,
    coalesce(c.first_wage_above, 0)::BIGINT AS first_wage_above,
    coalesce(c.first_wage_unknown, 0)::BIGINT AS first_wage_unknown,
    coalesce(c.first_lasted_known, 0)::BIGINT AS first_lasted_known,
    coalesce(c.first_lasted_12m, 0)::BIGINT AS first_lasted_12m,
    coalesce(c.first_lasted_censored, 0)::BIGINT AS first_lasted_censored,
    CASE WHEN c.wage_n > 0 THEN c.wage_sum / c.wage_n END::DOUBLE AS mean_hourly_wage,
    CASE WHEN c.hours_n > 0 THEN c.hours_sum / c.hours_n END::DOUBLE AS mean_hours,
    coalesce(c.persons, 0)::BIGINT AS persons,
    coalesce(c.wage_n, 0)::BIGINT AS wage_n,
    coalesce(c.wage_sum, 0)::DOUBLE AS wage_sum,
    c.wage_top[1]::DOUBLE AS wage_top1,
    c.wage_top[2]::DOUBLE AS wage_top2,
    coalesce(c.hours_n, 0)::BIGINT AS hours_n,
    coalesce(c.hours_sum, 0)::DOUBLE AS hours_sum,
    c.hours_top[1]::DOUBLE AS hours_top1,
    c.hours_top[2]::DOUBLE AS hours_top2
  FROM (${everyCombination}) e
  LEFT JOIN outflowCells c USING (${dimensions})
  ORDER BY ${orderBy}
) TO ${path} (FORMAT parquet, COMPRESSION zstd);
