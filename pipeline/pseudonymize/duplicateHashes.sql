-- Hashes shared by two or more rows of one input: the candidates for exact duplicates (the caller compares those
-- rows column by column, since different rows may share a hash). Run only when the profile (fileProfile.sql) found
-- repeated hashes.
-- ${table}: the result table; ${hashes}: a query with one column h, the hash of every canonical column of each row.
CREATE OR REPLACE TEMP TABLE ${table} AS
WITH neighbours AS (
  SELECT h, lag(h) OVER (ORDER BY h) AS previous FROM (${hashes})
)
SELECT DISTINCT h FROM neighbours WHERE h = previous;
