import type { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement } from '@duckdb/node-api';

/** Prepared statements kept per connection (released tables never change, so a plan stays good). */
const PREPARED_PER_CONNECTION = 64;

/** A connection of the query engine with the statements it has prepared. */
export class QueryConnection {
  private readonly prepared = new Map<string, DuckDBPreparedStatement>();

  constructor(readonly connection: DuckDBConnection) {}

  /** `sql` prepared on this connection, reusing an earlier preparation of the same text. */
  async prepare(sql: string): Promise<DuckDBPreparedStatement> {
    const cached = this.prepared.get(sql);
    if (cached !== undefined) {
      this.prepared.delete(sql);
      this.prepared.set(sql, cached);
      return cached;
    }
    const statement = await this.connection.prepare(sql);
    this.prepared.set(sql, statement);
    for (const [oldest, old] of this.prepared) {
      if (this.prepared.size <= PREPARED_PER_CONNECTION) break;
      this.prepared.delete(oldest);
      old.destroySync();
    }
    return statement;
  }

  close(): void {
    for (const statement of this.prepared.values()) statement.destroySync();
    this.prepared.clear();
    this.connection.closeSync();
  }
}

/**
 * Connections to the query engine, reused between queries: a researcher
 * cannot change a connection's state (SET and every other statement but a
 * SELECT are refused), so one query leaves nothing behind for the next. A
 * connection whose query was interrupted or left unfinished is closed, not
 * reused.
 */
export class QueryConnections {
  private readonly idle: QueryConnection[] = [];

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly maxIdle = 8,
  ) {}

  async acquire(): Promise<QueryConnection> {
    return this.idle.pop() ?? new QueryConnection(await this.instance.connect());
  }

  /** Back to the pool after a query that ran to its end (or never started). */
  release(connection: QueryConnection): void {
    if (this.idle.length < this.maxIdle) this.idle.push(connection);
    else connection.close();
  }

  discard(connection: QueryConnection): void {
    connection.close();
  }

  close(): void {
    for (const connection of this.idle.splice(0)) connection.close();
  }
}
