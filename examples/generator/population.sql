-- The microdata holder's population: persons with unique elfproef-valid BSNs,
-- birth dates, sex, an address and a household type. All randomness is a hash
-- of (seed, key, purpose), so every value is reproducible from the seed alone
-- and the population is never held outside DuckDB.

-- A uniform draw in [0, 1) for key (a, b) and a named purpose.
CREATE OR REPLACE MACRO rnd(a, b, purpose) AS ((hash(a, b, purpose, ${seed}::UBIGINT) >> 11)::DOUBLE / 9007199254740992.0);
-- Whole years on day d for someone born in birth month bm (taken as born on its first day), as docs/design.md
-- ("Metric definitions") counts age.
CREATE OR REPLACE MACRO age_on(bm, d) AS (year(d) - year(bm) - CASE WHEN month(d) < month(bm) THEN 1 ELSE 0 END);
CREATE OR REPLACE MACRO draw_days(u, n) AS CAST(floor(u * n) AS INTEGER);
-- Two postcode letters from one draw (letters Dutch postcodes use).
CREATE OR REPLACE MACRO pc_letters(u) AS (
  substr('ABCDEGHJKLMNPRSTVWXZ', 1 + CAST(floor(u * 20) AS INTEGER), 1) ||
  substr('ABCDEGHJKLMNPRSTVWXZ', 1 + CAST(floor((u * 20 - floor(u * 20)) * 20) AS INTEGER), 1));
CREATE OR REPLACE MACRO house_number(u1, u2) AS (
  CAST(1 + floor(u1 * u1 * 250) AS INTEGER)::VARCHAR || CASE WHEN u2 < 0.04 THEN 'A' WHEN u2 < 0.06 THEN 'B' ELSE '' END);

CREATE OR REPLACE TABLE person AS
WITH candidate AS (
  -- An affine map i -> a*i + b mod 10^8 (a coprime to 10) is a permutation of
  -- the 8-digit prefixes, so prefixes never repeat; about 1 in 11 has no valid
  -- check digit and is skipped.
  SELECT i, (i * ${bsnA} + ${bsnB}) % 100000000 AS prefix FROM range(1, ${candidates}) AS t(i)
), checked AS (
  SELECT i, prefix,
    (9 * (prefix // 10000000 % 10) + 8 * (prefix // 1000000 % 10) + 7 * (prefix // 100000 % 10) + 6 * (prefix // 10000 % 10)
     + 5 * (prefix // 1000 % 10) + 4 * (prefix // 100 % 10) + 3 * (prefix // 10 % 10) + 2 * (prefix % 10)) % 11 AS check_digit
  FROM candidate
), numbered AS (
  SELECT row_number() OVER (ORDER BY i) AS person_id, lpad(prefix::VARCHAR, 8, '0') || check_digit::VARCHAR AS bsn
  FROM checked
  WHERE check_digit < 10 AND prefix <> 0
  QUALIFY person_id <= ${persons}
), placed AS (
  SELECT person_id, bsn, ${placePick} AS place_no FROM numbered
), addressed AS (
  SELECT p.person_id, p.bsn, pl.municipality, pl.code, pl.is_city,
    pl.districts[1 + CAST(floor(rnd(p.person_id, 0, 'district') * len(pl.districts)) AS INTEGER)] AS d
  FROM placed p JOIN place pl USING (place_no)
)
SELECT person_id, bsn,
  DATE '1935-01-01' + draw_days(rnd(person_id, 0, 'birth'), DATE '2009-01-01' - DATE '1935-01-01') AS birth_date,
  CASE WHEN rnd(person_id, 0, 'sex') < 0.5 THEN 'M' ELSE 'F' END AS sex,
  municipality, code AS municipality_code, is_city,
  d.name AS district,
  lpad((d.pc4 + CAST(floor(rnd(person_id, 0, 'pc4') * d.pc4_count) AS INTEGER))::VARCHAR, 4, '0') || pc_letters(rnd(person_id, 0, 'pc6')) AS postcode,
  house_number(rnd(person_id, 0, 'house'), rnd(person_id, 0, 'house-suffix')) AS house_number,
  CASE WHEN rnd(person_id, 0, 'household') < 0.42 THEN 'single'
       WHEN rnd(person_id, 0, 'household') < 0.60 THEN 'single_parent'
       WHEN rnd(person_id, 0, 'household') < 0.72 THEN 'couple'
       WHEN rnd(person_id, 0, 'household') < 0.90 THEN 'couple_with_children'
       ELSE 'other' END AS household_type
FROM addressed;

-- Benefit recipients: about RECIPIENTS_PER_INHABITANT of the four cities'
-- inhabitants, drawn among those of benefit age (18 to the pension age 67)
-- at some time in the window. About a third were already on benefit on
-- 1 January 2015 (the stock); their spells started earlier.
CREATE OR REPLACE TABLE recipient AS
WITH eligible AS (
  SELECT person_id, birth_date, date_trunc('month', birth_date)::DATE AS birth_month, municipality AS home,
    CAST(birth_date + INTERVAL 18 YEAR AS DATE) AS adult_date,
    CAST(birth_date + INTERVAL 67 YEAR AS DATE) AS pension_date
  FROM person
  WHERE is_city AND birth_date + INTERVAL 18 YEAR <= DATE '2024-06-30' AND birth_date + INTERVAL 66 YEAR >= DATE '2015-06-30'
), draw_rate AS (
  SELECT ${recipientRate} * (SELECT count(*) FROM person WHERE is_city) / greatest(1, (SELECT count(*) FROM eligible)) AS p
), windowed AS (
  SELECT e.*,
    greatest(adult_date, DATE '2015-01-01') AS inflow_from,
    least(DATE '2024-10-31', pension_date - 400) AS inflow_until,
    adult_date < DATE '2014-06-30' AND rnd(person_id, 0, 'stock') < 0.35 AS stock
  FROM eligible e, draw_rate
  WHERE rnd(person_id, 0, 'recipient') < draw_rate.p
)
SELECT person_id, birth_date, birth_month, home, adult_date, pension_date, stock,
  CASE WHEN stock THEN greatest(adult_date, DATE '2008-01-01') + draw_days(rnd(person_id, 0, 'first-start'), DATE '2014-12-31' - greatest(adult_date, DATE '2008-01-01'))
       ELSE inflow_from + draw_days(rnd(person_id, 0, 'first-start'), inflow_until - inflow_from) END AS first_start
FROM windowed
WHERE stock OR inflow_until > inflow_from
ORDER BY person_id;

-- One of the three other cities, uniformly.
CREATE OR REPLACE MACRO other_city(m, u) AS
  (['rotterdam', 'amsterdam', 'utrecht', 'den_haag'])[((list_position(['rotterdam', 'amsterdam', 'utrecht', 'den_haag'], m) + CAST(floor(u * 3) AS INTEGER)) % 4) + 1];

CREATE OR REPLACE TABLE spell (
  person_id BIGINT, spell_no INTEGER, start_date DATE, end_date DATE, stock BOOLEAN, start_age INTEGER,
  benefit_type VARCHAR, municipality VARCHAR, end_reason VARCHAR, job_lasting BOOLEAN, next_start DATE,
  in_programme BOOLEAN, arm VARCHAR, assigned_on DATE, ended_within_12m BOOLEAN
);
