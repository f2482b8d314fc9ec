-- truth/records.parquet: the true person behind every exported record, in
-- (source, file, row) order. Built by appending each part in its own order,
-- because one sort over the holder's ~150M national job rows ran out of memory;
-- DuckDB keeps insertion order when the table is scanned without ORDER BY.

CREATE OR REPLACE TABLE record_out AS
SELECT source, file, row, person_id FROM municipal_record
WHERE source < 'microdata'
ORDER BY source, file, row;

-- 'jobs.parquet' < 'persons.parquet'; job_out is stored in row order.
INSERT INTO record_out
SELECT 'microdata', 'jobs.parquet', row, person_id FROM job_out;

INSERT INTO record_out
SELECT 'microdata', 'persons.parquet', person_id, person_id FROM person
ORDER BY person_id;

INSERT INTO record_out
SELECT source, file, row, person_id FROM municipal_record
WHERE source > 'microdata'
ORDER BY source, file, row;
