-- Identifier shapes the audit looks for, as DuckDB macros (the canonical BSN of
-- docs/design.md, "Key hierarchy and pseudonyms").
-- Written here, in SQL, independently of the stages' TypeScript BSN code.

-- Elfproef on a 9-digit string: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11), and not all zeros.
CREATE OR REPLACE MACRO audit_elfproef(d) AS
  d <> '000000000'
  AND ( 9 * CAST(substr(d, 1, 1) AS INTEGER) + 8 * CAST(substr(d, 2, 1) AS INTEGER)
      + 7 * CAST(substr(d, 3, 1) AS INTEGER) + 6 * CAST(substr(d, 4, 1) AS INTEGER)
      + 5 * CAST(substr(d, 5, 1) AS INTEGER) + 4 * CAST(substr(d, 6, 1) AS INTEGER)
      + 3 * CAST(substr(d, 7, 1) AS INTEGER) + 2 * CAST(substr(d, 8, 1) AS INTEGER)
      - CAST(substr(d, 9, 1) AS INTEGER) ) % 11 = 0;

-- A run of digits that would be accepted as a BSN: 9 digits passing the elfproef,
-- or 8 digits that pass once the lost leading zero is put back.
CREATE OR REPLACE MACRO audit_bsn_like(d) AS
  length(d) IN (8, 9) AND audit_elfproef(lpad(d, 9, '0'));

-- Text with pseudonym-shaped hex (P1, F1, RID, checksums) and UUIDs blanked out,
-- so that a digit run inside a hex string is not taken for a BSN.
CREATE OR REPLACE MACRO audit_unhexed(cell) AS
  regexp_replace(cell, '[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{16,}', ' ', 'g');

-- Candidate BSNs in a cell: every bare digit run, and a BSN written in groups
-- (123 456 782, 1234.56.782, 123-45-6782): three or four groups of 2–4 digits
-- with one kind of separator. Looser shapes are not taken: an age band next to
-- a year ('18-26 2016'), a year range ('2015-2024') or a date ('01.05.2019')
-- would otherwise read as an 8-digit number.
CREATE OR REPLACE MACRO audit_digit_candidates(text) AS
  list_concat(
    regexp_extract_all(text, '[0-9]+'),
    list_transform(
      list_filter(
        regexp_extract_all(text, '[0-9]+(?:[ .\-][0-9]+)+'),
        t -> regexp_full_match(t, '[0-9]{2,4}(?:\.[0-9]{2,4}){2,3}|[0-9]{2,4}(?: [0-9]{2,4}){2,3}|[0-9]{2,4}(?:-[0-9]{2,4}){2,3}')
          AND NOT regexp_full_match(t, '[0-9]{4}[ .\-][0-9]{2}[ .\-][0-9]{2}|[0-9]{2}[ .\-][0-9]{2}[ .\-][0-9]{4}')
      ),
      t -> regexp_replace(t, '[ .\-]', '', 'g')
    )
  );

-- The BSN-like values in a cell (8-digit ones still without their leading zero).
-- The length test runs first on its own: a lambda evaluates all of its
-- conditions for every element, and a page of figures has tens of thousands
-- of short digit runs for which the elfproef's arithmetic is wasted.
CREATE OR REPLACE MACRO audit_bsn_values(cell) AS
  list_filter(list_filter(audit_digit_candidates(audit_unhexed(cell)), d -> length(d) IN (8, 9)), d -> audit_bsn_like(d));

-- Pseudonym-shaped tokens in a cell: exactly 32 hex characters, lower-cased.
CREATE OR REPLACE MACRO audit_hex32_values(cell) AS
  list_transform(list_filter(regexp_extract_all(cell, '[0-9A-Fa-f]{32,}'), t -> length(t) = 32), t -> lower(t));

-- Whether a cell can hold a BSN-like value at all, cheaply, before the costly
-- extraction above: every candidate is 8 or 9 digits of the cell, and a cell
-- that is one hex run (a pseudonym, a checksum) is blanked out whole by
-- audit_unhexed. Never false for a cell in which audit_bsn_values finds one.
CREATE OR REPLACE MACRO audit_may_hold_bsn(cell) AS
  length(cell) >= 8
  AND regexp_matches(cell, '[0-9](?:[^0-9]*[0-9]){7}')
  AND NOT regexp_full_match(cell, '[0-9A-Fa-f]{16,}');

-- Whether a cell can hold a pseudonym-shaped token (32 hex characters).
CREATE OR REPLACE MACRO audit_may_hold_hex32(cell) AS
  length(cell) >= 32;
