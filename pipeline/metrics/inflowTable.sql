-- One aggregate table over inflows (all spells, by start): ${dimensions}.
COPY (
  WITH inflowCells AS (
    SELECT ${cellDimensions},
      count(*) AS spells,
      count(DISTINCT u.rid) AS persons,
      count(u.ended_within_from_start) AS known_12m,
      count(*) FILTER (WHERE u.ended_within_from_start) AS ended_within_12m,
      count(*) FILTER (WHERE u.ended_within_from_start IS NULL) AS censored_12m
    FROM inflowUnits u
    GROUP BY GROUPING SETS (${groupingSets})
  )
  SELECT e.*,
    coalesce(c.spells, 0)::BIGINT AS spells,
    coalesce(c.known_12m, 0)::BIGINT AS known_12m,
    coalesce(c.ended_within_12m, 0)::BIGINT AS ended_within_12m,
    coalesce(c.censored_12m, 0)::BIGINT AS censored_12m,
    coalesce(c.persons, 0)::BIGINT AS persons
  FROM (${everyCombination}) e
  LEFT JOIN inflowCells c USING (${dimensions})
  ORDER BY ${orderBy}
) TO ${path} (FORMAT parquet, COMPRESSION zstd);
