-- DESIGN.md "Canonical BSN", in SQL, over the *distinct* raw BSN values of all
-- inputs (the same rules as schemas/bsn.ts parseBsn, tested equal to it):
-- strip spaces, dots and hyphens; 8 digits get their lost leading zero back;
-- then 9 digits, not 000000000, passing the elfproef.
-- ${rawValues}: a query with one VARCHAR column `raw` ('' for a missing BSN).
CREATE OR REPLACE TEMP TABLE bsn_canonical AS
WITH rawValues AS (
  SELECT DISTINCT raw FROM (${rawValues})
),
stripped AS (
  SELECT raw, regexp_replace(raw, '[\s\x{0B}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}.\-]', '', 'g') AS digits
  FROM rawValues
),
padded AS (
  SELECT raw, digits, CASE WHEN length(digits) = 8 THEN '0' || digits ELSE digits END AS bsn
  FROM stripped
),
checked AS (
  SELECT raw, bsn, length(digits) = 8 AS repaired,
    CASE
      WHEN digits = '' THEN 'missing'
      WHEN NOT regexp_full_match(digits, '[0-9]+') THEN 'not_digits'
      WHEN length(bsn) <> 9 THEN 'wrong_length'
      WHEN bsn = '000000000' THEN 'all_zero'
      WHEN (9 * (ord(bsn[1]) - 48) + 8 * (ord(bsn[2]) - 48) + 7 * (ord(bsn[3]) - 48) + 6 * (ord(bsn[4]) - 48)
          + 5 * (ord(bsn[5]) - 48) + 4 * (ord(bsn[6]) - 48) + 3 * (ord(bsn[7]) - 48) + 2 * (ord(bsn[8]) - 48)
          - (ord(bsn[9]) - 48)) % 11 <> 0 THEN 'elfproef'
      WHEN length(digits) = 8 THEN 'repaired'
      ELSE 'valid'
    END AS status
  FROM padded
)
SELECT raw, status, CASE WHEN status IN ('valid', 'repaired') THEN bsn END AS bsn
FROM checked;
