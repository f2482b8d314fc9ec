-- Ground truth, computed from the generator's own event model (the spells,
-- periods and jobs it drew), applying the definitions of docs/design.md directly; it
-- shares no code with the metrics stage. T = ${observationEnd}.

CREATE OR REPLACE TABLE truth_spell AS
WITH spell_span AS (
  SELECT person_id, spell_no, min(start_date) AS start_date,
    CASE WHEN count(end_date) = count(*) THEN max(end_date) END AS end_date,
    -- Periods of a spell never tie in length (periods.sql), so the longest is unique.
    arg_max(municipality, coalesce(end_date, DATE '${observationEnd}') - start_date) AS municipality,
    arg_max(benefit_type, coalesce(end_date, DATE '${observationEnd}') - start_date) AS benefit_type
  FROM period GROUP BY person_id, spell_no
), measured AS (
  SELECT s.*, date_trunc('month', p.birth_date)::DATE AS birth_month,
    s.end_date IS NOT NULL AND s.end_date <= DATE '${observationEnd}' AS outflow,
    CAST(s.end_date + INTERVAL 12 MONTH AS DATE) AS horizon
  FROM spell_span s JOIN person p USING (person_id)
), window_job AS (
  SELECT m.person_id, m.spell_no, j.job_no, j.start_date, j.end_date, j.contract_type, j.hours_per_week, j.hourly_wage, j.employer_id,
    row_number() OVER (PARTITION BY m.person_id, m.spell_no ORDER BY j.start_date, j.hours_per_week DESC, j.employer_id, j.job_no) AS rank
  FROM measured m JOIN job j ON j.person_id = m.person_id
  WHERE m.outflow AND j.start_date BETWEEN m.end_date - 31 AND m.end_date + 31
), first_job AS (
  SELECT w.*, wml.hourly AS wml FROM window_job w JOIN wml ON wml.year = year(w.start_date) WHERE rank = 1
), covered AS (
  SELECT DISTINCT m.person_id, m.spell_no
  FROM measured m JOIN job j ON j.person_id = m.person_id
  WHERE m.outflow AND j.start_date <= m.horizon AND (j.end_date IS NULL OR j.end_date >= m.horizon)
), returned AS (
  SELECT DISTINCT m.person_id, m.spell_no
  FROM measured m JOIN spell_span o ON o.person_id = m.person_id AND o.spell_no <> m.spell_no
  WHERE m.outflow AND o.start_date > m.end_date AND o.start_date <= m.horizon
), judged AS (
  SELECT m.*,
    CASE WHEN m.outflow THEN m.horizon > DATE '${observationEnd}' END AS censored,
    f.person_id IS NOT NULL AS has_window_job,
    c.person_id IS NOT NULL AS job_covers_horizon,
    r.person_id IS NOT NULL AS has_return,
    f.contract_type AS f_contract, f.hours_per_week AS f_hours, f.hourly_wage AS f_wage, f.wml AS f_wml, f.start_date AS f_start, f.end_date AS f_end
  FROM measured m
  LEFT JOIN first_job f USING (person_id, spell_no)
  LEFT JOIN covered c USING (person_id, spell_no)
  LEFT JOIN returned r USING (person_id, spell_no)
)
SELECT person_id, spell_no, municipality, benefit_type, start_date, end_date,
  CAST(CASE WHEN outflow THEN age_on(birth_month, end_date) ELSE age_on(birth_month, start_date) END AS INTEGER) AS age,
  outflow,
  CAST(CASE WHEN outflow THEN year(end_date) END AS INTEGER) AS outflow_year,
  CASE WHEN outflow THEN has_window_job END AS to_work,
  censored,
  CASE WHEN outflow AND NOT censored THEN has_return END AS revolving,
  CASE WHEN outflow AND NOT censored THEN has_window_job AND NOT has_return AND job_covers_horizon END AS durable,
  CASE WHEN has_window_job THEN f_contract END AS first_contract_type,
  CASE WHEN has_window_job THEN f_hours END AS first_hours,
  CASE WHEN NOT has_window_job THEN NULL WHEN f_wage < f_wml THEN 'below' WHEN f_wage <= 1.1 * f_wml THEN 'near' ELSE 'above' END AS first_wage_band,
  CASE WHEN NOT has_window_job THEN NULL
       WHEN f_end IS NOT NULL THEN f_end >= CAST(f_start + INTERVAL 12 MONTH AS DATE)
       WHEN CAST(f_start + INTERVAL 12 MONTH AS DATE) <= DATE '${observationEnd}' THEN true
       ELSE NULL END AS first_lasted_12m
FROM judged
ORDER BY person_id, spell_no;

-- Programme assignments and whether the spell covering S ended within 12
-- months of S; `affected` when a lossy defect touched the person's benefit or
-- re-integration rows (the pipeline may then not see this assignment as is).
CREATE OR REPLACE TABLE truth_assignment AS
WITH lossy_person AS (
  SELECT DISTINCT r.person_id FROM ledger l JOIN municipal_record r USING (source, file, row)
  WHERE l.file IN ('uitkeringen.csv', 'trajecten.csv') AND l.kind IN (${lossyKinds})
)
SELECT i.person_id, t.spell_no, i.programme, i.arm, i.start_date AS assigned_on, year(i.start_date)::INTEGER AS cohort,
  coalesce(t.end_date <= CAST(i.start_date + INTERVAL 12 MONTH AS DATE), false) AS ended_within_12m,
  CAST(i.start_date + INTERVAL 12 MONTH AS DATE) > DATE '${observationEnd}' AND (t.end_date IS NULL OR t.end_date > DATE '${observationEnd}') AS censored,
  t.durable,
  i.person_id IN (SELECT person_id FROM lossy_person) AS affected
FROM intervention i
JOIN truth_spell t ON t.person_id = i.person_id AND t.start_date <= i.start_date AND (t.end_date IS NULL OR t.end_date >= i.start_date)
WHERE i.arm IN ('treatment', 'control')
ORDER BY i.person_id;

-- Spells whose records a lossy defect touched (a quarantined or unlinkable
-- benefit row of the person): the pipeline cannot be expected to reproduce these.
CREATE OR REPLACE TABLE truth_affected AS
WITH hit AS (
  SELECT r.person_id, list(DISTINCT l.kind ORDER BY l.kind) AS kinds
  FROM ledger l JOIN municipal_record r USING (source, file, row)
  WHERE l.file = 'uitkeringen.csv' AND l.kind IN (${lossyKinds})
  GROUP BY r.person_id
)
SELECT t.person_id, t.spell_no, h.kinds AS defect_kinds
FROM truth_spell t JOIN hit h USING (person_id)
ORDER BY t.person_id, t.spell_no;
