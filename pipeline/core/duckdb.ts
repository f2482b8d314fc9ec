import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { readFile } from 'node:fs/promises';

export interface DuckDBOptions {
  /** e.g. '8GB'. Defaults to BOLDLINK_MEMORY_LIMIT or 60% of what DuckDB would take. */
  readonly memoryLimit?: string;
  /** Where DuckDB spills when a query does not fit in memory. */
  readonly tempDirectory?: string;
  readonly threads?: number;
}

/**
 * One embedded DuckDB database with one connection: the engine every stage's
 * bulk work runs in. A memory limit and a spill directory are always set, so a
 * national-scale run spills to disk instead of being killed.
 */
export class Duck {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    /** Whether close() closes the database too (false for a sibling). */
    private readonly ownsInstance = true,
  ) {}

  static async open(options: DuckDBOptions = {}): Promise<Duck> {
    const config: Record<string, string> = {};
    const memoryLimit = options.memoryLimit ?? process.env.BOLDLINK_MEMORY_LIMIT;
    if (memoryLimit !== undefined) config.memory_limit = memoryLimit;
    if (options.tempDirectory !== undefined) config.temp_directory = options.tempDirectory;
    const threads =
      options.threads ??
      (process.env.BOLDLINK_THREADS !== undefined ? Number(process.env.BOLDLINK_THREADS) : undefined);
    if (threads !== undefined) config.threads = String(threads);
    const instance = await DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    return new Duck(instance, connection);
  }

  /**
   * Another connection to the same database, for a statement that should run beside this connection's: both
   * share the database's threads and memory limit; it sees tables, views and functions, not TEMP objects.
   * Closing it leaves the database open.
   */
  async sibling(): Promise<Duck> {
    return new Duck(this.instance, await this.instance.connect(), false);
  }

  async run(sql: string, params?: Record<string, DuckDBValue>): Promise<void> {
    await this.connection.run(sql, params);
  }

  /** Rows as plain JS objects (BIGINT → bigint, DATE → Date). For small results only. */
  async rows<T = Record<string, unknown>>(sql: string, params?: Record<string, DuckDBValue>): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJS() as T[];
  }

  /** Rows with JSON-friendly values (BIGINT → number when safe, DATE → 'YYYY-MM-DD'). */
  async jsonRows<T = Record<string, unknown>>(sql: string, params?: Record<string, DuckDBValue>): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJson() as T[];
  }

  async scalar<T = unknown>(sql: string, params?: Record<string, DuckDBValue>): Promise<T> {
    const reader = await this.connection.runAndReadAll(sql, params);
    const rows = reader.getRows();
    return rows[0]?.[0] as T;
  }

  /** Run a .sql file; `${name}` placeholders are replaced by the given (already quoted) SQL fragments. */
  async runFile(path: string, fragments: Record<string, string> = {}): Promise<void> {
    await this.run(fillSql(await readFile(path, 'utf8'), fragments));
  }

  close(): void {
    this.connection.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
}

/** Substitute `${name}` placeholders; a placeholder without a value is a programming error. */
export function fillSql(sql: string, fragments: Record<string, string>): string {
  return sql.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = fragments[name];
    if (value === undefined) throw new Error(`SQL placeholder \${${name}} has no value`);
    return value;
  });
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A SQL identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Rows in a Parquet file, from its footer (no scan). */
export async function parquetRowCount(duck: Duck, path: string): Promise<number> {
  const rows = await duck.scalar<bigint | number | null>(
    `SELECT sum(num_rows) FROM parquet_file_metadata(${sqlString(path)})`,
  );
  return Number(rows ?? 0);
}
