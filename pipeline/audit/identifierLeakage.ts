import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fillSql, sqlIdent, sqlString, type Duck } from '../core/duckdb.js';
import { log } from '../core/log.js';
import { besideModule } from '../core/projectPath.js';
import { finding, type CheckResult, type Finding } from './finding.js';
import { isJsonArray } from '../core/fileRows.js';
import { fileKind, tableSource, textSource } from './tableReader.js';
import { MANIFEST_NAME, workspaceFile, type StageDir, type Workspace } from './workspace.js';

/**
 * Identifier leakage, by DuckDB SQL over every column of every output:
 * BSN-like values (elfproef-valid 9 digits, or 8 digits valid once padded)
 * anywhere except the raw source data; source pseudonyms (P1, F1) anywhere past
 * the sources; RIDs, P1 or F1 anywhere in a release. Only counts and places
 * are reported, never a value.
 */

/** Where a file sits in the chain of custody, which decides which pseudonyms may appear in it. */
type Area = 'source' | 'linked' | 'release';

const AREA_OF_STAGE: Record<string, Area | undefined> = {
  pseudonymize: 'source',
  link: 'linked',
  metrics: 'linked',
  release: 'release',
  protect: 'release',
};

/** Column types that hold no identifier: dates and flags (their text forms are not identifiers). */
const NOT_SCANNED = /^(DATE|TIME|TIMESTAMP|TIMESTAMP WITH TIME ZONE|TIMESTAMP_[A-Z]+|INTERVAL|BOOLEAN)$/;
/** Column types that can hold a hex pseudonym. */
const TEXTUAL = /VARCHAR|JSON|STRUCT|MAP|\[\]|UNION|BLOB/;

interface ScannedFile {
  readonly absPath: string;
  /** As findings name it: relative to the workspace. */
  readonly name: string;
  /** Relative to its stage directory (or disclosure-log folder). */
  readonly inStage: string;
  readonly area: Area;
  /** Aggregates (tables, effects, the disclosure log): their numbers are counts and sums, and a national count has 8 digits. */
  readonly aggregate: boolean;
}

export async function checkIdentifierLeakage(workspace: Workspace, duck: Duck): Promise<CheckResult> {
  await duck.run(await readFile(besideModule(import.meta.url, 'identifierMacros.sql'), 'utf8'));
  const files = await filesToScan(workspace);
  const collecting = performance.now();
  const collectingCpu = process.cpuUsage();
  await collectPseudonyms(workspace, duck);
  log().debug(
    { ms: Math.round(performance.now() - collecting), cpuMs: cpuMs(collectingCpu) },
    'audit: pseudonyms collected',
  );
  const findings: Finding[] = [];
  let columnsScanned = 0;
  let notScanned = 0;
  for (const file of files) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    try {
      const columns = await scanColumns(duck, file);
      if (columns === null) {
        notScanned++;
        continue;
      }
      columnsScanned += columns.all.length;
      const pseudonymColumns = file.area === 'source' ? [] : columns.textual;
      findings.push(...(await leakFindings(duck, file, columns, pseudonymColumns)));
      log().debug(
        {
          file: file.name,
          columns: columns.all.length,
          ms: Math.round(performance.now() - started),
          cpuMs: cpuMs(cpu),
        },
        'audit: file scanned',
      );
    } catch (error) {
      // A file the audit cannot read is a file it cannot vouch for; the reason may quote a cell, so it is not repeated.
      log().debug({ file: file.name, err: error }, 'audit: file could not be scanned');
      findings.push(
        finding(
          'leak',
          'leak.unscannable',
          file.name,
          'This file could not be read as a table or as text, so it could not be checked for identifiers.',
        ),
      );
    }
  }
  await duck.run('DROP TABLE IF EXISTS audit_file');
  const counts = await duck.jsonRows<{ p1: number; f1: number; rid: number }>(
    'SELECT count(*) FILTER (WHERE is_p1) AS p1, count(*) FILTER (WHERE is_f1) AS f1, count(*) FILTER (WHERE is_rid) AS rid FROM audit_pseudonym',
  );
  const c = counts[0] ?? { p1: 0, f1: 0, rid: 0 };
  return {
    findings,
    summary: {
      check: 'leak',
      title: 'Identifier leakage',
      covered: [
        `${files.length} files scanned (${columnsScanned} columns or documents) for BSN-like values: 9 digits passing the elfproef, 8 digits passing once padded`,
        `${c.p1} distinct P1 and ${c.f1} distinct F1 pseudonyms from the source outputs, and ${c.rid} distinct RIDs from the link output, searched for downstream`,
        'not scanned: raw source data (generate outputs, quarantine folders), which hold BSNs by design and stay at the source',
        ...(notScanned > 0 ? [`${notScanned} binary files (not Parquet, CSV, JSON or text) not scanned`] : []),
      ],
    },
  };
}

