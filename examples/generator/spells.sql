-- One round of benefit spells: ${entrants} yields (person_id, spell_no,
-- start_date, stock) for the spells that start in this round; the next round
-- starts from their next_start. Between spells there are always more than 31
-- days, so the merge rule of docs/design.md ("Metric definitions") finds exactly these spells again.
--
-- Durations: many short spells, a middle group and a long-term tail; under
-- 27 (youth desk) short spells are more common, which plants the step at 27.
-- Programme participants (first spells, assignment date S in 2017–2022) get
-- their remaining duration from the trial calibration instead: within each
-- arm exactly round(target × n) spells end within 12 months of S.
INSERT INTO spell
WITH entrant AS (${entrants}),
drawn AS (
  SELECT e.person_id, e.spell_no, e.start_date, e.stock, r.birth_month, r.pension_date, r.home,
    age_on(r.birth_month, e.start_date) AS start_age,
    rnd(e.person_id, e.spell_no, 'class') AS u_class,
    rnd(e.person_id, e.spell_no, 'length') AS u_length,
    rnd(e.person_id, e.spell_no, 'type') AS u_type,
    30 + draw_days(rnd(e.person_id, e.spell_no, 'offset'), 150) AS offset_days
  FROM entrant e JOIN recipient r USING (person_id)
), natural_length AS (
  SELECT *,
    CAST(CASE WHEN u_class < CASE WHEN start_age < 27 THEN 0.62 ELSE 0.45 END THEN 30 + draw_days(u_length, 335)
         WHEN u_class < CASE WHEN start_age < 27 THEN 0.88 ELSE 0.75 END THEN 366 + draw_days(u_length, 730)
         ELSE 1096 + draw_days(u_length, 2900) END
      + CASE WHEN stock THEN (DATE '2015-01-01' - start_date) + 30 ELSE 0 END AS INTEGER) AS natural_days,
    CASE WHEN u_type < 0.86 THEN 'bijstand'
         WHEN u_type < 0.93 THEN CASE WHEN start_age >= 50 THEN 'ioaw' ELSE 'bijstand' END
         WHEN u_type < 0.95 THEN CASE WHEN start_age >= 55 THEN 'ioaz' ELSE 'bijstand' END
         ELSE 'bbz' END AS benefit_type,
    CASE WHEN rnd(person_id, spell_no, 'elsewhere') < 0.06
         THEN other_city(home, rnd(person_id, spell_no, 'elsewhere-city')) ELSE home END AS municipality
  FROM drawn
), assigned AS (
  SELECT *,
    spell_no = 1 AND NOT stock AND start_age < 60
      AND start_date + offset_days BETWEEN DATE '2017-01-01' AND DATE '2022-12-31'
      AND natural_days > offset_days
      AND rnd(person_id, spell_no, 'programme') < ${programmeRate} AS in_programme,
    CASE WHEN rnd(person_id, spell_no, 'arm') < 0.5 THEN 'treatment' ELSE 'control' END AS drawn_arm
  FROM natural_length
), calibrated AS (
  SELECT *,
    CASE WHEN in_programme THEN drawn_arm END AS arm,
    CASE WHEN in_programme THEN start_date + offset_days END AS assigned_on,
    CASE WHEN in_programme THEN
      row_number() OVER (PARTITION BY in_programme, drawn_arm ORDER BY rnd(person_id, spell_no, 'outcome'), person_id)
        <= round(CASE drawn_arm WHEN 'treatment' THEN ${targetTreatment} ELSE ${targetControl} END * count(*) OVER (PARTITION BY in_programme, drawn_arm))
    END AS ended_within_12m
  FROM assigned
), timed AS (
  SELECT *,
    start_date + CASE
      WHEN in_programme AND ended_within_12m THEN offset_days + 20 + draw_days(rnd(person_id, spell_no, 'residual'), 330)
      WHEN in_programme THEN offset_days + 400 + draw_days(rnd(person_id, spell_no, 'residual'), 1500)
      ELSE natural_days END AS planned_end
  FROM calibrated
), ended AS (
  SELECT *,
    -- Benefit stops the day before the state pension starts.
    planned_end >= pension_date AS reaches_pension,
    CASE WHEN least(planned_end, pension_date - 1) > DATE '${dataEnd}' THEN NULL ELSE least(planned_end, pension_date - 1) END AS end_date,
    CASE WHEN in_programme AND arm = 'treatment' THEN 0.62 WHEN in_programme THEN 0.52 WHEN start_age < 27 THEN 0.55 ELSE 0.48 END AS work_share,
    rnd(person_id, spell_no, 'reason') AS u_reason
  FROM timed
), reasoned AS (
  SELECT *,
    CASE WHEN end_date IS NULL THEN NULL
         WHEN reaches_pension THEN 'other_income'
         WHEN u_reason < work_share THEN 'work'
         WHEN (u_reason - work_share) / (1 - work_share) < 0.28 THEN 'other_income'
         WHEN (u_reason - work_share) / (1 - work_share) < 0.44 THEN 'partner'
         WHEN (u_reason - work_share) / (1 - work_share) < 0.58 THEN 'moved'
         WHEN (u_reason - work_share) / (1 - work_share) < 0.62 THEN 'detention'
         WHEN (u_reason - work_share) / (1 - work_share) < 0.65 THEN 'death'
         ELSE 'other' END AS end_reason,
    rnd(person_id, spell_no, 'lasting') < CASE WHEN in_programme AND arm = 'treatment' THEN 0.62 ELSE 0.55 END AS job_lasting
  FROM ended
), returned AS (
  SELECT *,
    CASE WHEN end_date IS NULL OR end_reason = 'death' OR reaches_pension THEN false
         WHEN end_reason = 'work' AND job_lasting THEN rnd(person_id, spell_no, 'returns') < 0.2
         WHEN end_reason = 'work' THEN rnd(person_id, spell_no, 'returns') < 0.6
         ELSE rnd(person_id, spell_no, 'returns') < 0.45 END AS returns,
    CASE WHEN rnd(person_id, spell_no, 'gap-kind') < CASE WHEN end_reason = 'work' AND NOT job_lasting THEN 0.8 ELSE 0.35 END
         THEN 32 + draw_days(rnd(person_id, spell_no, 'gap'), 330)
         ELSE 366 + draw_days(rnd(person_id, spell_no, 'gap'), 1800) END AS gap_days
  FROM reasoned
)
SELECT person_id, spell_no, start_date, end_date, stock, start_age, benefit_type, municipality, end_reason, job_lasting,
  CASE WHEN returns AND end_date + gap_days <= DATE '2024-11-30' AND end_date + gap_days < pension_date - 400 THEN end_date + gap_days END AS next_start,
  in_programme, arm, assigned_on, ended_within_12m
FROM returned;
