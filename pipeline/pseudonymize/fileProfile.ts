import { type Duck, sqlIdent } from '../core/duckdb.js';
import { besideModule } from '../core/projectPath.js';
import { checksOf, hasFallbackFields, rawBsn } from './fileChecks.js';
import type { InputFile } from './inputFiles.js';
import { REPAIRED_CODE } from './pseudonymFunctions.js';

export interface FileProfile {
  /** Rows of the input, including lines the CSV reader rejected. */
  readonly rowsIn: number;
  /** Whether any row may be quarantined: a broken rule, a repeated row, an unusable BSN where the table has no fallback, a rejected line. */
  readonly mayQuarantine: boolean;
}

/**
 * Profile one input in a single scan (fileProfile.sql): bsn_status_<n> (input rows per BSN status code, and how many
 * break a rule) and dup_<n> (the exact duplicates: every row after the first of its kind), and whether the quarantine
 * pass is needed.
 */
export async function profileOf(duck: Duck, file: InputFile): Promise<FileProfile> {
  const columns = [...file.columns.keys()].map((c) => `s.${sqlIdent(c)}`).join(', ');
  const checks = checksOf(file);
  await duck.runFile(besideModule(import.meta.url, 'fileProfile.sql'), {
    table: `bsn_status_${file.index}`,
    rows: checks.rows,
    code: `bsn_check(${rawBsn(file)})`,
    failing: `${checks.failure} IS NOT NULL`,
    hash: `hash(${columns})`,
  });
  const counts = await duck.jsonRows<{ code: number; n: number; failing: number; repeated: number }>(
    `SELECT code, n, failing, repeated FROM bsn_status_${file.index}`,
  );
  // Most files have no repeated row at all: then the scans for the exact comparison are not needed.
  if (counts.every((c) => Number(c.repeated) === 0)) {
    await duck.run(`CREATE OR REPLACE TEMP TABLE dup_${file.index} (row_no BIGINT)`);
  } else {
    await duck.runFile(besideModule(import.meta.url, 'duplicateHashes.sql'), {
      table: `dup_hashes_${file.index}`,
      hashes: `SELECT hash(${columns}) AS h FROM ${file.relation} s`,
    });
    await duck.run(`CREATE OR REPLACE TEMP TABLE dup_${file.index} AS
      WITH candidates AS (SELECT s.* FROM ${file.relation} s WHERE hash(${columns}) IN (SELECT h FROM dup_hashes_${file.index})),
      numbered AS (SELECT s.row_no, row_number() OVER (PARTITION BY ${columns} ORDER BY s.row_no) AS copy FROM candidates s)
      SELECT row_no FROM numbered WHERE copy > 1`);
  }
  const rejected =
    file.rejects !== null ? Number(await duck.scalar<bigint>(`SELECT count(*) FROM ${file.rejects}`)) : 0;
  const duplicates = Number(await duck.scalar<bigint>(`SELECT count(*) FROM dup_${file.index}`));
  const unusableBsn = counts.some((c) => Number(c.code) > REPAIRED_CODE && Number(c.n) > 0);
  return {
    rowsIn: counts.reduce((sum, c) => sum + Number(c.n), 0) + rejected,
    mayQuarantine:
      rejected > 0 ||
      duplicates > 0 ||
      counts.some((c) => Number(c.failing) > 0) ||
      (unusableBsn && !hasFallbackFields(file)),
  };
}
