-- The municipal exports as the sources deliver them: one row per client,
-- benefit period and re-integration record, rendered with Dutch labels and
-- DD-MM-YYYY dates, then dirtied at the configured rates. Every injected
-- defect is kept (kind, row) for the ledger; rows are numbered as data lines
-- of the file (header excluded, empty lines counted).

-- Fallback fields identify a person only when no one else shares them.
CREATE OR REPLACE TABLE fallback_unique AS
SELECT birth_date, sex, postcode, house_number FROM person GROUP BY ALL HAVING count(*) = 1;

CREATE OR REPLACE TABLE export_base AS
SELECT c.municipality AS source, 'clienten.csv' AS file, c.person_id, 0 AS sort_a, 0 AS sort_b,
  p.bsn AS c1, strftime(c.birth_date, '%d-%m-%Y') AS c2, label_sex(c.sex) AS c3, c.postcode AS c4, c.house_number AS c5,
  c.district AS c6, label_household_type(c.household_type) AS c7,
  NULL::DATE AS start_date, NULL::DATE AS end_date,
  c.home_address AND u.birth_date IS NOT NULL AS fallback_ok
FROM client c
JOIN person p USING (person_id)
LEFT JOIN fallback_unique u ON u.birth_date = c.birth_date AND u.sex = c.sex AND u.postcode = c.postcode AND u.house_number = c.house_number
UNION ALL
SELECT b.municipality, 'uitkeringen.csv', b.person_id, b.spell_no, b.period_no,
  p.bsn, label_benefit_type(b.benefit_type), strftime(b.start_date, '%d-%m-%Y'), coalesce(strftime(b.end_date, '%d-%m-%Y'), ''),
  coalesce(label_end_reason(b.end_reason), ''), NULL, NULL,
  b.start_date, b.end_date, false
FROM period b JOIN person p USING (person_id)
UNION ALL
SELECT i.municipality, 'trajecten.csv', i.person_id, i.spell_no, 10 + i.kind,
  p.bsn, label_programme(i.programme), label_arm(i.arm), i.ladder_step::VARCHAR, strftime(i.start_date, '%d-%m-%Y'),
  coalesce(strftime(i.end_date, '%d-%m-%Y'), ''), NULL,
  i.start_date, i.end_date, false
FROM intervention i JOIN person p USING (person_id);

CREATE OR REPLACE MACRO unparsable_date(u) AS (['31-02-2019', '00-00-0000', 'onbekend', '32-13-2020', '2019/07/15'])[1 + CAST(floor(u * 5) AS INTEGER)];
CREATE OR REPLACE MACRO stray_quote(x) AS (substr(x, 1, 3) || '"' || substr(x, 4));

CREATE OR REPLACE TABLE export_defected AS
WITH keyed AS (
  SELECT *, hash(source, file, person_id, sort_a, sort_b) AS row_key FROM export_base
), drawn AS (
  SELECT *, ${rowDefect} AS drawn_kind FROM keyed
), eligible AS (
  SELECT * EXCLUDE (drawn_kind), CASE
    WHEN drawn_kind = 'lost_leading_zero' AND NOT (c1 LIKE '0%' AND c1 NOT LIKE '00%') THEN NULL
    WHEN drawn_kind = 'missing_bsn' AND NOT (file = 'clienten.csv' AND fallback_ok) THEN NULL
    WHEN drawn_kind = 'end_before_start' AND NOT (file <> 'clienten.csv' AND coalesce(end_date > start_date, false)) THEN NULL
    ELSE drawn_kind END AS kind
  FROM drawn
)
SELECT source, file, person_id, sort_a, sort_b, 0 AS inserted, row_key, kind, start_date, end_date,
  CASE kind
    WHEN 'lost_leading_zero' THEN substr(c1, 2)
    WHEN 'bsn_spaces' THEN substr(c1, 1, 4) || ' ' || substr(c1, 5, 2) || ' ' || substr(c1, 7)
    WHEN 'bsn_dots' THEN substr(c1, 1, 4) || '.' || substr(c1, 5, 2) || '.' || substr(c1, 7)
    -- Changing only the check digit by 1–9 always breaks the elfproef.
    WHEN 'wrong_elfproef' THEN substr(c1, 1, 8) || ((CAST(substr(c1, 9, 1) AS INTEGER) + 1 + draw_days(rnd(row_key, 0, 'wrong-digit'), 9)) % 10)::VARCHAR
    WHEN 'missing_bsn' THEN ''
    ELSE c1 END AS c1,
  CASE WHEN file = 'clienten.csv' AND kind = 'unparsable_date' THEN unparsable_date(rnd(row_key, 0, 'bad-date'))
       WHEN file = 'uitkeringen.csv' AND kind = 'unknown_code' THEN 'WW-uitkering'
       WHEN file = 'uitkeringen.csv' AND kind = 'stray_quote' THEN stray_quote(c2)
       ELSE c2 END AS c2,
  CASE WHEN file = 'uitkeringen.csv' AND kind = 'unparsable_date' THEN unparsable_date(rnd(row_key, 0, 'bad-date'))
       WHEN file = 'uitkeringen.csv' AND kind = 'end_before_start' THEN c4
       WHEN file = 'trajecten.csv' AND kind = 'unknown_code' THEN 'Pilot'
       WHEN file = 'trajecten.csv' AND kind = 'stray_quote' THEN stray_quote(c3)
       ELSE c3 END AS c3,
  CASE WHEN file = 'uitkeringen.csv' AND kind = 'end_before_start' THEN c3 ELSE c4 END AS c4,
  CASE WHEN file = 'trajecten.csv' AND kind = 'unparsable_date' THEN unparsable_date(rnd(row_key, 0, 'bad-date'))
       WHEN file = 'trajecten.csv' AND kind = 'end_before_start' THEN c6
       ELSE c5 END AS c5,
  CASE WHEN file = 'trajecten.csv' AND kind = 'end_before_start' THEN c5 ELSE c6 END AS c6,
  CASE WHEN file = 'clienten.csv' AND kind = 'unknown_code' THEN 'Onbekend'
       WHEN file = 'clienten.csv' AND kind = 'stray_quote' THEN stray_quote(c7)
       ELSE c7 END AS c7
