import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBResultReader,
  type DuckDBType,
  StatementType,
} from '@duckdb/node-api';
import type { ApiColumn } from '../../schemas/api.js';
import { sqlIdent, sqlString } from '../core/duckdb.js';
import { QueryFailedError, QueryLimitError, QueryRefusedError, ReleaseBundleError } from './errors.js';
import type { ReleaseBundle, ReleasedTable } from './releaseBundle.js';
import { cleanDuckMessage, guardQuery, type GuardContext } from './sqlGuard.js';
import { markSuppressed, type Cell } from './suppressedResult.js';

/** A result ready to be written as JSON, CSV, Arrow or a text table. */
export interface QueryResult {
  readonly columns: readonly ApiColumn[];
  /** Row-major; values are JSON-friendly (numbers, strings, booleans, null, lists/objects). */
  readonly rows: readonly (readonly Cell[])[];
  readonly warnings: readonly string[];
}

/** A released table held in memory for the table API (release tables are aggregates: small). */
export interface LoadedTable {
  readonly table: ReleasedTable;
  readonly columns: readonly ApiColumn[];
  readonly dimensions: readonly string[];
  readonly measures: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

import { DEFAULT_LIMITS, type QueryLimits } from './queryLimits.js';

export { DEFAULT_LIMITS, type QueryLimits };

/**
 * An in-memory DuckDB that holds the bundle's tables and nothing else. The
 * tables are copied in while external access is still on; then external
 * access is switched off and the configuration locked, so no query can read
 * a file, reach the network, load an extension or switch that back on.
 *
 * In the query copy every measure column x (one with an x_status companion)
 * is DOUBLE and a suppressed cell is NaN rather than NULL: NaN survives
 * arithmetic, sum, avg and max, where NULL would be skipped (or coalesced to
 * 0), so a result that depends on a suppressed cell comes out NaN and is
 * returned as NULL with status 'suppressed' (see suppressedResult.ts). The
 * guard refuses the aggregates that would skip a NaN.
 */
export class ReleaseDatabase {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly guard: GuardContext,
    readonly tables: ReadonlyMap<string, LoadedTable>,
  ) {}

