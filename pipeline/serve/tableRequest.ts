import type { LoadedTable } from '../query/releaseDatabase.js';
import type { TabularResult } from '../query/resultFormat.js';
import type { Cell } from '../query/suppressedResult.js';

/** A bad table request (unknown filter column, bad sort, bad limit): HTTP 400. */
export class TableRequestError extends Error {
  readonly code = 'BAD_REQUEST';
}

const RESERVED = new Set(['format', 'sort', 'limit', 'offset']);

/**
 * Rows of a released table for `GET /api/tables/{name}`: equality filters on
 * the text columns (dimensions and statuses; repeat a parameter for several
 * values), `sort=col,-other`, `limit`, `offset`. Released tables are
 * aggregates of at most some tens of thousands of cells held in memory, so
 * this runs in microseconds without a query engine round trip.
 */
export function selectTableRows(table: LoadedTable, params: URLSearchParams, maxRows: number): TabularResult {
  const names = table.columns.map((c) => c.name);
  const filterable = new Set(table.columns.filter((c) => c.type === 'VARCHAR').map((c) => c.name));
  const filters: { index: number; values: Set<string> }[] = [];
  for (const key of new Set(params.keys())) {
    if (RESERVED.has(key)) continue;
    if (!filterable.has(key)) {
      throw new TableRequestError(
        `'${key}' is not a filter of ${table.table.name}; filter on ${[...filterable].join(', ')} (or use format, sort, limit, offset).`,
      );
    }
    filters.push({ index: names.indexOf(key), values: new Set(params.getAll(key)) });
  }
  let rows =
    filters.length === 0
      ? [...table.rows]
      : table.rows.filter((row) => filters.every((f) => f.values.has(String(row[f.index]))));

  const sort = params.get('sort');
  if (sort !== null && sort !== '') {
    const keys = sort.split(',').map((part) => {
      const descending = part.startsWith('-');
      const name = descending ? part.slice(1) : part;
      const index = names.indexOf(name);
      if (index < 0) throw new TableRequestError(`Cannot sort on '${name}': ${table.table.name} has no such column.`);
      return { index, descending, dimension: table.dimensions.includes(name) };
    });
    rows = rows.sort((a, b) => {
      for (const key of keys) {
        const order = compareCells(a[key.index] ?? null, b[key.index] ?? null, key.dimension);
        if (order !== 0) return key.descending ? -order : order;
      }
      return 0;
    });
  }
  const offset = integerParam(params, 'offset', 0);
  const limit = integerParam(params, 'limit', maxRows);
  if (limit > maxRows) throw new TableRequestError(`limit may be at most ${maxRows}.`);
  return { columns: table.columns, rows: rows.slice(offset, offset + limit), warnings: [] };
}

function integerParam(params: URLSearchParams, name: string, fallback: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^[0-9]{1,9}$/.test(raw)) throw new TableRequestError(`${name} must be a whole number ≥ 0.`);
  return Number(raw);
}

/** NULLs last; on dimensions the margin 'Total' sorts after the categories. */
function compareCells(a: Cell, b: Cell, dimension: boolean): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (dimension) {
    if (a === 'Total') return 1;
    if (b === 'Total') return -1;
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}