async function filesToScan(workspace: Workspace): Promise<ScannedFile[]> {
  const files: ScannedFile[] = [];
  for (const dir of workspace.stageDirs) {
    const area = dir.stage === null ? 'release' : AREA_OF_STAGE[dir.stage];
    if (area === undefined) continue; // generate: synthetic raw source data, BSNs by design
    for (const file of [MANIFEST_NAME, ...dir.files]) {
      const aggregate =
        area === 'release' || file.startsWith('tables/') || (dir.stage === 'metrics' && file !== 'spells.parquet');
      files.push({ absPath: join(dir.absDir, file), name: workspaceFile(dir, file), inStage: file, area, aggregate });
    }
  }
  // The internal disclosure log stays in the secure environment: no identifiers there either.
  for (const logDir of workspace.disclosureLogDirs) {
    for (const file of await readdir(join(workspace.root, logDir), { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const absPath = join(file.parentPath, file.name);
      const inStage = absPath
        .slice(join(workspace.root, logDir).length + 1)
        .split('\\')
        .join('/');
      files.push({ absPath, name: `${logDir}/${inStage}`, inStage, area: 'linked', aggregate: true });
    }
  }
  return files;
}

/**
 * The values the later areas must not hold, collected from the outputs that
 * hold them legitimately, into one lookup table (a value found in two sets
 * keeps both marks) by a single grouping over every source.
 */
async function collectPseudonyms(workspace: Workspace, duck: Duck): Promise<void> {
  const selects: string[] = [];
  const collect = async (dir: StageDir, column: string, kind: 'p1' | 'f1' | 'rid') => {
    for (const file of dir.files.filter((f) => fileKind(f) === 'parquet')) {
      const path = join(dir.absDir, file);
      const names = await columnNames(duck, `read_parquet(${sqlString(path)})`);
      if (names?.includes(column))
        selects.push(
          `SELECT lower(CAST(${sqlIdent(column)} AS VARCHAR)) AS v, '${kind}' AS kind FROM read_parquet(${sqlString(path)}) WHERE ${sqlIdent(column)} IS NOT NULL`,
        );
    }
  };
  for (const dir of workspace.stageDirs) {
    if (dir.stage === 'pseudonymize') {
      await collect(dir, 'p1', 'p1');
      await collect(dir, 'f1', 'f1');
    } else if (dir.stage === 'link') {
      await collect(dir, 'rid', 'rid');
    }
  }
  const body =
    selects.length === 0 ? 'SELECT NULL::VARCHAR AS v, NULL::VARCHAR AS kind WHERE false' : selects.join(' UNION ALL ');
  await duck.run(`CREATE OR REPLACE TEMP TABLE audit_pseudonym AS
    SELECT v, bool_or(kind = 'p1') AS is_p1, bool_or(kind = 'f1') AS is_f1, bool_or(kind = 'rid') AS is_rid
    FROM (${body})
    GROUP BY v`);
}

interface ScanColumn {
  readonly name: string;
  /** SQL giving the column's scanned text (VARCHAR). */
  readonly text: string;
}

interface FileColumns {
  /** SELECT source: a table function, a document's text leaves, or the file's text. */
  readonly source: string;
  readonly isTable: boolean;
  /** Columns searched for BSN-like values. */
  readonly all: readonly ScanColumn[];
  /** Columns that can hold a hex pseudonym. */
  readonly textual: readonly ScanColumn[];
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const FRACTIONAL = /^(FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
/** Documents bigger than this are scanned as plain text rather than walked as JSON. */
const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

async function scanColumns(duck: Duck, file: ScannedFile): Promise<FileColumns | null> {
  const path = file.absPath;
  const kind = fileKind(path);
  if (kind === 'binary') return null;
  if (kind === 'parquet' || kind === 'csv' || (kind === 'json' && (await isJsonArray(path)))) {
    const reader =
      kind === 'json'
        ? `read_json(${sqlString(path)}, format = 'array', maximum_object_size = 1073741824)`
        : tableSource(path, kind);
    // A CSV or JSON file is sniffed on every read; read it once into a table that both the DESCRIBE and the scan use.
    const source = kind === 'parquet' ? reader : await materialized(duck, reader);
    const described = source === null ? null : await describe(duck, source);
    if (source !== null && described !== null) {
      const all: ScanColumn[] = [];
      for (const c of described) {
        const ident = sqlIdent(c.name);
        if (NOT_SCANNED.test(c.type)) continue;
        const numeric = INTEGER.test(c.type) || FRACTIONAL.test(c.type);
        // Counts, sums and means of an aggregate table are not identifiers, and a national count has 8 digits.
        if (numeric && file.aggregate) continue;
        if (FRACTIONAL.test(c.type)) {
          // Only a whole number can be a BSN stored as a number; '12345678.5' is a wage sum, not an identifier.
          all.push({
            name: c.name,
            text: `CASE WHEN ${ident} = trunc(${ident}) AND abs(${ident}) >= 1e7 AND abs(${ident}) < 1e9 THEN CAST(CAST(${ident} AS BIGINT) AS VARCHAR) END`,
          });
        } else if (INTEGER.test(c.type)) {
          // A whole number's text is one run of digits: only 8 or 9 of them can be a BSN.
          all.push({
            name: c.name,
            text: `CASE WHEN abs(TRY_CAST(${ident} AS DOUBLE)) BETWEEN 1e7 AND 999999999 THEN CAST(${ident} AS VARCHAR) END`,
          });
        } else {
          all.push({ name: c.name, text: atLeastEightCharacters(ident) });
        }
      }
      const textual = described
        .filter((c) => TEXTUAL.test(c.type))
        .map((c) => ({ name: c.name, text: atLeastEightCharacters(sqlIdent(c.name)) }));
      return { source, isTable: true, all, textual };
    }
  }
  if (kind === 'json' && (await stat(path)).size <= MAX_DOCUMENT_BYTES) {
    // A JSON document (manifest, catalogue, linkage report): its numbers are counts and sizes; identifiers would be strings.
    const leaves = await jsonStringLeaves(path);
    if (leaves !== null) {
      await duck.run('CREATE OR REPLACE TABLE audit_document (content VARCHAR)');
      const appender = await duck.connection.createAppender('audit_document');
      for (const leaf of leaves) {
        appender.appendVarchar(leaf);
        appender.endRow();
      }
      appender.closeSync();
      const column = [{ name: 'content', text: 'content' }];
      return { source: 'audit_document', isTable: false, all: column, textual: column };
    }
  }
  // Other documents (HTML, text) are scanned as a whole.
  const column = [{ name: 'content', text: 'content' }];
  return { source: textSource(path), isTable: false, all: column, textual: column };
}

/** The file read into the temporary table `audit_file`; null when it cannot be read as a table. */
async function materialized(duck: Duck, reader: string): Promise<string | null> {
  try {
    await duck.run(`CREATE OR REPLACE TEMP TABLE audit_file AS SELECT * FROM ${reader}`);
    return 'audit_file';
  } catch {
    return null;
  }
}

/** Every string in a JSON document, keys included; null when the file is not JSON. */
async function jsonStringLeaves(path: string): Promise<string[] | null> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
  const leaves: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') leaves.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value)) {
        leaves.push(key);
        walk(inner);
      }
    }
  };
  walk(json);
  return leaves;
}

