-- One input's profile in a single scan: rows per BSN status code, how many of them break a schema rule, and how many
-- rows share their hash with another (the candidates for exact duplicates, compared column by column only if any).
-- Sorted, equal hashes are neighbours: a sort of the 64-bit hashes costs about half of grouping millions of distinct
-- ones, and spills as well at national scale. Status and rule travel through the sort, so no table of 168M rows is
-- materialised in between (the holder's stage at national: peak 6.7 → 6.0 GiB; its wall time did not move measurably).
-- ${table}: the result; ${rows}: the file's rows aliased s; ${code}, ${failing}, ${hash}: expressions over s.
CREATE OR REPLACE TEMP TABLE ${table} AS
WITH profiled AS (
  SELECT ${code} AS code, ${failing} AS failing, ${hash} AS h FROM ${rows} s
),
neighbours AS (
  SELECT code, failing, h, lag(h) OVER (ORDER BY h) AS previous FROM profiled
)
SELECT code, count(*) AS n, count(*) FILTER (WHERE failing) AS failing, count(*) FILTER (WHERE h = previous) AS repeated
FROM neighbours
GROUP BY code;
