import { z } from 'zod';

/**
 * The release bundle's `tables.json` catalogue as query and serve read it
 * (docs/contracts.md, "release → query / serve / audit"), and the shapes of the
 * HTTP API. The catalogue is parsed leniently in what it may add (extra
 * fields are kept out of our types but not refused) so that a richer release
 * stage still serves; what we rely on is strict.
 */

export const TABLE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const tableName = z
  .string()
  .regex(TABLE_NAME_PATTERN, 'lowercase letters, digits and _ (starting with a letter)');

export const catalogueColumn = z.object({
  name: z.string().min(1),
  /** e.g. dimension, count, rate, mean, estimate, status. */
  role: z.string().min(1).optional(),
  description: z.string().optional(),
});
export type CatalogueColumn = z.infer<typeof catalogueColumn>;

export const catalogueTable = z.object({
  name: tableName,
  title: z.string().optional(),
  description: z.string().optional(),
  columns: z.array(catalogueColumn).optional(),
});
export type CatalogueTable = z.infer<typeof catalogueTable>;

export const catalogue = z.object({
  format: z.string().optional(),
  tables: z.array(catalogueTable),
});
export type Catalogue = z.infer<typeof catalogue>;

/** `POST /api/query` body. */
export const queryRequest = z
  .object({
    sql: z.string().min(1, 'sql is empty').max(20_000, 'sql is longer than 20,000 characters'),
    format: z.enum(['json', 'csv', 'arrow']).optional(),
  })
  .strict();
export type QueryRequest = z.infer<typeof queryRequest>;

export const OUTPUT_FORMATS = ['json', 'csv', 'arrow'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A column of a result as the API describes it. */
export interface ApiColumn {
  readonly name: string;
  /** DuckDB type name, e.g. VARCHAR, BIGINT, DOUBLE. */
  readonly type: string;
  readonly role?: string;
  readonly description?: string;
}

/** `GET /api/tables` entry. */
export interface ApiTable {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly rows: number;
  readonly columns: readonly ApiColumn[];
  readonly dimensions: readonly string[];
  readonly measures: readonly string[];
}

/** JSON body of a table or query result. */
export interface ApiResult {
  readonly table?: string;
  readonly columns: readonly ApiColumn[];
  readonly rows: readonly Record<string, unknown>[];
  readonly rowCount: number;
  readonly warnings: readonly string[];
}

export interface ApiError {
  readonly error: { readonly code: string; readonly message: string };
}
