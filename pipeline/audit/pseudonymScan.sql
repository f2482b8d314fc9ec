-- Cells of one file holding a source pseudonym (P1, F1) or a RID of this run,
-- per column, by an anti-join-style semi-join against the values collected from
-- the source and link outputs. Counts only.
-- ${cells}: a SELECT of the file's text columns, each cast to VARCHAR.
WITH cells AS (
  UNPIVOT (${cells}) ON COLUMNS(*) INTO NAME column_name VALUE cell
),
pseudonymTokens AS (
  SELECT column_name, unnest(audit_hex32_values(cell)) AS token FROM cells
)
SELECT column_name,
       count(*) FILTER (WHERE token IN (SELECT v FROM audit_source_p1)) AS p1_values,
       count(*) FILTER (WHERE token IN (SELECT v FROM audit_source_f1)) AS f1_values,
       count(*) FILTER (WHERE token IN (SELECT v FROM audit_link_rid)) AS rid_values,
       count(*) AS pseudonym_shaped
FROM pseudonymTokens
GROUP BY column_name
ORDER BY column_name
