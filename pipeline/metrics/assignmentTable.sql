-- One aggregate table over programme assignments: ${dimensions}. The units are
-- the trial's population: first assignments made while the person was on
-- benefit (tableCatalogue.ts says why the others are left out).
COPY (
  WITH trialAssignments AS (
    SELECT * FROM assignmentUnits WHERE on_benefit
  ),
  assignmentCells AS (
    SELECT ${cellDimensions},
      count(*) AS on_benefit,
      count(DISTINCT u.rid) AS persons,
      count(u.ended_within) AS ended_known,
      count(*) FILTER (WHERE u.ended_within) AS ended_within_12m,
      count(*) FILTER (WHERE u.ended_within IS NULL) AS ended_censored,
      count(u.durable_outflow) AS durable_known,
      count(*) FILTER (WHERE u.durable_outflow) AS durable_outflow,
      count(*) FILTER (WHERE u.durable_outflow IS NULL) AS durable_censored
    FROM trialAssignments u
    GROUP BY GROUPING SETS (${groupingSets})
  )
  SELECT e.*,
    coalesce(c.on_benefit, 0)::BIGINT AS on_benefit,
    coalesce(c.ended_known, 0)::BIGINT AS ended_known,
    coalesce(c.ended_within_12m, 0)::BIGINT AS ended_within_12m,
    coalesce(c.ended_censored, 0)::BIGINT AS ended_censored,
    coalesce(c.durable_known, 0)::BIGINT AS durable_known,
    coalesce(c.durable_outflow, 0)::BIGINT AS durable_outflow,
    coalesce(c.durable_censored, 0)::BIGINT AS durable_censored,
    coalesce(c.persons, 0)::BIGINT AS persons
  FROM (${everyCombination}) e
  LEFT JOIN assignmentCells c USING (${dimensions})
  ORDER BY ${orderBy}
) TO ${path} (FORMAT parquet, COMPRESSION zstd);
