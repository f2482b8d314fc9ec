-- Per municipality and file: how the records linked (counts only).
SELECT municipality,
       file,
       count(*) AS records,
       count(*) FILTER (WHERE link = 'bsn') AS matched_on_bsn,
       count(*) FILTER (WHERE link = 'fallback') AS matched_on_fallback,
       count(*) FILTER (WHERE link = 'ambiguous_fallback') AS ambiguous_fallback,
       count(*) FILTER (WHERE link = 'no_match') AS no_match,
       count(*) FILTER (WHERE link = 'person_without_bsn') AS person_without_bsn,
       count(*) FILTER (WHERE link = 'no_identifier') AS no_identifier,
       count(DISTINCT holder_p1) FILTER (WHERE link IN ('bsn', 'fallback')) AS linked_persons
FROM municipalRecordLinks
GROUP BY municipality, file
ORDER BY municipality, file;
