-- Each resolved identity with the RID of its person (NULL when unlinked).
-- Expects identityLinks and a filled researchPseudonyms (identityLinks.sql).
CREATE OR REPLACE TEMP TABLE recordLinks AS
SELECT l.id_key, l.link, l.holder_p1, r.rid
FROM identityLinks l
LEFT JOIN researchPseudonyms r ON r.p1 = l.holder_p1;

-- Every municipal record with how it linked; 'no_identifier' for a record with neither P1 nor F1.
CREATE OR REPLACE TEMP VIEW municipalRecordLinks AS
WITH municipalRecords AS (
    SELECT municipality, 'clients' AS file, coalesce(p1, f1) AS id_key FROM municipal_clients
    UNION ALL SELECT municipality, 'benefits', coalesce(p1, f1) FROM municipal_benefits
    UNION ALL SELECT municipality, 'interventions', coalesce(p1, f1) FROM municipal_interventions
)
SELECT m.municipality, m.file, coalesce(l.link, 'no_identifier') AS link, l.holder_p1
FROM municipalRecords m
LEFT JOIN recordLinks l ON l.id_key = m.id_key;
