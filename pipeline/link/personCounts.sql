-- Linked persons overall, and those known to more than one municipality (movers: one RID each).
WITH personMunicipalities AS (
    SELECT holder_p1, count(DISTINCT municipality) AS municipalities
    FROM municipalRecordLinks
    WHERE link IN ('bsn', 'fallback')
    GROUP BY holder_p1
)
SELECT count(*) AS linked_persons,
       count(*) FILTER (WHERE municipalities > 1) AS in_several_municipalities
FROM personMunicipalities;
