-- DESIGN.md "Canonical BSN", in SQL, over the *distinct* raw BSN values of all
-- inputs (the same rules as schemas/bsn.ts parseBsn, tested equal to it):
-- strip spaces, dots and hyphens; 8 digits get their lost leading zero back;
-- then 9 digits, not 000000000, passing the elfproef.
-- ${rawValues}: a query with one VARCHAR column `raw` of distinct values ('' for a missing BSN).
CREATE OR REPLACE TEMP TABLE bsn_canonical AS
WITH rawValues AS (
  SELECT raw FROM (${rawValues})
),
-- Nearly every delivered value is nine plain digits already: only the others go through the (costlier) stripping.
stripped AS (
  SELECT raw,
    CASE WHEN regexp_full_match(raw, '[0-9]{9}') THEN raw
         ELSE regexp_replace(raw, '[\s\x{0B}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}.\-]', '', 'g')
    END AS digits
  FROM rawValues
),
padded AS (
  SELECT raw, digits, CASE WHEN length(digits) = 8 THEN '0' || digits ELSE digits END AS bsn
  FROM stripped
),
-- The elfproef on the number rather than on nine one-character substrings: digit i is (n // 10^(9-i)) % 10.
numbered AS (
  SELECT raw, digits, bsn, TRY_CAST(bsn AS INTEGER) AS n
  FROM padded
),
checked AS (
  SELECT raw, bsn,
    CASE
      WHEN digits = '' THEN 'missing'
      WHEN NOT regexp_full_match(digits, '[0-9]+') THEN 'not_digits'
      WHEN length(bsn) <> 9 THEN 'wrong_length'
      WHEN bsn = '000000000' THEN 'all_zero'
      WHEN (9 * (n // 100000000) + 8 * ((n // 10000000) % 10) + 7 * ((n // 1000000) % 10) + 6 * ((n // 100000) % 10)
          + 5 * ((n // 10000) % 10) + 4 * ((n // 1000) % 10) + 3 * ((n // 100) % 10) + 2 * ((n // 10) % 10)
          - n % 10) % 11 <> 0 THEN 'elfproef'
      WHEN length(digits) = 8 THEN 'repaired'
      ELSE 'valid'
    END AS status
  FROM numbered
)
SELECT raw, status, CASE WHEN status IN ('valid', 'repaired') THEN bsn END AS bsn
FROM checked;
