import { chmod, mkdir } from 'node:fs/promises';
import { type Duck, sqlString } from '../core/duckdb.js';
import { outputErrorFrom } from '../core/errors.js';
import { checksOf, hasFallbackFields, rawBsn, takesClientsFallback } from './fileChecks.js';
import type { InputFile } from './inputFiles.js';
import { bsnStatusSql, bsnUsableSql } from './pseudonymFunctions.js';
import { ruleMessageSql } from './rowChecks.js';

/**
 * q_<n>: each quarantined row of input n with its column and rule: the first schema rule it breaks, then a BSN
 * that leaves the row without a pseudonym, then a repeat of an earlier row; plus the lines the CSV reader rejected.
 */
export async function createQuarantine(duck: Duck, file: InputFile): Promise<void> {
  const checks = checksOf(file);
  const code = `bsn_check(${rawBsn(file)})`;
  const notUsable = `NOT ${bsnUsableSql(code)}`;
  let identifierFailure = 'NULL';
  let joins = '';
  if (takesClientsFallback(file)) {
    identifierFailure = `CASE WHEN ${notUsable} AND cf.f1 IS NULL THEN CASE WHEN cf.ambiguous THEN 'bsn|bsn.fallback_ambiguous' ELSE 'bsn|bsn.' || ${bsnStatusSql(code)} END END`;
    // One equality, so DuckDB hashes it: with the BSN's status as a second condition it compared every pair of rows.
    joins = `LEFT JOIN clients_f1 cf ON cf.raw = CASE WHEN ${notUsable} THEN trim(${rawBsn(file)}) END`;
  } else if (!hasFallbackFields(file)) {
    identifierFailure = `CASE WHEN ${notUsable} THEN 'bsn|bsn.' || ${bsnStatusSql(code)} END`;
  }
  await duck.run(`CREATE OR REPLACE TEMP TABLE q_${file.index} AS
    WITH judged AS (
      SELECT s.row_no, COALESCE(${checks.failure}, ${identifierFailure}, CASE WHEN d.row_no IS NOT NULL THEN '|duplicate_row' END) AS reason
      FROM ${checks.rows} s LEFT JOIN dup_${file.index} d ON d.row_no = s.row_no ${joins}
    )
    SELECT row_no, NULLIF(split_part(reason, '|', 1), '') AS "column", split_part(reason, '|', 2) AS rule FROM judged WHERE reason IS NOT NULL
    ${file.rejects !== null ? `UNION ALL SELECT row_no, NULL, rule FROM ${file.rejects}` : ''}`);
}

/** q_<n> for an input the profile shows clean: no row is quarantined. */
export async function createEmptyQuarantine(duck: Duck, file: InputFile): Promise<void> {
  await duck.run(`CREATE OR REPLACE TEMP TABLE q_${file.index} (row_no BIGINT, "column" VARCHAR, rule VARCHAR)`);
}

/**
 * clients_f1: the F1 that the clients files give each raw BSN value without a usable BSN (rows not quarantined), and
 * whether they give it more than one. Benefits and interventions without a valid BSN take their F1 from here, so the
 * clients' quarantine (q_<n>) must exist first.
 */
export async function createClientsFallback(duck: Duck, clientFiles: readonly InputFile[]): Promise<void> {
  const fallbacks = clientFiles.map((f) => {
    const checks = checksOf(f);
    return `SELECT trim(${rawBsn(f)}) AS raw, fallback_f1(${checks.fallbackParts.join(', ')}) AS f1 FROM ${checks.rows} s
      WHERE NOT ${bsnUsableSql(`bsn_check(${rawBsn(f)})`)} AND trim(COALESCE(${rawBsn(f)}, '')) <> '' AND s.row_no NOT IN (SELECT row_no FROM q_${f.index})`;
  });
  await duck.run(
    fallbacks.length > 0
      ? `CREATE OR REPLACE TEMP TABLE clients_f1 AS SELECT raw, CASE WHEN count(DISTINCT f1) = 1 THEN any_value(f1) END AS f1, count(DISTINCT f1) > 1 AS ambiguous FROM (${fallbacks.join(' UNION ALL ')}) GROUP BY raw`
      : `CREATE OR REPLACE TEMP TABLE clients_f1 (raw VARCHAR, f1 VARCHAR, ambiguous BOOLEAN)`,
  );
}

/** The quarantine file: every quarantined row of every input, with file, row, column, rule and message (never the value). */
export async function writeQuarantine(
  duck: Duck,
  files: readonly InputFile[],
  dir: string,
  temp: string,
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const rows = files
      .map(
        (f) =>
          `SELECT ${sqlString(f.label)} AS file, ${f.index} AS file_index, row_no AS "row", "column", rule FROM q_${f.index}`,
      )
      .join(' UNION ALL ');
    await duck.run(
      `COPY (SELECT file, "row", "column", rule, ${ruleMessageSql('rule')} AS message FROM (${rows}) ORDER BY file_index, "row") TO ${sqlString(temp)} (FORMAT csv, HEADER true)`,
    );
    await chmod(temp, 0o600);
  } catch (error) {
    throw outputErrorFrom(error, temp);
  }
}
