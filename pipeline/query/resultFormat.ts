import {
  Bool,
  DateDay,
  Float64,
  Int32,
  Int64,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import type { ApiColumn, ApiResult } from '../../schemas/api.js';
import type { Cell } from './suppressedResult.js';

/** What every writer takes: named, typed columns and row-major JSON-friendly cells. */
export interface TabularResult {
  readonly columns: readonly ApiColumn[];
  readonly rows: readonly (readonly Cell[])[];
  readonly warnings: readonly string[];
}

export function toJsonBody(result: TabularResult, table?: string): ApiResult {
  const names = result.columns.map((c) => c.name);
  return {
    ...(table === undefined ? {} : { table }),
    columns: result.columns,
    rows: result.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i] ?? null]))),
    rowCount: result.rows.length,
    warnings: result.warnings,
  };
}

/** RFC 4180 CSV with a header line; NULL is an empty field. */
export function toCsv(result: TabularResult): string {
  const lines = [result.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of result.rows) lines.push(row.map((cell) => csvField(cell)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function csvField(cell: Cell): string {
  if (cell === null) return '';
  const text = typeof cell === 'object' ? JSON.stringify(cell) : String(cell);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** An Arrow IPC stream (what pyarrow.ipc.open_stream, R's arrow::read_ipc_stream and apache-arrow's tableFromIPC read). */
export function toArrow(result: TabularResult): Uint8Array {
  const vectors: Record<string, Vector> = {};
  result.columns.forEach((column, i) => {
    const values = result.rows.map((row) => row[i] ?? null);
    vectors[uniqueName(column.name, vectors)] = arrowVector(column.type, values);
  });
  return tableToIPC(new Table(vectors), 'stream');
}

function uniqueName(name: string, taken: Record<string, unknown>): string {
  let candidate = name;
  for (let n = 2; candidate in taken; n++) candidate = `${name}_${n}`;
  return candidate;
}

function arrowVector(duckType: string, values: Cell[]): Vector {
  const type = arrowType(duckType);
  if (type instanceof Int64)
    return vectorFromArray(
      values.map((v) => (v === null ? null : BigInt(typeof v === 'number' ? Math.trunc(v) : String(v)))),
      type,
    );
  if (type instanceof DateDay)
    return vectorFromArray(
      values.map((v) => (v === null ? null : new Date(`${String(v)}T00:00:00Z`))),
      type,
    );
  if (type instanceof Utf8)
    return vectorFromArray(
      values.map((v) => (v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v))),
      type,
    );
  return vectorFromArray(values as (number | boolean | null)[], type);
}

function arrowType(duckType: string): DataType {
  if (/^(BIGINT|HUGEINT|UBIGINT|UINTEGER|UHUGEINT)$/.test(duckType)) return new Int64();
  if (/^(INTEGER|SMALLINT|TINYINT|USMALLINT|UTINYINT)$/.test(duckType)) return new Int32();
  if (/^(DOUBLE|FLOAT|REAL)$/.test(duckType) || duckType.startsWith('DECIMAL')) return new Float64();
  if (duckType === 'BOOLEAN') return new Bool();
  if (duckType === 'DATE') return new DateDay();
  return new Utf8();
}

/** Aligned text for a terminal; NULL shown as 'NULL'. */
export function toTextTable(result: TabularResult): string {
  const header = result.columns.map((c) => c.name);
  const body = result.rows.map((row) =>
    row.map((cell) => (cell === null ? 'NULL' : typeof cell === 'object' ? JSON.stringify(cell) : String(cell))),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const numeric = result.columns.map((c) => /INT|DOUBLE|FLOAT|DECIMAL|REAL/.test(c.type));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] === true ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  lines.push(`(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`);
  return `${lines.join('\n')}\n`;
}
