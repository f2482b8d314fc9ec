-- docs/design.md ("Metric definitions"): by default T is the latest date in the linked benefit and job data.
SELECT max(day) AS observation_end FROM (
  SELECT start_date AS day FROM benefitPeriods
  UNION ALL SELECT end_date FROM benefitPeriods
  UNION ALL SELECT start_date FROM linkedJobs
  UNION ALL SELECT end_date FROM linkedJobs
);
