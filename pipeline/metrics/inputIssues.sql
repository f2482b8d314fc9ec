-- Rows set apart, for the quarantine file beside the output (no identifiers: file, row, column, rule).
COPY (
  SELECT file, row, "column", rule,
    CASE rule
      WHEN 'rid.missing' THEN 'no research pseudonym (rid); the row cannot be linked to a person'
      WHEN 'start_date.missing' THEN 'no start date'
      WHEN 'end_date.before_start' THEN 'end date lies before the start date'
      WHEN 'hours_per_week.negative' THEN 'negative hours per week'
      WHEN 'hourly_wage.negative' THEN 'negative hourly wage'
      WHEN 'arm.unknown' THEN 'arm is not treatment, control or none'
      WHEN 'programme.missing' THEN 'a treatment or control assignment without a programme'
      WHEN 'ladder_step.range' THEN 'ladder step is not 1 to 6'
      ELSE rule
    END AS message
  FROM inputIssues
  ORDER BY file, row
) TO ${path} (FORMAT csv, HEADER true);