let leakScanSql: Promise<string> | undefined;

/**
 * BSN-like values in `columns.all` and source pseudonyms or RIDs in
 * `pseudonymColumns`, in one read of the file (leakScan.sql).
 */
async function leakFindings(
  duck: Duck,
  file: ScannedFile,
  columns: FileColumns,
  pseudonymColumns: readonly ScanColumn[],
): Promise<Finding[]> {
  if (columns.all.length === 0 && pseudonymColumns.length === 0) return [];
  // Each column once, under its own name; a column both searches cover is cast the same way for both.
  const scanned = new Map<string, ScanColumn>();
  for (const c of [...columns.all, ...pseudonymColumns]) if (!scanned.has(c.name)) scanned.set(c.name, c);
  const nameList = (list: readonly ScanColumn[]) => `[${list.map((c) => sqlString(c.name)).join(', ')}]::VARCHAR[]`;
  const long =
    columns.isTable && Number(await duck.scalar<bigint>(`SELECT count(*) FROM ${columns.source}`)) >= LONG_FILE_ROWS;
  const cells = long
    ? distinctCells([...scanned.values()], columns.source)
    : everyCell([...scanned.values()], columns.source);
  leakScanSql ??= readFile(besideModule(import.meta.url, 'leakScan.sql'), 'utf8');
  const sql = fillSql(await leakScanSql, {
    cells,
    bsnColumns: nameList(columns.all),
    pseudonymColumns: nameList(pseudonymColumns),
  });
  const rows = await duck.jsonRows<{
    column_name: string;
    cells_nine_digits: number;
    cells_eight_digits: number;
    p1_values: number;
    f1_values: number;
    rid_values: number;
    pseudonym_shaped: number;
  }>(sql);
  const found: Finding[] = [];
  const where = file.area === 'release' ? 'release' : 'linked';
  const what = file.area === 'release' ? 'released output' : 'linked data (past the sources)';
  for (const row of rows) {
    const column = columnLabel(row.column_name, columns.isTable);
    const extra = column === undefined ? {} : { column };
    const add = (n: number, rule: string, message: string) => {
      if (n > 0) found.push(finding('leak', rule, file.name, message, { ...extra, count: Number(n) }));
    };
    add(
      row.cells_nine_digits,
      'leak.bsn',
      `${row.cells_nine_digits} ${plural(row.cells_nine_digits, 'value holds', 'values hold')} a 9-digit number that passes the elfproef (a BSN).`,
    );
    add(
      row.cells_eight_digits,
      'leak.bsn-padded',
      `${row.cells_eight_digits} ${plural(row.cells_eight_digits, 'value holds', 'values hold')} an 8-digit number that passes the elfproef once its leading zero is restored (a BSN that lost its zero).`,
    );
    if (file.area === 'source') continue;
    add(
      row.p1_values,
      `leak.p1-in-${where}`,
      `${row.p1_values} source pseudonym (P1) ${plural(row.p1_values, 'value', 'values')} of the source outputs found in ${what}.`,
    );
    add(
      row.f1_values,
      `leak.f1-in-${where}`,
      `${row.f1_values} fallback pseudonym (F1) ${plural(row.f1_values, 'value', 'values')} of the source outputs found in ${what}.`,
    );
    if (file.area === 'release') {
      add(
        row.rid_values,
        'leak.rid-in-release',
        `${row.rid_values} research pseudonym (RID) ${plural(row.rid_values, 'value', 'values')} of the link output found in the release.`,
      );
      const unknown = row.pseudonym_shaped - row.p1_values - row.f1_values - row.rid_values;
      // A released table has no business holding pseudonym-shaped values at all, even ones this run did not make.
      if (columns.isTable)
        add(
          unknown,
          'leak.pseudonym-shaped-in-release',
          `${unknown} ${plural(unknown, 'value', 'values')} shaped like a pseudonym (32 hex characters) in a released table.`,
        );
    }
  }
  return found;
}

