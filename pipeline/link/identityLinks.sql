-- Resolve every identity that municipal records carry to (at most) one person
-- of the microdata holder. Works on DISTINCT identities, not on records: a
-- person with forty benefit rows is resolved once and joined back.
--
-- Expects the views municipal_clients, municipal_benefits,
-- municipal_interventions and holder_persons (sourceViews.ts).

-- A record is known by its P1; only a record without a valid BSN by its F1.
-- P1 and F1 are HMACs of differently prefixed messages, so one key column
-- cannot confuse them.
CREATE OR REPLACE TEMP TABLE municipalIdentities AS
SELECT DISTINCT coalesce(p1, f1) AS id_key, p1 IS NOT NULL AS has_bsn
FROM (
    SELECT p1, f1 FROM municipal_clients
    UNION ALL SELECT p1, f1 FROM municipal_benefits
    UNION ALL SELECT p1, f1 FROM municipal_interventions
)
WHERE coalesce(p1, f1) IS NOT NULL;

CREATE OR REPLACE TEMP TABLE identityLinks AS
WITH bsnMatches AS (
    SELECT DISTINCT p1, true AS has_bsn
    FROM holder_persons
    WHERE p1 IN (SELECT id_key FROM municipalIdentities WHERE has_bsn)
),
-- Holder persons sharing birth date, sex, postcode and house number. Only a
-- single candidate is a link (CBS: unique); several are ambiguous (multiple)
-- and the record stays unlinked rather than be given to the wrong person.
-- Duplicate rows of one person (same P1) are one candidate.
fallbackCandidates AS (
    SELECT f1, false AS has_bsn,
           count(DISTINCT p1) + count(*) FILTER (WHERE p1 IS NULL) AS candidates,
           min(p1) AS p1
    FROM holder_persons
    WHERE f1 IN (SELECT id_key FROM municipalIdentities WHERE NOT has_bsn)
    GROUP BY f1, has_bsn
)
SELECT i.id_key,
       CASE
           WHEN i.has_bsn AND bsn.p1 IS NOT NULL THEN 'bsn'
           WHEN i.has_bsn THEN 'no_match'
           WHEN fb.candidates IS NULL THEN 'no_match'
           WHEN fb.candidates > 1 THEN 'ambiguous_fallback'
           -- The one candidate has no valid BSN at the holder either: no P1, so no RID can be made.
           WHEN fb.p1 IS NULL THEN 'person_without_bsn'
           ELSE 'fallback'
       END AS link,
       CASE WHEN i.has_bsn THEN bsn.p1 WHEN fb.candidates = 1 THEN fb.p1 END AS holder_p1
FROM municipalIdentities i
-- Equi-joins on (key, kind) only: an extra predicate would turn them into nested-loop joins.
LEFT JOIN bsnMatches bsn ON bsn.p1 = i.id_key AND bsn.has_bsn = i.has_bsn
LEFT JOIN fallbackCandidates fb ON fb.f1 = i.id_key AND fb.has_bsn = i.has_bsn;

-- The persons who appear in municipal data: the only ones that get a RID and
-- whose holder rows leave the TTP (data minimisation).
CREATE OR REPLACE TEMP TABLE linkedPersons AS
SELECT DISTINCT holder_p1 AS p1 FROM identityLinks WHERE holder_p1 IS NOT NULL;

CREATE OR REPLACE TEMP TABLE researchPseudonyms (p1 VARCHAR NOT NULL, rid VARCHAR NOT NULL);
