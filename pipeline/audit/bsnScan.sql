-- Cells of one file holding BSN-like values, per column: 9-digit values passing
-- the elfproef, and 8-digit values that pass once padded. Counts only; the
-- values themselves never leave this query.
-- ${cells}: a SELECT of the file's scanned columns, each cast to VARCHAR.
WITH cells AS (
  UNPIVOT (${cells}) ON COLUMNS(*) INTO NAME column_name VALUE cell
),
bsnValues AS (
  SELECT column_name, audit_bsn_values(cell) AS found FROM cells
)
SELECT column_name,
       count(*) FILTER (WHERE list_bool_or(list_transform(found, d -> length(d) = 9))) AS cells_nine_digits,
       count(*) FILTER (WHERE list_bool_or(list_transform(found, d -> length(d) = 8))) AS cells_eight_digits
FROM bsnValues
WHERE len(found) > 0
GROUP BY column_name
ORDER BY column_name
