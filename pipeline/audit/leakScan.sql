-- One read of one file's cells: per column, the cells holding BSN-like values
-- (9 digits passing the elfproef, 8 digits passing once padded) and the
-- pseudonym-shaped tokens, with how many of them are source pseudonyms (P1,
-- F1) or RIDs of this run, by one join against audit_pseudonym. Counts only;
-- the values themselves never leave this query.
-- cells (filled in): the scanned text values as (column_name, cell, n), n the
--   number of cells holding the value: a long file's values grouped per column
--   (a repeated value is examined once and counted as often as it occurs), a
--   short file's cells one by one with n = 1.
-- bsnColumns, pseudonymColumns (filled in): SQL lists of the column names each search covers.
WITH cells AS (
  ${cells}
),
bsnValues AS (
  SELECT column_name, n, audit_bsn_values(cell) AS found
  FROM cells
  WHERE list_contains(${bsnColumns}, column_name) AND audit_may_hold_bsn(cell)
),
bsnCounts AS (
  SELECT column_name,
         sum(n) FILTER (WHERE list_bool_or(list_transform(found, d -> length(d) = 9))) AS cells_nine_digits,
         sum(n) FILTER (WHERE list_bool_or(list_transform(found, d -> length(d) = 8))) AS cells_eight_digits
  FROM bsnValues
  WHERE len(found) > 0
  GROUP BY column_name
),
pseudonymTokens AS (
  SELECT column_name, n, unnest(audit_hex32_values(cell)) AS token
  FROM cells
  WHERE list_contains(${pseudonymColumns}, column_name) AND audit_may_hold_hex32(cell)
),
pseudonymCounts AS (
  SELECT t.column_name,
         sum(t.n) FILTER (WHERE p.is_p1) AS p1_values,
         sum(t.n) FILTER (WHERE p.is_f1) AS f1_values,
         sum(t.n) FILTER (WHERE p.is_rid) AS rid_values,
         sum(t.n) AS pseudonym_shaped
  FROM pseudonymTokens t LEFT JOIN audit_pseudonym p ON p.v = t.token
  GROUP BY t.column_name
)
SELECT column_name,
       coalesce(b.cells_nine_digits, 0) AS cells_nine_digits,
       coalesce(b.cells_eight_digits, 0) AS cells_eight_digits,
       coalesce(p.p1_values, 0) AS p1_values,
       coalesce(p.f1_values, 0) AS f1_values,
       coalesce(p.rid_values, 0) AS rid_values,
       coalesce(p.pseudonym_shaped, 0) AS pseudonym_shaped
FROM bsnCounts b FULL OUTER JOIN pseudonymCounts p USING (column_name)
ORDER BY column_name
