-- spells.parquet: exactly the columns of docs/design.md ("Fixed interfaces"); it stays in the secure environment.
COPY (
  SELECT rid, spell_no, municipality, benefit_type, start_date, end_date, age,
    outflow, outflow_year, to_work, censored, revolving, durable,
    first_contract_type, first_hours, first_wage_band, first_lasted_12m
  FROM spellFacts
  ORDER BY rid, spell_no
) TO ${path} (FORMAT parquet, COMPRESSION zstd);
