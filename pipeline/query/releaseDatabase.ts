import { randomBytes } from 'node:crypto';
import {
  type DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBMaterializedResult,
  type DuckDBResultReader,
  DuckDBStructType,
  type DuckDBType,
  JSDuckDBValueConverter,
  StatementType,
} from '@duckdb/node-api';
import type { ApiColumn } from '../../schemas/api.js';
import { sqlIdent, sqlString } from '../core/duckdb.js';
import { QueryFailedError, QueryLimitError, QueryRefusedError, ReleaseBundleError } from './errors.js';
import { isValueTooLarge, type MarkedQuery, markQuery, ROW, resultLimitHit } from './markedQuery.js';
import { selectNode, statementJson } from './parseTree.js';
import { PossiblySuppressed } from './possiblySuppressed.js';
import { QueryConnections } from './queryConnections.js';
import { DEFAULT_LIMITS, DEFAULT_MEMORY_LIMIT, type QueryLimits } from './queryLimits.js';
import type { ReleaseBundle, ReleasedTable } from './releaseBundle.js';
import { chunkBytes } from './resultSize.js';
import { cleanDuckMessage, type GuardContext, guardQuery } from './sqlGuard.js';
import { type Cell, markSuppressed, type TaintedRow } from './suppressedResult.js';

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

export { DEFAULT_LIMITS, type QueryLimits };

/** Marked statements kept by the SQL text they came from. */
const MARKED_TEXTS = 512;

/**
 * The query service over one release bundle: an in-memory DuckDB that holds
 * the bundle's tables and nothing else. The tables are copied in while
 * external access is still on; then external access is switched off and the
 * configuration locked, so no query can read a file, reach the network,
 * load an extension or switch that back on.
 *
 * In the query engine every column is a pair STRUCT(v, t) and every table
 * has a `$row` column (see markedQuery.ts): a suppressed cell is v = NULL,
 * t = true, so no suppressed number is in the engine at all. A query is
 * guarded (sqlGuard.ts), rewritten over the pairs (markedQuery.ts), printed
 * back to SQL by DuckDB, run within the limits, and its answer marked
 * (suppressedResult.ts).
 *
 * A second, plain copy (suppressed cells NULL, no pairs) exists only to
 * explain a failing query in the researcher's own terms: the query is
 * prepared there, never run.
 */
