-- Benefit periods as municipalities register them: a spell is one period, or
-- two when the person moved to another city, changed benefit type, or was
-- re-registered. The second period starts at most 31 days after the first
-- ends, or overlaps it, so the merge rule joins them. Periods of a spell never
-- have equal lengths, so "the longest period" is never a tie.
CREATE OR REPLACE TABLE period AS
WITH planned AS (
  SELECT *,
    coalesce(end_date, DATE '${dataEnd}') - start_date AS span_days,
    NOT in_programme AND coalesce(end_date, DATE '${dataEnd}') - start_date >= 160
      AND rnd(person_id, spell_no, 'split') < 0.3 AS split,
    rnd(person_id, spell_no, 'split-kind') AS u_kind
  FROM spell
), cut AS (
  SELECT *,
    start_date + CAST(floor(span_days * (0.2 + 0.6 * rnd(person_id, spell_no, 'cut'))) AS INTEGER) AS first_end,
    CASE WHEN end_date IS NULL THEN 'renewed' WHEN u_kind < 0.35 THEN 'moved' WHEN u_kind < 0.45 THEN 'retyped' ELSE 'renewed' END AS split_kind
  FROM planned
), second AS (
  SELECT *,
    CASE WHEN rnd(person_id, spell_no, 'overlap') < 0.15 THEN first_end - draw_days(rnd(person_id, spell_no, 'join'), 20)
         ELSE first_end + 1 + draw_days(rnd(person_id, spell_no, 'join'), 31) END AS raw_second_start
  FROM cut
), untied AS (
  SELECT *,
    CASE WHEN end_date IS NOT NULL AND first_end - start_date = end_date - raw_second_start THEN raw_second_start - 1 ELSE raw_second_start END AS second_start
  FROM second
)
SELECT person_id, spell_no, 1 AS period_no, start_date,
  CASE WHEN split THEN first_end ELSE end_date END AS end_date,
  benefit_type, municipality,
  CASE WHEN NOT split THEN end_reason WHEN split_kind = 'moved' THEN 'moved' ELSE 'other' END AS end_reason
FROM untied
UNION ALL
SELECT person_id, spell_no, 2 AS period_no, second_start AS start_date, end_date,
  CASE WHEN split_kind = 'retyped' THEN CASE WHEN benefit_type = 'bijstand' THEN 'bbz' ELSE 'bijstand' END ELSE benefit_type END AS benefit_type,
  CASE WHEN split_kind = 'moved' THEN other_city(municipality, rnd(person_id, spell_no, 'move-to')) ELSE municipality END AS municipality,
  end_reason
FROM untied
WHERE split;

-- A client row in every city where the person had a benefit period. In the
-- home city it carries the address the microdata holder has; elsewhere the
-- address they had there.
CREATE OR REPLACE TABLE client AS
WITH present AS (SELECT DISTINCT person_id, municipality FROM period),
away AS (
  SELECT c.person_id, c.municipality, pl.place_no,
    pl.districts[1 + CAST(floor(rnd(c.person_id, pl.place_no, 'away-district') * len(pl.districts)) AS INTEGER)] AS d
  FROM present c JOIN place pl ON pl.municipality = c.municipality
)
SELECT a.person_id, a.municipality, p.birth_date, p.sex, p.household_type,
  a.municipality = p.municipality AS home_address,
  CASE WHEN a.municipality = p.municipality THEN p.district ELSE a.d.name END AS district,
  CASE WHEN a.municipality = p.municipality THEN p.postcode
       ELSE lpad((a.d.pc4 + CAST(floor(rnd(a.person_id, a.place_no, 'away-pc4') * a.d.pc4_count) AS INTEGER))::VARCHAR, 4, '0')
            || pc_letters(rnd(a.person_id, a.place_no, 'away-pc6')) END AS postcode,
  CASE WHEN a.municipality = p.municipality THEN p.house_number
       ELSE house_number(rnd(a.person_id, a.place_no, 'away-house'), rnd(a.person_id, a.place_no, 'away-suffix')) END AS house_number
FROM away a
JOIN person p USING (person_id);

-- Re-integration records (trajecten): the randomised WerkLoont arms on the
-- assignment date S, and for some other spells a registration outside the
-- trial (arm 'none') with a participation-ladder step.
CREATE OR REPLACE TABLE intervention AS
SELECT person_id, spell_no, 0 AS kind, municipality, 'werkloont' AS programme, arm,
  2 + draw_days(rnd(person_id, spell_no, 'ladder'), 3) AS ladder_step,
  assigned_on AS start_date, assigned_on + 182 AS end_date
FROM spell WHERE in_programme
UNION ALL
SELECT person_id, spell_no, 1 AS kind, municipality, 'werkloont' AS programme, 'none' AS arm, ladder_step,
  registered_on AS start_date,
  CASE WHEN registered_on + registered_days <= DATE '${dataEnd}' THEN registered_on + registered_days END AS end_date
FROM (
  SELECT p.person_id, p.spell_no, p.municipality,
    1 + draw_days(rnd(p.person_id, p.spell_no, 'ladder'), 6) AS ladder_step,
    p.start_date + draw_days(rnd(p.person_id, p.spell_no, 'registered'), least(200, coalesce(p.end_date, DATE '${dataEnd}') - p.start_date)) AS registered_on,
    90 + draw_days(rnd(p.person_id, p.spell_no, 'registered-end'), 270) AS registered_days
  FROM period p
  ANTI JOIN (SELECT person_id, spell_no FROM spell WHERE in_programme) AS trial USING (person_id, spell_no)
  WHERE p.period_no = 1 AND rnd(p.person_id, p.spell_no, 'registration') < 0.15
);
