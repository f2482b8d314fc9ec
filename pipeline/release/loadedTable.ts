import type { AggregateTableSpec } from '../../schemas/tables.js';

/** One aggregate table as read from the metrics stage: dimension values as strings, measures as numbers (NULL → null). */
export interface LoadedTable {
  readonly spec: AggregateTableSpec;
  /** For messages: where the rows came from. */
  readonly file: string;
  readonly rows: readonly Record<string, string | number | null>[];
}