export class ReleaseDatabase {
  private readonly connections: QueryConnections;
  private readonly markedTexts = new Map<string, string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly plain: DuckDBInstance,
    private readonly guard: GuardContext,
    private readonly measures: ReadonlySet<string>,
    readonly tables: ReadonlyMap<string, LoadedTable>,
  ) {
    this.connections = new QueryConnections(instance);
  }

  static async open(
    bundle: ReleaseBundle,
    options: { threads?: number; memoryLimit?: string } = {},
  ): Promise<ReleaseDatabase> {
    const config = {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
      // Hand memory back once a query is done, so a large query leaves no large process behind.
      allocator_flush_threshold: '16MB',
      allocator_bulk_deallocation_flush_threshold: '16MB',
      allocator_background_threads: 'true',
    };
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? 2),
      memory_limit: options.memoryLimit ?? process.env.BOLDLINK_MEMORY_LIMIT ?? DEFAULT_MEMORY_LIMIT,
      ...config,
    });
    const plain = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB', ...config });
    const connection = await instance.connect();
    const plainConnection = await plain.connect();
    try {
      const tables = new Map<string, LoadedTable>();
      const measures = new Set<string>();
      for (const table of bundle.tables) {
        const loaded = await loadTable(connection, plainConnection, table);
        tables.set(table.name, loaded);
        for (const m of loaded.measures) measures.add(m.toLowerCase());
      }
      for (const c of [connection, plainConnection]) {
        await c.run('SET enable_external_access = false');
        await c.run('SET lock_configuration = true');
      }
      return new ReleaseDatabase(
        instance,
        plain,
        { tables: new Set([...tables.keys()].map((n) => n.toLowerCase())) },
        measures,
        tables,
      );
    } catch (error) {
      instance.closeSync();
      plain.closeSync();
      throw error;
    } finally {
      connection.closeSync();
      plainConnection.closeSync();
    }
  }

  /** Check, rewrite, run and mark one researcher query. */
  async query(sql: string, limits: QueryLimits = DEFAULT_LIMITS): Promise<QueryResult> {
    const pooled = await this.connections.acquire();
    let timedOut = false;
    let finished = false;
    const timer = setTimeout(() => {
      timedOut = true;
      pooled.connection.interrupt();
    }, limits.timeoutMs);
    try {
      const text = await this.marked(pooled.connection, sql, limits);
      try {
        const prepared = await pooled.prepare(text);
        // The rewrite prints a SELECT; the binder says so too.
        if (prepared.statementType !== StatementType.SELECT)
          throw new QueryRefusedError(
            'NOT_A_QUERY',
            'Only a read-only SELECT query over the released tables is allowed.',
          );
        // Run to the end before reading: a streamed result that fails part way (a limit, a timeout) ends
        // early without an error in the driver, so a truncated answer would look complete.
        const answer = await prepared.run();
        finished = true;
        return await readMarked(answer, limits);
      } catch (error) {
        if (error instanceof QueryRefusedError || error instanceof QueryLimitError) throw error;
        throw await this.failure(error, sql, limits, timedOut);
      }
    } catch (error) {
      // Refused before it ran: nothing is pending on the connection.
      if (error instanceof QueryRefusedError) finished = true;
      throw error;
    } finally {
      clearTimeout(timer);
      if (finished && !timedOut) this.connections.release(pooled);
      else this.connections.discard(pooled);
    }
  }

  /** The statement the rewrite runs for `sql`, for tests and for explaining a query. */
  async markedSql(sql: string, limits: QueryLimits = DEFAULT_LIMITS): Promise<string> {
    const pooled = await this.connections.acquire();
    try {
      return await this.marked(pooled.connection, sql, limits);
    } finally {
      this.connections.release(pooled);
    }
  }

  /**
   * Guard, analyse and rewrite `sql`; DuckDB prints the marked statement. The
   * same text under the same limits always gives the same statement, so it
   * is kept (a researcher's page asks the same queries again and again).
   */
  private async marked(connection: DuckDBConnection, sql: string, limits: QueryLimits): Promise<string> {
    const key = `${limits.maxValueBytes}:${limits.maxBytes}:${limits.maxRows}:${sql}`;
    const cached = this.markedTexts.get(key);
    if (cached !== undefined) return cached;
    const guarded = await guardQuery(connection, sql, this.guard);
    const analysis = PossiblySuppressed.analyse(guarded.statement, this.measures, guarded.cteOf);
    const text = await printQuery(
      connection,
      markQuery(guarded.statement, analysis, {
        nonce: randomBytes(8).toString('hex'),
        maxValueBytes: limits.maxValueBytes,
        maxBytes: limits.maxBytes,
        maxRows: limits.maxRows,
      }),
    );
    this.markedTexts.set(key, text);
    if (this.markedTexts.size > MARKED_TEXTS) {
      const oldest = this.markedTexts.keys().next().value;
      if (oldest !== undefined) this.markedTexts.delete(oldest);
    }
    return text;
  }

  /** Settings of the query engine (external access, locked configuration), for the tests. */
  async engineSetting(name: 'enable_external_access' | 'lock_configuration' | 'memory_limit'): Promise<unknown> {
    const connection = await this.instance.connect();
    try {
      const reader = await connection.runAndReadAll(`SELECT current_setting(${sqlString(name)})`);
      return reader.getRowsJS()[0]?.[0];
    } finally {
      connection.closeSync();
    }
  }

  /** A failed run, as the researcher should read it. */
  private async failure(error: unknown, sql: string, limits: QueryLimits, timedOut: boolean): Promise<Error> {
    const message = cleanDuckMessage(error);
    if (timedOut) return timeoutError(limits);
    const limitHit = resultLimitHit(message);
    if (limitHit === 'bytes') return resultTooLarge(limits);
    if (limitHit === 'rows') return tooManyRows(limits);
    if (isValueTooLarge(message))
      return new QueryLimitError(
        'VALUE_TOO_LARGE',
        `A value in the answer would be larger than ${formatBytes(limits.maxValueBytes)} (repeat, lpad, rpad or list_resize); ask for a shorter one.`,
      );
    if (/out of memory/i.test(message))
      return new QueryLimitError(
        'QUERY_MEMORY',
        'The query needs more memory than the query service allows; aggregate or filter first, or ask for fewer rows.',
      );
    // Say what is wrong with the researcher's own SQL, not with its rewritten form.
    const plainConnection = await this.plain.connect();
    try {
      await plainConnection.prepare(sql);
    } catch (plainError) {
      return new QueryFailedError(`The query could not run: ${cleanDuckMessage(plainError)}`);
    } finally {
      plainConnection.closeSync();
    }
    return new QueryFailedError(`The query could not run: ${message}`);
  }

  close(): void {
    this.connections.close();
    this.instance.closeSync();
    this.plain.closeSync();
  }
}

/**
 * DuckDB prints the rewritten tree back to SQL, and in the same call the text
 * of every unaliased computed select item, which is the name DuckDB gives
 * such a column; the rewrite's placeholders are then replaced by those names.
 */
