-- Hashes shared by two or more rows of one input: the candidates for exact duplicates (the caller compares those
-- rows column by column, since different rows may share a hash).
-- Sorted, equal hashes are neighbours: a sort of the 64-bit hashes costs about half of grouping millions of
-- distinct ones (measured on 5.4M jobs rows), and spills as well at national scale.
-- ${table}: the result table; ${relation}: the input rows (alias s); ${columns}: every canonical column of s.
CREATE OR REPLACE TEMP TABLE ${table} AS
WITH hashed AS (
  SELECT hash(${columns}) AS h FROM ${relation} s
),
neighbours AS (
  SELECT h, lag(h) OVER (ORDER BY h) AS previous FROM hashed
)
SELECT DISTINCT h FROM neighbours WHERE h = previous;
