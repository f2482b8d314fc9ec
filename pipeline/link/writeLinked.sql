-- The linked dataset for the secure environment (docs/contracts.md, link →
-- metrics): RID instead of P1/F1, only the columns the metrics need, only
-- persons who appear in municipal data, rows in a fixed order so the same
-- input gives byte-identical files. Unlinked records are counted, not written.

COPY (
    SELECT r.rid, c.municipality, c.birth_month, c.sex, c.district, c.household_type
    FROM municipal_clients c
    JOIN recordLinks r ON r.id_key = coalesce(c.p1, c.f1) AND r.rid IS NOT NULL
    ORDER BY r.rid, c.municipality, c.birth_month, c.sex, c.district, c.household_type
) TO ${clientsOut} (FORMAT parquet, COMPRESSION zstd);

COPY (
    SELECT r.rid, b.municipality, b.benefit_type, b.start_date, b.end_date, b.end_reason
    FROM municipal_benefits b
    JOIN recordLinks r ON r.id_key = coalesce(b.p1, b.f1) AND r.rid IS NOT NULL
    ORDER BY r.rid, b.start_date, b.end_date NULLS LAST, b.municipality, b.benefit_type, b.end_reason
) TO ${benefitsOut} (FORMAT parquet, COMPRESSION zstd);

COPY (
    SELECT r.rid, i.municipality, i.programme, i.arm, i.ladder_step, i.start_date, i.end_date
    FROM municipal_interventions i
    JOIN recordLinks r ON r.id_key = coalesce(i.p1, i.f1) AND r.rid IS NOT NULL
    ORDER BY r.rid, i.start_date, i.end_date NULLS LAST, i.municipality, i.programme, i.arm, i.ladder_step
) TO ${interventionsOut} (FORMAT parquet, COMPRESSION zstd);

-- One row per person; should the holder deliver a person twice, the first row in a fixed order is kept (counted as duplicate_person).
COPY (
    SELECT r.rid, p.birth_month, p.sex, p.municipality_code
    FROM holder_persons p
    JOIN researchPseudonyms r ON r.p1 = p.p1
    QUALIFY row_number() OVER (PARTITION BY r.rid ORDER BY p.birth_month, p.sex, p.municipality_code) = 1
    ORDER BY r.rid
) TO ${personsOut} (FORMAT parquet, COMPRESSION zstd);

COPY (
    SELECT r.rid, j.employer_id, j.start_date, j.end_date, j.contract_type, j.hours_per_week, j.hourly_wage
    FROM holder_jobs j
    JOIN researchPseudonyms r ON r.p1 = j.p1
    ORDER BY r.rid, j.start_date, j.end_date NULLS LAST, j.employer_id, j.contract_type, j.hours_per_week, j.hourly_wage
) TO ${jobsOut} (FORMAT parquet, COMPRESSION zstd);
