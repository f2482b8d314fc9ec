-- What of the holder's files leaves the TTP (data minimisation), for the row accounting. One pass per file.
WITH personRows AS (
    SELECT count(*) AS persons_rows,
           count(*) FILTER (WHERE p.p1 IS NULL) AS persons_without_bsn,
           count(r.p1) AS persons_linked_rows
    FROM holder_persons p
    LEFT JOIN researchPseudonyms r ON r.p1 = p.p1
),
jobRows AS (
    SELECT count(*) AS jobs_rows,
           count(*) FILTER (WHERE j.p1 IS NULL) AS jobs_without_bsn,
           count(r.p1) AS jobs_kept
    FROM holder_jobs j
    LEFT JOIN researchPseudonyms r ON r.p1 = j.p1
)
SELECT persons_rows, persons_without_bsn, persons_linked_rows,
       (SELECT count(*) FROM researchPseudonyms) AS persons_kept,
       jobs_rows, jobs_without_bsn, jobs_kept
FROM personRows, jobRows;