/** From this many rows on, a file's cells are grouped by value before the scan (below it, grouping costs more than it saves). */
const LONG_FILE_ROWS = 50_000;

/**
 * A long file's cells as each column's distinct texts with how many cells hold
 * them: one grouping per column (each reads only its own column), far cheaper
 * than running the regular expressions on every cell when values repeat down
 * a column (a person's pseudonym on each of their jobs, a contract type).
 */
function distinctCells(columns: readonly ScanColumn[], source: string): string {
  return columns
    .map(
      (c) =>
        `SELECT ${sqlString(c.name)} AS column_name, cell, count(*) AS n FROM (SELECT ${c.text} AS cell FROM ${source}) WHERE cell IS NOT NULL GROUP BY cell`,
    )
    .join('\n  UNION ALL\n  ');
}

/** A short file's cells one by one, in one read (UNPIVOT drops the NULLs). */
function everyCell(columns: readonly ScanColumn[], source: string): string {
  return `SELECT column_name, cell, 1 AS n FROM (UNPIVOT (SELECT ${columns.map((c) => `${c.text} AS ${sqlIdent(c.name)}`).join(', ')} FROM ${source}) ON COLUMNS(*) INTO NAME column_name VALUE cell)`;
}

/** Whole-document scans have no column to name. */
function columnLabel(column: string, isTable: boolean): string | undefined {
  return isTable ? column : undefined;
}

/**
 * A column's text, or NULL when it is shorter than 8 characters: every BSN-like
 * value needs 8 digits and every pseudonym 32 characters, so short cells
 * (codes, flags, small counts) never reach the scan.
 */
function atLeastEightCharacters(ident: string): string {
  return `CASE WHEN length(CAST(${ident} AS VARCHAR)) >= 8 THEN CAST(${ident} AS VARCHAR) END`;
}

async function describe(duck: Duck, source: string): Promise<{ name: string; type: string }[] | null> {
  try {
    const rows = await duck.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`);
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  } catch {
    return null;
  }
}

async function columnNames(duck: Duck, source: string): Promise<string[] | null> {
  return (await describe(duck, source))?.map((c) => c.name) ?? null;
}

/** Process CPU milliseconds (all threads, DuckDB's included) since `since`. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return Math.round((used.user + used.system) / 1000);
}

function plural(n: number, one: string, many: string): string {
  return Number(n) === 1 ? one : many;
}
