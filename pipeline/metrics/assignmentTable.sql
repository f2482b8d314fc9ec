-- One aggregate table over programme assignments: ${dimensions}.
COPY (
  WITH assignmentCells AS (
    SELECT ${cellDimensions},
      count(*) AS assigned,
      count(DISTINCT u.rid) AS persons,
      count(*) FILTER (WHERE u.on_benefit) AS on_benefit,
      count(u.ended_within) AS ended_known,
      count(*) FILTER (WHERE u.ended_within) AS ended_within_12m,
      count(*) FILTER (WHERE u.on_benefit AND u.ended_within IS NULL) AS ended_censored,
      count(u.durable_outflow) AS durable_known,
      count(*) FILTER (WHERE u.durable_outflow) AS durable_outflow,
      count(*) FILTER (WHERE u.on_benefit AND u.durable_outflow IS NULL) AS durable_censored
    FROM assignmentUnits u
    GROUP BY GROUPING SETS (${groupingSets})
  )
  SELECT e.*,
    coalesce(c.assigned, 0)::BIGINT AS assigned,
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
