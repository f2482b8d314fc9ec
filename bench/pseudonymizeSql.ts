import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { takesClientsFallback } from '../pipeline/pseudonymize/fileChecks.js';
import { profileOf } from '../pipeline/pseudonymize/fileProfile.js';
import { loadInputFile, type InputFile } from '../pipeline/pseudonymize/inputFiles.js';
import { readMapping } from '../pipeline/pseudonymize/pseudonymize.js';
import { outputRows, TABLE_ORDER } from '../pipeline/pseudonymize/outputTables.js';
import {
  createClientsFallback,
  createEmptyQuarantine,
  createQuarantine,
  writeQuarantine,
} from '../pipeline/pseudonymize/quarantine.js';

/**
 * The pseudonymize stage's work as plain DuckDB SQL, for the chain's reference (issue #11): the stage's own SQL
 * (profile with statuses, rule failures and duplicates; quarantine; output rows with P1, F1, coarsening and the
 * dropped identifiers) run directly, with SQL macros in place of the stage's JS functions. sha256 stands in for the
 * HMAC (DuckDB has none) and a join for the clients' F1 lookup. No manifest, checksums, key file, atomic commit or
 * process of its own, and one statement after another.
 */
export async function pseudonymizeWithSqlOnly(
  inputs: readonly string[],
  mappingPath: string | undefined,
  outDir: string,
  scratchDir: string,
): Promise<void> {
  const mapping = mappingPath === undefined ? undefined : await readMapping(mappingPath);
  await mkdir(outDir, { recursive: true });
  await mkdir(scratchDir, { recursive: true });
  const duck = await Duck.open({ tempDirectory: join(scratchDir, 'duckdb') });
  try {
    await duck.run(PSEUDONYM_MACROS);
    const files: InputFile[] = [];
    for (const [index, path] of inputs.entries())
      files.push(await loadInputFile(duck, path, index, basename(path), mapping, scratchDir));
    const heldBack = new Map<number, string>();
    const quarantine = async (file: InputFile) => {
      const profile = await profileOf(duck, file);
      if (!profile.mayQuarantine) return createEmptyQuarantine(duck, file);
      await createQuarantine(duck, file);
      heldBack.set(file.index, `s.row_no IN (SELECT row_no FROM q_${file.index})`);
    };
    for (const file of files) if (!takesClientsFallback(file)) await quarantine(file);
    await createClientsFallback(
      duck,
      files.filter((f) => f.table === 'clients'),
    );
    await duck.run(
      `CREATE OR REPLACE TEMP MACRO clients_fallback(value) AS (SELECT f1 FROM clients_f1 WHERE raw = value AND NOT ambiguous)`,
    );
    for (const file of files) if (takesClientsFallback(file)) await quarantine(file);
    for (const table of TABLE_ORDER) {
      const tableFiles = files.filter((f) => f.table === table);
      if (tableFiles.length === 0) continue;
      const rows = tableFiles.map((f) => outputRows(f, heldBack.get(f.index))).join(' UNION ALL ');
      await duck.run(`COPY (${rows}) TO ${sqlString(join(outDir, `${table}.parquet`))} (FORMAT parquet)`);
    }
    await writeQuarantine(
      duck,
      files,
      join(scratchDir, 'quarantine'),
      join(scratchDir, 'quarantine', 'quarantine.csv'),
    );
  } finally {
    duck.close();
  }
}

/**
 * `bsn_check`, `bsn_p1` and `fallback_f1` in SQL: the canonicalisation of docs/design.md (whitespace, dots and
 * hyphens removed; eight digits take a leading zero), the elfproef over the number, and sha256 for the HMAC, cut to P1's 32 characters.
 */
const PSEUDONYM_MACROS = `
-- The usual BSN (eight or nine plain digits) takes the short way; only other forms are cleaned first.
CREATE OR REPLACE TEMP MACRO bsn_digits(raw) AS
  CASE WHEN regexp_full_match(raw, '[0-9]{8,9}') THEN raw ELSE regexp_replace(raw, '[\\s.\\-]', '', 'g') END;
CREATE OR REPLACE TEMP MACRO elfproef(n) AS
  (9 * (n // 100000000 % 10) + 8 * (n // 10000000 % 10) + 7 * (n // 1000000 % 10) + 6 * (n // 100000 % 10)
   + 5 * (n // 10000 % 10) + 4 * (n // 1000 % 10) + 3 * (n // 100 % 10) + 2 * (n // 10 % 10) - n % 10) % 11 = 0;
CREATE OR REPLACE TEMP MACRO bsn_code(digits) AS
  CASE
    WHEN digits IS NULL OR digits = '' THEN 2
    WHEN NOT regexp_full_match(digits, '[0-9]+') THEN 3
    WHEN length(digits) NOT IN (8, 9) THEN 4
    WHEN CAST(digits AS BIGINT) = 0 THEN 5
    WHEN NOT elfproef(CAST(digits AS BIGINT)) THEN 6
    WHEN length(digits) = 8 THEN 1
    ELSE 0
  END;
CREATE OR REPLACE TEMP MACRO bsn_check(raw) AS CAST(bsn_code(bsn_digits(raw)) AS UTINYINT);
CREATE OR REPLACE TEMP MACRO bsn_p1(raw) AS
  CASE WHEN bsn_check(raw) <= 1 THEN left(sha256('p1-key|' || lpad(bsn_digits(raw), 9, '0')), 32) END;
CREATE OR REPLACE TEMP MACRO fallback_f1(birth, sex, pc6, house) AS
  left(sha256('f1-key|fallback:' || birth || '|' || sex || '|' || pc6 || '|' || house), 32);
`;