  static async open(
    bundle: ReleaseBundle,
    options: { threads?: number; memoryLimit?: string } = {},
  ): Promise<ReleaseDatabase> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? 2),
      memory_limit: options.memoryLimit ?? process.env.BOLDLINK_MEMORY_LIMIT ?? '1GB',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
    });
    const connection = await instance.connect();
    try {
      const tables = new Map<string, LoadedTable>();
      const measures = new Set<string>();
      const cleanColumns = new Set<string>();
      for (const table of bundle.tables) {
        const loaded = await loadTable(connection, table);
        tables.set(table.name, loaded);
        for (const m of loaded.measures) measures.add(m);
        for (const c of loaded.columns) if (!loaded.measures.includes(c.name)) cleanColumns.add(c.name);
      }
      for (const m of measures) cleanColumns.delete(m);
      const aggregates = new Set(
        (
          await connection.runAndReadAll(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'aggregate'",
          )
        )
          .getRows()
          .map((r) => String(r[0]).toLowerCase()),
      );
      await connection.run('SET enable_external_access = false');
      await connection.run('SET lock_configuration = true');
      return new ReleaseDatabase(
        instance,
        { tables: new Set(tables.keys()), measures, cleanColumns, aggregates },
        tables,
      );
    } catch (error) {
      instance.closeSync();
      throw error;
    } finally {
      connection.closeSync();
    }
  }

  /** Check, run and mark one researcher query. */
  async query(sql: string, limits: QueryLimits = DEFAULT_LIMITS): Promise<QueryResult> {
    const connection = await this.instance.connect();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      connection.interrupt();
    }, limits.timeoutMs);
    try {
      await guardQuery(connection, sql, this.guard);
      let reader: DuckDBResultReader;
      try {
        const prepared = await connection.prepare(sql);
        // The guard's classification, checked again by the binder's.
        if (prepared.statementType !== StatementType.SELECT)
          throw new QueryRefusedError(
            'NOT_A_QUERY',
            'Only a read-only SELECT query over the released tables is allowed.',
          );
        reader = await prepared.streamAndReadUntil(limits.maxRows + 1);
      } catch (error) {
        if (error instanceof QueryRefusedError) throw error;
        if (timedOut) throw timeoutError(limits);
        throw new QueryFailedError(`The query could not run: ${cleanDuckMessage(error)}`);
      }
      if (reader.currentRowCount > limits.maxRows) {
        throw new QueryLimitError(
          'RESULT_TOO_LARGE',
          `The result has more than ${limits.maxRows.toLocaleString('en')} rows; add a WHERE, GROUP BY or LIMIT.`,
        );
      }
      const columns = reader.columnNames().map((name, i) => ({ name, type: typeName(reader.columnTypes()[i]) }));
      const rows = reader.getRowsJS().map((row) => row.map((value, i) => toCell(value, columns[i]?.type ?? '')));
      return markSuppressed(columns, rows);
    } finally {
      clearTimeout(timer);
      connection.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

function timeoutError(limits: QueryLimits): QueryLimitError {
  return new QueryLimitError(
    'QUERY_TIMEOUT',
    `The query ran longer than ${(limits.timeoutMs / 1000).toLocaleString('en')} s and was stopped; narrow it down.`,
  );
}

async function loadTable(connection: DuckDBConnection, table: ReleasedTable): Promise<LoadedTable> {
  const source = `read_parquet(${sqlString(table.parquetPath)})`;
  let reader: DuckDBResultReader;
  try {
    reader = await connection.runAndReadAll(`SELECT * FROM ${source}`);
  } catch (error) {
    throw new ReleaseBundleError('RELEASE_TABLE', `${table.parquetPath} cannot be read: ${cleanDuckMessage(error)}`);
  }
  const names = reader.columnNames();
  const types = reader.columnTypes().map(typeName);
  const described = new Map(table.catalogueColumns.map((c) => [c.name, c]));
  const nameSet = new Set(names);
  const measures = names.filter((n) => nameSet.has(`${n}_status`));
  const dimensions = names.filter((n, i) => {
    const role = described.get(n)?.role;
    if (role !== undefined) return role === 'dimension';
    return !measures.includes(n) && !n.endsWith('_status') && types[i] === 'VARCHAR';
  });
  const columns: ApiColumn[] = names.map((name, i) => {
    const entry = described.get(name);
    const role =
      entry?.role ??
      (dimensions.includes(name)
        ? 'dimension'
        : measures.includes(name)
          ? 'measure'
          : name.endsWith('_status') && nameSet.has(name.slice(0, -7))
            ? 'status'
            : undefined);
    return {
      name,
      type: types[i] ?? 'VARCHAR',
      ...(role === undefined ? {} : { role }),
      ...(entry?.description === undefined ? {} : { description: entry.description }),
    };
  });
  const rows = reader.getRowsJS().map((row) => row.map((value, i) => toCell(value, types[i] ?? '')));
  const select = names
    .map((n) =>
      measures.includes(n)
        ? `CASE WHEN ${sqlIdent(`${n}_status`)} = 'suppressed' THEN 'NaN'::DOUBLE ELSE ${sqlIdent(n)}::DOUBLE END AS ${sqlIdent(n)}`
        : sqlIdent(n),
    )
    .join(', ');
  await connection.run(`CREATE TABLE ${sqlIdent(table.name)} AS SELECT ${select} FROM ${source}`);
  return { table, columns, dimensions, measures, rows };
}

function typeName(type: DuckDBType | undefined): string {
  return type === undefined ? 'VARCHAR' : type.toString();
}

/** DuckDB's JS values to JSON-friendly cells: BIGINT to number (or string past 2^53), DATE to 'YYYY-MM-DD'. */
export function toCell(value: unknown, type: string): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint')
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  if (value instanceof Date) return type === 'DATE' ? value.toISOString().slice(0, 10) : value.toISOString();
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => toCell(v, '')) as Cell;
  if (typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCell(v, '')])) as Cell;
  return String(value);
}