FROM eligible;

-- Insertions after clean rows: exact duplicates, a shorter period inside a
-- benefit period (overlap), and empty lines.
CREATE OR REPLACE TABLE export_row AS
WITH all_rows AS (
  SELECT * FROM export_defected
  UNION ALL
  SELECT * REPLACE (1 AS inserted, 'duplicate_row' AS kind)
  FROM export_defected WHERE kind IS NULL AND rnd(row_key, 0, 'duplicate') < ${duplicateRate}
  UNION ALL
  SELECT * REPLACE (2 AS inserted, 'overlapping_period' AS kind,
    strftime(start_date + 1 + draw_days(rnd(row_key, 0, 'overlap-start'), (end_date - start_date) // 3), '%d-%m-%Y') AS c3,
    strftime(end_date - 1 - draw_days(rnd(row_key, 0, 'overlap-end'), (end_date - start_date) // 3), '%d-%m-%Y') AS c4,
    label_end_reason('other') AS c5)
  FROM export_defected
  WHERE kind IS NULL AND file = 'uitkeringen.csv' AND end_date - start_date >= 30 AND rnd(row_key, 0, 'overlap') < ${overlapRate}
  UNION ALL
  SELECT * REPLACE (3 AS inserted, 'empty_line' AS kind, NULL AS c1, NULL AS c2, NULL AS c3, NULL AS c4, NULL AS c5, NULL AS c6, NULL AS c7)
  FROM export_defected WHERE rnd(row_key, 0, 'empty-line') < ${emptyLineRate}
)
SELECT source, file, person_id, kind,
  row_number() OVER (PARTITION BY source, file ORDER BY person_id, sort_a, sort_b, inserted) AS row,
  CASE WHEN kind = 'empty_line' THEN ''
       WHEN file = 'clienten.csv' THEN concat(c1, ';', c2, ';', c3, ';', c4, ';', c5, ';', c6, ';', c7)
       WHEN file = 'uitkeringen.csv' THEN concat(c1, ';', c2, ';', c3, ';', c4, ';', c5)
       ELSE concat(c1, ';', c2, ';', c3, ';', c4, ';', c5, ';', c6) END AS line
FROM all_rows;

-- Files delivered as UTF-8 with a byte-order mark (Excel's "CSV UTF-8") instead of Windows-1252.
CREATE OR REPLACE TABLE export_file AS
SELECT source, file, rnd(hash(source, file), 0, 'byte-order-mark') < ${byteOrderMarkRate} AS byte_order_mark
FROM export_row GROUP BY source, file ORDER BY source, file;

-- The holder's jobs: BSNs pass through other registers too, so a few arrive
-- without their leading zero or with separators (all repairable).
CREATE OR REPLACE TABLE job_out AS
WITH keyed AS (
  SELECT j.*, p.bsn, ${jobDefect} AS drawn_kind
  FROM job j JOIN person p USING (person_id)
), eligible AS (
  SELECT * EXCLUDE (drawn_kind),
    CASE WHEN drawn_kind = 'lost_leading_zero' AND NOT (bsn LIKE '0%' AND bsn NOT LIKE '00%') THEN NULL ELSE drawn_kind END AS kind
  FROM keyed
)
-- Rows are numbered by a streaming row_number() over the sorted jobs: a window
-- ordered over all ~150M national job rows would have to fit in memory, a sort spills.
SELECT row_number() OVER () AS row, *
FROM (
  SELECT person_id, kind,
    CASE kind
      WHEN 'lost_leading_zero' THEN substr(bsn, 2)
      WHEN 'bsn_spaces' THEN substr(bsn, 1, 4) || ' ' || substr(bsn, 5, 2) || ' ' || substr(bsn, 7)
      WHEN 'bsn_dots' THEN substr(bsn, 1, 4) || '.' || substr(bsn, 5, 2) || '.' || substr(bsn, 7)
      ELSE bsn END AS bsn,
    employer_id, start_date, end_date, contract_type, hours_per_week, hourly_wage
  FROM eligible
  ORDER BY person_id, job_no
);

CREATE OR REPLACE TABLE ledger AS
SELECT source, file, row, defect_column(file, kind) AS "column", kind FROM export_row WHERE kind IS NOT NULL
UNION ALL
SELECT source, file, NULL, NULL, 'byte_order_mark' FROM export_file WHERE byte_order_mark
UNION ALL
SELECT 'microdata', 'jobs.parquet', row, 'bsn', kind FROM job_out WHERE kind IS NOT NULL;

-- The true person behind every exported municipal record (the holder's rows
-- are added in order when truth/records.parquet is written: records.sql).
CREATE OR REPLACE TABLE municipal_record AS
SELECT source, file, row, person_id FROM export_row WHERE kind IS DISTINCT FROM 'empty_line';
