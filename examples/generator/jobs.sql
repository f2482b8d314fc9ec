-- Jobs in a Polis-like register for the whole population. Recipients' own
-- working history stops 90 days before their first benefit; after an outflow
-- for work a job starts within [E − 31, E + 31], lasting past 12 months for
-- some and not for others, sometimes followed by another. Some who left for
-- another reason find work later. Wages sit around, below and above the
-- statutory minimum wage (WML) of the job's start year.

CREATE OR REPLACE MACRO contract_type(u, after_benefit) AS CASE
  WHEN after_benefit THEN CASE WHEN u < 0.20 THEN 'permanent' WHEN u < 0.60 THEN 'temporary' WHEN u < 0.72 THEN 'on_call' WHEN u < 0.94 THEN 'agency' ELSE 'self_employed' END
  ELSE CASE WHEN u < 0.45 THEN 'permanent' WHEN u < 0.75 THEN 'temporary' WHEN u < 0.83 THEN 'on_call' WHEN u < 0.93 THEN 'agency' ELSE 'self_employed' END
END;
-- Hours per week in half hours: one in ten is a small job (< 12 hours).
CREATE OR REPLACE MACRO hours_per_week(u1, u2) AS CASE
  WHEN u1 < 0.10 THEN 4 + floor(u2 * 16) / 2
  ELSE 12 + floor(u2 * 57) / 2 END;
-- Hourly wage as a multiple of the WML: below (a few), near (WML to 1.1·WML), above.
CREATE OR REPLACE MACRO wage_factor(u1, u2) AS CASE
  WHEN u1 < 0.08 THEN 0.85 + 0.14 * u2
  WHEN u1 < 0.45 THEN 1.0 + 0.1 * u2
  ELSE 1.12 + 1.3 * u2 * u2 END;

CREATE OR REPLACE TABLE job AS
WITH worker AS (
  SELECT p.person_id,
    greatest(DATE '2015-01-01', CAST(p.birth_date + INTERVAL 16 YEAR AS DATE)) AS window_start,
    CASE WHEN r.person_id IS NULL THEN DATE '${dataEnd}' ELSE r.first_start - 90 END AS window_end,
    r.person_id IS NOT NULL AS recipient,
    CAST(floor(rnd(p.person_id, 0, 'jobs') * CASE WHEN r.person_id IS NULL THEN 19 ELSE 3 END) AS INTEGER) AS jobs
  FROM person p LEFT JOIN recipient r USING (person_id)
), background_slot AS (
  SELECT person_id, window_start, window_end, recipient, unnest(range(jobs)) AS job_no
  FROM worker WHERE window_end - window_start > 30 AND jobs > 0
), background AS (
  SELECT person_id, job_no, false AS after_benefit,
    window_start + draw_days(rnd(person_id, job_no, 'job-start'), window_end - window_start) AS start_date,
    CASE WHEN rnd(person_id, job_no, 'job-kind') < 0.3 THEN 30 + draw_days(rnd(person_id, job_no, 'job-days'), 300)
         WHEN rnd(person_id, job_no, 'job-kind') < 0.7 THEN 330 + draw_days(rnd(person_id, job_no, 'job-days'), 1100)
         ELSE 1400 + draw_days(rnd(person_id, job_no, 'job-days'), 3000) END AS days,
    CASE WHEN recipient THEN window_end END AS must_end_by
  FROM background_slot
), first_after AS (
  SELECT person_id, 100 + 10 * spell_no AS job_no, true AS after_benefit, end_date AS outflow_date,
    end_date - 31 + draw_days(rnd(person_id, spell_no, 'work-start'), 63) AS start_date,
    CASE WHEN job_lasting THEN 366 + draw_days(rnd(person_id, spell_no, 'work-days'), 2000)
         ELSE 30 + draw_days(rnd(person_id, spell_no, 'work-days'), 300) END AS days,
    rnd(person_id, spell_no, 'follow-up') < 0.5 AS followed
  FROM spell WHERE end_reason = 'work'
), follow_up AS (
  SELECT person_id, job_no + 1 AS job_no, true AS after_benefit,
    greatest(start_date + days + 1 + draw_days(rnd(person_id, job_no, 'follow-start'), 60), outflow_date + 32) AS start_date,
    60 + draw_days(rnd(person_id, job_no, 'follow-days'), 900) AS days
  FROM first_after WHERE followed
), later AS (
  SELECT person_id, 102 + 10 * spell_no AS job_no, true AS after_benefit,
    end_date + 60 + draw_days(rnd(person_id, spell_no, 'later-start'), 700) AS start_date,
    30 + draw_days(rnd(person_id, spell_no, 'later-days'), 1200) AS days
  FROM spell WHERE end_date IS NOT NULL AND end_reason NOT IN ('work', 'death') AND NOT coalesce(start_age >= 64, false)
    AND rnd(person_id, spell_no, 'later') < 0.3
), planned AS (
  SELECT person_id, job_no, after_benefit, start_date, CASE WHEN must_end_by IS NOT NULL THEN least(start_date + days, must_end_by) ELSE start_date + days END AS planned_end FROM background
  UNION ALL SELECT person_id, job_no, after_benefit, start_date, start_date + days FROM first_after
  UNION ALL SELECT person_id, job_no, after_benefit, start_date, start_date + days FROM follow_up
  UNION ALL SELECT person_id, job_no, after_benefit, start_date, start_date + days FROM later
)
SELECT j.person_id, j.job_no,
  'L' || lpad(CAST(floor(rnd(j.person_id, j.job_no, 'employer') * CASE WHEN j.after_benefit THEN 20000 ELSE 400000 END) AS INTEGER)::VARCHAR, 7, '0') AS employer_id,
  j.start_date,
  CASE WHEN j.planned_end > DATE '${dataEnd}' THEN NULL ELSE j.planned_end END AS end_date,
  contract_type(rnd(j.person_id, j.job_no, 'contract'), j.after_benefit) AS contract_type,
  CAST(hours_per_week(rnd(j.person_id, j.job_no, 'small'), rnd(j.person_id, j.job_no, 'hours')) AS DOUBLE) AS hours_per_week,
  round(w.hourly * wage_factor(rnd(j.person_id, j.job_no, 'wage-band'), rnd(j.person_id, j.job_no, 'wage')), 2) AS hourly_wage
FROM planned j
JOIN wml w ON w.year = year(j.start_date)
WHERE j.start_date <= DATE '${dataEnd}';