async function printQuery(connection: DuckDBConnection, marked: MarkedQuery): Promise<string> {
  const trees = [
    statementJson(marked.tree),
    ...marked.computedNames.map((n) => statementJson(selectNode({ selectList: [n.expression] }))),
  ];
  const reader = await connection.runAndReadAll(
    `SELECT [${trees.map((t) => `json_deserialize_sql(${sqlString(t)})`).join(', ')}]`,
  );
  const printed = reader.getRowsJS()[0]?.[0];
  if (!Array.isArray(printed) || printed.length !== trees.length)
    throw new Error('the marked query could not be printed');
  let text = String(printed[0]);
  marked.computedNames.forEach((name, i) => {
    const placeholder = sqlIdent(name.placeholder);
    if (!text.includes(placeholder)) throw new Error('the marked query lost a column name');
    text = text.replaceAll(placeholder, sqlIdent(String(printed[i + 1]).replace(/^SELECT /, '')));
  });
  return text;
}

/** Read a marked answer chunk by chunk, refusing it as soon as it passes a limit, then mark it. */
async function readMarked(result: DuckDBMaterializedResult, limits: QueryLimits): Promise<QueryResult> {
  const types = result.columnTypes();
  const names = result.columnNames();
  const valueColumns = names.length - 1;
  if (names[valueColumns] !== ROW) throw new Error('the marked query has no row marker');
  const valueTypes = types.slice(0, valueColumns).map((type) => {
    if (!(type instanceof DuckDBStructType) || type.entryNames.join(',') !== 'v,t')
      throw new Error('the marked query returned an unmarked column');
    return type.entryTypes[0] as DuckDBType;
  });
  const chunks: DuckDBDataChunk[] = [];
  let rows = 0;
  let bytes = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    rows += chunk.rowCount;
    if (rows > limits.maxRows) throw tooManyRows(limits);
    // A second line behind the engine's own size check (markedQuery.ts): measured before any value is copied.
    bytes += chunkBytes(chunk, types);
    if (bytes > limits.maxBytes) throw resultTooLarge(limits);
    chunks.push(chunk);
  }
  const columns: ApiColumn[] = names.slice(0, valueColumns).map((name, i) => ({ name, type: typeName(valueTypes[i]) }));
  const tainted: TaintedRow[] = [];
  for (const chunk of chunks) {
    for (const row of chunk.convertRows(JSDuckDBValueConverter)) {
      const values: Cell[] = [];
      const taints: boolean[] = [];
      for (let i = 0; i < valueColumns; i++) {
        const pair = row[i] as { v?: unknown; t?: unknown } | null;
        values.push(pair === null ? null : toCell(pair.v, columns[i]?.type ?? ''));
        taints.push(pair !== null && pair.t === true);
      }
      tainted.push({ values, taints, uncertain: row[valueColumns] === true });
    }
  }
  return markSuppressed(columns, tainted);
}

function tooManyRows(limits: QueryLimits): QueryLimitError {
  return new QueryLimitError(
    'RESULT_TOO_LARGE',
    `The result has more than ${limits.maxRows.toLocaleString('en')} rows; add a WHERE, GROUP BY or LIMIT.`,
  );
}

function resultTooLarge(limits: QueryLimits): QueryLimitError {
  return new QueryLimitError(
    'RESULT_TOO_LARGE',
    `The result is larger than ${formatBytes(limits.maxBytes)}; select fewer or shorter columns, or add a WHERE or LIMIT.`,
  );
}

function timeoutError(limits: QueryLimits): QueryLimitError {
  return new QueryLimitError(
    'QUERY_TIMEOUT',
    `The query ran longer than ${(limits.timeoutMs / 1000).toLocaleString('en')} s and was stopped; narrow it down.`,
  );
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toLocaleString('en', { maximumFractionDigits: 1 })} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toLocaleString('en', { maximumFractionDigits: 1 })} KiB`;
  return `${bytes.toLocaleString('en')} bytes`;
}

async function loadTable(
  connection: DuckDBConnection,
  plainConnection: DuckDBConnection,
  table: ReleasedTable,
): Promise<LoadedTable> {
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
  // A suppressed cell is NULL whatever the file holds there.
  const hidden = (n: string) => `${sqlIdent(`${n}_status`)} = 'suppressed'`;
  const pairs = names
    .map((n, i) => {
      const value = sqlIdent(n);
      const pair = measures.includes(n)
        ? `CASE WHEN ${hidden(n)} THEN {'v': CAST(NULL AS ${types[i]}), 't': true} WHEN ${value} IS NULL THEN NULL ELSE {'v': ${value}, 't': false} END`
        : `CASE WHEN ${value} IS NULL THEN NULL ELSE {'v': ${value}, 't': false} END`;
      return `${pair} AS ${value}`;
    })
    .join(', ');
  await connection.run(
    `CREATE TABLE ${sqlIdent(table.name)} AS SELECT ${pairs}, false AS ${sqlIdent(ROW)} FROM ${source}`,
  );
  const plainColumns = names
    .map((n) =>
      measures.includes(n) ? `CASE WHEN ${hidden(n)} THEN NULL ELSE ${sqlIdent(n)} END AS ${sqlIdent(n)}` : sqlIdent(n),
    )
    .join(', ');
  await plainConnection.run(`CREATE TABLE ${sqlIdent(table.name)} AS SELECT ${plainColumns} FROM ${source}`);
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
