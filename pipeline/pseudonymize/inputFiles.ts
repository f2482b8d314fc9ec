import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import iconv from 'iconv-lite';
import { allColumns, requiredColumns } from '../../schemas/inputs.js';
import {
  CANONICAL_TABLES,
  csvDialect,
  type CanonicalTable,
  type CsvDialect,
  type MappingFile,
} from '../../schemas/mapping.js';
import { Duck, sqlIdent, sqlString } from '../core/duckdb.js';
import { BoldlinkError, DataError, formatIssue, type DataIssue } from '../core/errors.js';
import { NumberLines } from './numberLines.js';
import type { ColumnSource } from './rowChecks.js';

/**
 * One input file, recognised as a canonical table by its (mapped) header and
 * loaded into DuckDB as `src_<n>` (a view or table every connection sees): `row_no` (1-based data row, as a steward
 * counts them in the export) plus the canonical columns. CSV is read with every
 * column as VARCHAR, so a bad value becomes a quarantined row instead of an
 * aborted run; lines the CSV reader cannot split into the header's columns
 * are collected in `rejects_<n>` with their row number.
 */
export interface InputFile {
  readonly index: number;
  readonly path: string;
  /** How the file is named in quarantine and accounting (its base name; disambiguated when two share one). */
  readonly label: string;
  readonly table: CanonicalTable;
  readonly format: 'csv' | 'parquet';
  /** Canonical column → delivered type (null when absent). */
  readonly columns: ReadonlyMap<string, ColumnSource>;
  /** Delivered headers that map to no canonical column and are dropped (names only; they may be direct identifiers). */
  readonly droppedHeaders: readonly string[];
  readonly dialect: CsvDialect;
  /** Relation with row_no + canonical columns. */
  readonly relation: string;
  /** Relation of CSV lines rejected by the reader (row_no, rule), or null. */
  readonly rejects: string | null;
  readonly valueMaps: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Without a mapping file: a plain CSV with canonical headers, ISO dates and a decimal point. */
const CANONICAL_CSV: CsvDialect = csvDialect.parse({
  delimiter: ',',
  encoding: 'utf-8',
  dateFormat: 'YYYY-MM-DD',
  decimalComma: false,
});

export const STRPTIME_FORMAT: Record<CsvDialect['dateFormat'], string> = {
  'DD-MM-YYYY': '%d-%m-%Y',
  'YYYY-MM-DD': '%Y-%m-%d',
  'DD/MM/YYYY': '%d/%m/%Y',
};

export async function loadInputFile(
  duck: Duck,
  path: string,
  index: number,
  label: string,
  mapping: MappingFile | undefined,
  scratchDir: string,
): Promise<InputFile> {
  const kind = await stat(path).then(
    (s) => (s.isFile() ? 'file' : 'not a file'),
    () => 'missing',
  );
  if (kind !== 'file') {
    throw DataError.single('INPUT_MISSING', {
      file: label,
      rule: 'file.read',
      message:
        kind === 'missing'
          ? `${path} does not exist or cannot be read`
          : `${path} is a folder, not a CSV or Parquet file`,
    });
  }
  const extension = extname(path).toLowerCase();
  if (extension === '.parquet') return loadParquet(duck, path, index, label, mapping);
  if (extension === '.csv' || extension === '.txt') return loadCsv(duck, path, index, label, mapping, scratchDir);
  throw DataError.single('INPUT_FORMAT', {
    file: label,
    rule: 'file.format',
    message: `unsupported file type '${extension}'; give CSV (.csv) or Parquet (.parquet) files`,
  });
}

interface Recognised {
  readonly table: CanonicalTable;
  /** Delivered header → canonical column. */
  readonly canonicalOf: ReadonlyMap<string, string>;
  readonly values: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Which table a header row is: the one whose required columns all appear after mapping (most mapped columns wins). */
export function recognise(headers: readonly string[], mapping: MappingFile | undefined, label: string): Recognised {
  const candidates: (Recognised & { matched: number })[] = [];
  for (const table of CANONICAL_TABLES) {
    const tableMapping = mapping?.tables[table];
    const known = new Set(allColumns(table));
    const canonicalOf = new Map<string, string>();
    for (const header of headers) {
      const mapped = tableMapping?.columns[header] ?? (known.has(header) ? header : undefined);
      if (mapped !== undefined && known.has(mapped)) canonicalOf.set(header, mapped);
    }
    const present = new Set(canonicalOf.values());
    if (requiredColumns(table).every((c) => present.has(c)))
      candidates.push({ table, canonicalOf, values: tableMapping?.values ?? {}, matched: present.size });
  }
  candidates.sort((a, b) => b.matched - a.matched);
  const best = candidates[0];
  if (best === undefined) {
    throw DataError.single('INPUT_UNRECOGNISED', {
      file: label,
      rule: 'file.header',
      message: `the header (${headers.length} columns) matches none of the tables ${CANONICAL_TABLES.join(', ')}; give --mapping with this export's column names, or use the canonical column names of docs/design.md, "Input tables" (e.g. clients needs ${requiredColumns('clients').join(', ')})`,
    });
  }
  if (candidates[1] !== undefined && candidates[1].matched === best.matched) {
    throw DataError.single('INPUT_AMBIGUOUS', {
      file: label,
      rule: 'file.header',
      message: `the header fits both ${best.table} and ${candidates[1].table}; rename or map its columns`,
    });
  }
  return best;
}

async function loadParquet(
  duck: Duck,
  path: string,
  index: number,
  label: string,
  mapping: MappingFile | undefined,
): Promise<InputFile> {
  let described: { column_name: string; column_type: string }[];
  try {
    described = await duck.jsonRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
  } catch (error) {
    throw DataError.single('INPUT_UNREADABLE', {
      file: label,
      rule: 'file.parquet',
      message: `not a readable Parquet file (${(error as Error).message.split('\n')[0] ?? ''})`,
    });
  }
  const types = new Map(described.map((d) => [d.column_name, d.column_type]));
  const recognised = recognise([...types.keys()], mapping, label);
  const { columns, select } = projection(recognised, (header) => types.get(header) ?? 'VARCHAR');
  const relation = `src_${index}`;
  // Not TEMP: the outputs are written on connections of their own (pseudonymize.ts), which must see it.
  await duck.run(
    `CREATE OR REPLACE VIEW ${relation} AS SELECT file_row_number + 1 AS row_no, ${select} FROM read_parquet(${sqlString(path)}, file_row_number = true)`,
  );
  return {
    index,
    path,
    label,
    table: recognised.table,
    format: 'parquet',
    columns,
    droppedHeaders: [...types.keys()].filter((h) => !recognised.canonicalOf.has(h)),
    dialect: { ...CANONICAL_CSV },
    relation,
    rejects: null,
    valueMaps: recognised.values,
  };
}

/**
 * Why a run that read its inputs failed, when the cause is a Parquet input
 * whose footer reads (so `loadParquet` accepted it) but whose data pages do
 * not decode: DuckDB then reports e.g. "Invalid Error: don't know what type"
 * without naming the file. Called only on the error path, so a good run pays
 * nothing for it: each Parquet input is decoded column by column, then the
 * broken column row group by row group (DuckDB skips the other row groups
 * by their row-number statistics), and the first failure becomes an
 * INPUT_CORRUPT DataError naming file, column and rows. Any other error is
 * returned as it was.
 */
export async function explainUnreadableInput(error: unknown, paths: readonly string[]): Promise<unknown> {
  if (error instanceof BoldlinkError || typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string')
    return error;
  const parquet = inputLabels(paths)
    .map((label, index) => ({ label, path: paths[index]! }))
    .filter((f) => extname(f.path).toLowerCase() === '.parquet');
  if (parquet.length === 0) return error;
  let duck: Duck | undefined;
  try {
    duck = await Duck.open({ threads: 1 });
    for (const file of parquet) {
      const corrupt = await firstUndecodable(duck, file.path);
      if (corrupt === undefined) continue;
      const rows =
        corrupt.rowGroup === undefined
          ? ''
          : `, in row group ${corrupt.rowGroup.index + 1} of ${corrupt.rowGroup.of} (data rows ${corrupt.rowGroup.firstRow}–${corrupt.rowGroup.lastRow})`;
      const issue: DataIssue = {
        file: file.label,
        column: corrupt.column,
        rule: 'file.parquet_pages',
        message: `the Parquet file's footer reads but its data pages do not decode${rows} (DuckDB: ${corrupt.reason}); the file is damaged (an interrupted copy or a failing disk): export or copy it again and rerun. Nothing was written`,
      };
      return new DataError('INPUT_CORRUPT', formatIssue(issue), [issue], { cause: error });
    }
    return error;
  } catch {
    // The diagnosis itself failed: report what the run ran into.
    return error;
  } finally {
    duck?.close();
  }
}

interface Undecodable {
  readonly column: string;
  readonly reason: string;
  readonly rowGroup?: {
    readonly index: number;
    readonly of: number;
    readonly firstRow: number;
    readonly lastRow: number;
  };
}

async function firstUndecodable(duck: Duck, path: string): Promise<Undecodable | undefined> {
  const source = `read_parquet(${sqlString(path)}, file_row_number = true)`;
  let columns: string[];
  try {
    columns = (
      await duck.jsonRows<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`)
    ).map((c) => c.column_name);
  } catch {
    return undefined;
  }
  const decodeError = async (column: string, where = ''): Promise<string | undefined> => {
    try {
      // hash() needs every value, so every page of the column is decoded (count() would read only the footer).
      await duck.run(`SELECT bit_xor(hash(${sqlIdent(column)})) FROM ${source}${where}`);
      return undefined;
    } catch (error) {
      return ((error as Error).message.split('\n')[0] ?? '').trim().slice(0, 200);
    }
  };
  for (const column of columns) {
    const reason = await decodeError(column);
    if (reason === undefined) continue;
    const groups = await duck
      .jsonRows<{ n: number | bigint }>(
        `SELECT row_group_num_rows AS n FROM parquet_metadata(${sqlString(path)}) WHERE path_in_schema = ${sqlString(column)} ORDER BY row_group_id`,
      )
      .catch(() => []);
    let first = 0;
    for (const [index, group] of groups.entries()) {
      const n = Number(group.n);
      if ((await decodeError(column, ` WHERE file_row_number BETWEEN ${first} AND ${first + n - 1}`)) !== undefined) {
        return { column, reason, rowGroup: { index, of: groups.length, firstRow: first + 1, lastRow: first + n } };
      }
      first += n;
    }
    return { column, reason };
  }
  return undefined;
}

function projection(
  recognised: Recognised,
  typeOf: (header: string) => string,
  refOf: (header: string) => string = sqlIdent,
): { columns: Map<string, ColumnSource>; select: string } {
  const columns = new Map<string, ColumnSource>();
  const parts: string[] = [];
  for (const column of allColumns(recognised.table)) {
    const header = [...recognised.canonicalOf].find(([, c]) => c === column)?.[0];
    if (header === undefined) {
      columns.set(column, { type: null });
      parts.push(`NULL::VARCHAR AS ${sqlIdent(column)}`);
    } else {
      columns.set(column, { type: typeOf(header) });
      parts.push(`${refOf(header)} AS ${sqlIdent(column)}`);
    }
  }
  return { columns, select: parts.join(', ') };
}

async function loadCsv(
  duck: Duck,
  path: string,
  index: number,
  label: string,
  mapping: MappingFile | undefined,
  scratchDir: string,
): Promise<InputFile> {
  const dialect = mapping?.csv ?? (await sniffCanonicalDialect(path));
  // One streaming pass: transcode to UTF-8 (DuckDB reads Latin-1, which differs from Windows-1252 in € and other
  // 0x80–0x9F characters) and number the lines. A UTF-8 byte-order mark wins over the declared encoding: Excel's
  // "CSV UTF-8" export writes one.
  const encoding = (await startsWithUtf8Bom(path)) ? 'utf-8' : dialect.encoding;
  // Read as Windows-1252, a UTF-8 header 'Reden beëindiging' matches no mapping and its column would be dropped unseen.
  if (encoding === 'windows-1252' && (await isUtf8WithoutBom(path))) {
    throw DataError.single('INPUT_ENCODING', {
      file: label,
      rule: 'file.encoding',
      message: `the file is UTF-8 (without a byte-order mark) but the mapping declares windows-1252; set "encoding": "utf-8" under "csv" in the mapping file, or export as "CSV UTF-8"`,
    });
  }
  const readable = join(scratchDir, `input-${index}.numbered.csv`);
  const numbering = new NumberLines(dialect.delimiter);
  await pipeline(
    createReadStream(path),
    iconv.decodeStream(encoding),
    iconv.encodeStream('utf-8'),
    numbering,
    createWriteStream(readable, { mode: 0o600 }),
  );
  const dataLines = numbering.lines;
  const headers = (await readHeader(readable, dialect, label)).slice(1);
  // Two columns with one name: which one holds the BSN (or the date) would be a guess.
  const repeated = headers.filter((h, i) => h !== '' && headers.indexOf(h) !== i);
  if (repeated.length > 0) {
    throw DataError.single('INPUT_HEADER', {
      file: label,
      column: repeated[0]!,
      rule: 'file.header',
      message: `the header names column '${repeated[0]!}' more than once; rename or remove the extra column`,
    });
  }
  const recognised = recognise(headers, mapping, label);
  const raw = `raw_${index}`;
  const rejects = `rejects_${index}`;
  const columnList = ['row_no', ...headers.map((_, i) => `c${i}`)];
  await duck.run(
    `CREATE OR REPLACE TEMP TABLE ${raw} AS SELECT * FROM read_csv(${sqlString(readable)}, delim = ${sqlString(dialect.delimiter)}, quote = ${sqlString(dialect.quote)}, escape = ${sqlString(dialect.quote)}, header = true, auto_detect = false, ` +
      `columns = {${columnList.map((c) => `${sqlString(c)}: 'VARCHAR'`).join(', ')}}, ignore_errors = true, store_rejects = true, rejects_table = ${sqlString(`${rejects}_errors`)}, rejects_scan = ${sqlString(`${rejects}_scans`)}, null_padding = false)`,
  );
  // Every data line is accepted, rejected by the reader (with its reason), or lost inside a neighbour's open quote.
  const rowOfRejected = `COALESCE(TRY_CAST(split_part(csv_line, ${sqlString(dialect.delimiter)}, 1) AS BIGINT), CAST(line AS BIGINT) - 1)`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${rejects} AS
    WITH rejected AS (
      SELECT ${rowOfRejected} AS row_no,
        min(CASE WHEN csv_line = split_part(csv_line, ${sqlString(dialect.delimiter)}, 1) || ${sqlString(dialect.delimiter)} OR trim(csv_line) = '' THEN 0
                 WHEN error_type IN ('TOO MANY COLUMNS', 'MISSING COLUMNS') THEN 1 WHEN error_type IN ('INVALID ENCODING', 'INVALID UNICODE') THEN 2
                 WHEN error_type = 'UNQUOTED VALUE' THEN 3 ELSE 4 END) AS kind
      FROM ${sqlIdent(`${rejects}_errors`)} GROUP BY 1
    ),
    accepted AS (SELECT TRY_CAST(row_no AS BIGINT) AS row_no FROM ${raw}),
    lost AS (
      SELECT range AS row_no, 3 AS kind FROM range(1, ${dataLines + 1})
      WHERE range NOT IN (SELECT row_no FROM accepted WHERE row_no IS NOT NULL) AND range NOT IN (SELECT row_no FROM rejected WHERE row_no IS NOT NULL)
    ),
    -- Read, but not as exported: a quoted line break swallowed the next line (and its row number) into a value,
    -- or bytes invalid in the encoding were decoded as U+FFFD.
    damaged AS (
      SELECT row_no, CASE WHEN strpos(line_text, chr(10)) > 0 THEN 3 ELSE 2 END AS kind
      FROM (SELECT TRY_CAST(row_no AS BIGINT) AS row_no, concat_ws(chr(31), ${headers.map((_, i) => `c${i}`).join(', ')}) AS line_text FROM ${raw})
      WHERE (strpos(line_text, chr(10)) > 0 OR strpos(line_text, chr(65533)) > 0) AND row_no NOT IN (SELECT row_no FROM rejected WHERE row_no IS NOT NULL)
    )
    SELECT row_no, CASE kind WHEN 0 THEN 'row.empty' WHEN 1 THEN 'row.columns' WHEN 2 THEN 'row.encoding' WHEN 3 THEN 'row.quote' ELSE 'row.parse' END AS rule
    FROM (SELECT * FROM rejected UNION ALL SELECT * FROM lost UNION ALL SELECT * FROM damaged) WHERE row_no BETWEEN 1 AND ${dataLines}`);
  const headerIndex = new Map(headers.map((h, i) => [h, i]));
  const { columns, select } = projection(
    recognised,
    () => 'VARCHAR',
    (header) => `c${headerIndex.get(header) ?? -1}`,
  );
  const relation = `src_${index}`;
  // Not TEMP: the outputs are written on connections of their own (pseudonymize.ts), which must see it.
  await duck.run(
    `CREATE OR REPLACE TABLE ${relation} AS SELECT CAST(row_no AS BIGINT) AS row_no, ${select} FROM ${raw} WHERE TRY_CAST(row_no AS BIGINT) BETWEEN 1 AND ${dataLines} AND TRY_CAST(row_no AS BIGINT) NOT IN (SELECT row_no FROM ${rejects}) ORDER BY 1`,
  );
  await duck.run(`DROP TABLE ${raw}`);
  await rm(readable, { force: true });
  return {
    index,
    path,
    label,
    table: recognised.table,
    format: 'csv',
    columns,
    droppedHeaders: headers.filter((h) => !recognised.canonicalOf.has(h)),
    dialect,
    relation,
    rejects,
    valueMaps: recognised.values,
  };
}

/** A CSV with canonical headers and no mapping file: ',' or ';' (whichever the header uses), UTF-8, ISO dates. */
async function sniffCanonicalDialect(path: string): Promise<CsvDialect> {
  const first = await firstLine(path);
  const delimiter = first.includes(';') ? ';' : first.includes('\t') ? '\t' : ',';
  return { ...CANONICAL_CSV, delimiter, decimalComma: delimiter === ';' };
}

/** Non-ASCII bytes that all form valid UTF-8 sequences: text in Windows-1252 practically never does. */
async function isUtf8WithoutBom(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    let sample = buffer.subarray(0, bytesRead);
    if (!sample.some((b) => b >= 0x80)) return false;
    // A full buffer may end inside a multi-byte character: cut back to the last ASCII byte.
    if (bytesRead === buffer.length) sample = sample.subarray(0, sample.findLastIndex((b) => b < 0x80) + 1);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(sample);
      return true;
    } catch {
      return false;
    }
  } finally {
    await handle.close();
  }
}

async function startsWithUtf8Bom(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(3);
    const { bytesRead } = await handle.read(buffer, 0, 3, 0);
    return bytesRead === 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;
  } finally {
    await handle.close();
  }
}

async function firstLine(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    let text = buffer.subarray(0, bytesRead).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const end = text.search(/\r?\n/);
    return end === -1 ? text : text.slice(0, end);
  } finally {
    await handle.close();
  }
}

async function readHeader(path: string, dialect: CsvDialect, label: string): Promise<string[]> {
  const line = await firstLine(path);
  if (line.trim() === '')
    throw DataError.single('INPUT_EMPTY', {
      file: label,
      rule: 'file.header',
      message: 'the file is empty or has no header row',
    });
  const headers: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === dialect.quote && line[i + 1] === dialect.quote) {
        current += ch;
        i++;
      } else if (ch === dialect.quote) quoted = false;
      else current += ch;
    } else if (ch === dialect.quote) quoted = true;
    else if (ch === dialect.delimiter) {
      headers.push(current.trim());
      current = '';
    } else current += ch;
  }
  headers.push(current.trim());
  return headers;
}

/** Distinct labels for the input files: base names, with a counter where two share one. */
export function inputLabels(paths: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return paths.map((p) => {
    const name = basename(p);
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}#${n}`;
  });
}
