import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { z } from 'zod';
import { sqlString, type Duck } from '../core/duckdb.js';
import { tableSource } from './tableReader.js';
import { workspaceFile, type StageDir } from './workspace.js';

/**
 * The released tables as the release bundle holds them (docs/design.md, "Fixed
 * interfaces"): dimension columns with literal `Total` margins, and for every
 * value column `x` a column `x_status`. Structure is read from the files
 * themselves; the catalogues (the metrics stage's tables.json, the bundle's
 * tables.json) add only what a file cannot say: which count a rate divides by,
 * which tables count the same population, and where a mean's contributors are.
 */

export const TOTAL = 'Total';

export type Status = 'published' | 'suppressed' | 'rounded';
export const STATUSES: readonly string[] = ['published', 'suppressed', 'rounded'];

export interface ReleasedMeasure {
  readonly column: string;
  /** Integer-typed: additive over the dimensions, so part of the attacker's equations. */
  readonly additive: boolean;
}

export interface ReleasedRow {
  readonly dims: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, number | null>>;
  readonly statuses: Readonly<Record<string, string | null>>;
}

export interface ReleasedTable {
  readonly name: string;
  /** The file the re-check read, relative to the workspace. */
  readonly file: string;
  /** Every format of this table in the bundle, relative to the bundle and absolute. */
  readonly formats: readonly { readonly rel: string; readonly abs: string }[];
  readonly dimensions: readonly string[];
  readonly measures: readonly ReleasedMeasure[];
  /** Value columns with no `_status` partner (every released value must carry one). */
  readonly unmarked: readonly string[];
  readonly rows: readonly ReleasedRow[];
  readonly description: TableDescription | undefined;
}

const measureDescription = z
  .object({
    column: z.string(),
    kind: z.string().optional(),
    rate: z.object({ denominator: z.string() }).loose().optional(),
    contributors: z.string().optional(),
    sum: z.string().optional(),
    top1: z.string().optional(),
    top2: z.string().optional(),
  })
  .loose();

const tableDescription = z
  .object({
    name: z.string(),
    kind: z.string().optional(),
    dimensions: z.array(z.string()).optional(),
    population: z.string().optional(),
    measures: z.array(measureDescription).optional(),
    /** Counts of one row that add up (total = Σ parts), as release declares them in the bundle's catalogue. */
    relations: z.array(z.object({ total: z.string(), parts: z.array(z.string()) }).loose()).optional(),
    /** The bundle's catalogue: every column with its role (dimension, count, value, status). */
    columns: z.array(z.object({ name: z.string(), role: z.string().optional() }).loose()).optional(),
  })
  .loose();
export type TableDescription = z.infer<typeof tableDescription>;
export type MeasureDescription = z.infer<typeof measureDescription>;

const catalogue = z.object({ tables: z.array(tableDescription) }).loose();

/** Table descriptions by name, from a stage directory's tables.json (empty when it has none or it is unreadable). */
export async function readCatalogue(dir: StageDir): Promise<Map<string, TableDescription>> {
  const found = new Map<string, TableDescription>();
  if (!dir.files.includes('tables.json')) return found;
  try {
    const parsed = catalogue.safeParse(JSON.parse(await readFile(join(dir.absDir, 'tables.json'), 'utf8')));
    if (parsed.success) for (const t of parsed.data.tables) found.set(t.name, t);
  } catch {
    // An unreadable catalogue only means less context; the tables themselves are still checked.
  }
  return found;
}

/** Table files of a bundle grouped by table name: `tables/<name>.parquet|.csv|.json`. */
export function tableFilesOf(dir: StageDir): Map<string, { rel: string; abs: string }[]> {
  const byName = new Map<string, { rel: string; abs: string }[]>();
  for (const file of dir.files) {
    if (!file.startsWith('tables/')) continue;
    const ext = extname(file).toLowerCase();
    if (!['.parquet', '.csv', '.json'].includes(ext)) continue;
    const name = basename(file, extname(file));
    const list = byName.get(name) ?? [];
    list.push({ rel: file, abs: join(dir.absDir, file) });
    byName.set(name, list);
  }
  return byName;
}

const INTEGER_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;

/** Read one released table, preferring Parquet (typed) over CSV and JSON. Null when no format can be read as a table. */
export async function readReleasedTable(
  duck: Duck,
  dir: StageDir,
  name: string,
  formats: { rel: string; abs: string }[],
  description: TableDescription | undefined,
): Promise<ReleasedTable | null> {
  const order = ['.parquet', '.json', '.csv'];
  const sorted = [...formats].sort((a, b) => order.indexOf(extname(a.rel)) - order.indexOf(extname(b.rel)));
  for (const format of sorted) {
    const ext = extname(format.rel).toLowerCase();
    const source =
      ext === '.parquet'
        ? tableSource(format.abs, 'parquet')
        : ext === '.csv'
          ? `read_csv(${sqlString(format.abs)}, header = true, auto_detect = true)`
          : `read_json(${sqlString(format.abs)}, format = 'array')`;
    let columns: { column_name: string; column_type: string }[];
    try {
      columns = await duck.rows(`DESCRIBE SELECT * FROM ${source}`);
    } catch {
      continue;
    }
    const names = new Set(columns.map((c) => c.column_name));
    const statusOf = (c: string) => `${c}_status`;
    const measures: ReleasedMeasure[] = [];
    const dimensions: string[] = [];
    const unmarked: string[] = [];
    const describedDims =
      description?.dimensions ?? description?.columns?.filter((c) => c.role === 'dimension').map((c) => c.name);
    const describedRole = (column: string) => description?.columns?.find((c) => c.name === column)?.role;
    for (const c of columns) {
      if (c.column_name.endsWith('_status') && names.has(c.column_name.slice(0, -'_status'.length))) continue;
      if (names.has(statusOf(c.column_name))) {
        const role = describedRole(c.column_name);
        const kind =
          description?.measures?.find((m) => m.column === c.column_name)?.kind ??
          (role === 'count' || role === 'value' ? (role === 'count' ? 'count' : 'value') : undefined);
        measures.push({
          column: c.column_name,
          additive: kind !== undefined ? kind === 'count' : INTEGER_TYPE.test(c.column_type),
        });
      } else if (
        describedDims?.includes(c.column_name) === true ||
        describedRole(c.column_name) === 'dimension' ||
        !NUMERIC_TYPE.test(c.column_type)
      ) {
        // Dimensions, and text labels beside them (an effects table's group names): never values.
        dimensions.push(c.column_name);
      } else {
        unmarked.push(c.column_name);
      }
    }
    const selected = [
      ...dimensions.map((d) => `CAST("${d.replaceAll('"', '""')}" AS VARCHAR) AS "d:${d.replaceAll('"', '""')}"`),
      ...measures.flatMap((m) => [
        `TRY_CAST("${m.column.replaceAll('"', '""')}" AS DOUBLE) AS "v:${m.column.replaceAll('"', '""')}"`,
        `CAST("${statusOf(m.column).replaceAll('"', '""')}" AS VARCHAR) AS "s:${m.column.replaceAll('"', '""')}"`,
      ]),
    ];
    if (selected.length === 0) continue;
    const raw = await duck.jsonRows<Record<string, string | number | null>>(
      `SELECT ${selected.join(', ')} FROM ${source}`,
    );
    const rows: ReleasedRow[] = raw.map((r) => ({
      dims: Object.fromEntries(dimensions.map((d) => [d, String(r[`d:${d}`] ?? '')])),
      values: Object.fromEntries(measures.map((m) => [m.column, toNumber(r[`v:${m.column}`])])),
      statuses: Object.fromEntries(measures.map((m) => [m.column, (r[`s:${m.column}`] ?? null) as string | null])),
    }));
    return { name, file: workspaceFile(dir, format.rel), formats, dimensions, measures, unmarked, rows, description };
  }
  return null;
}

function toNumber(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** A cell's identity within a population: its measure and its non-Total dimension values (a margin drops the dimension). */
export function cellKey(population: string, measure: string, dims: Readonly<Record<string, string>>): string {
  const parts = Object.entries(dims)
    .filter(([, v]) => v !== TOTAL)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([d, v]) => `${d}=${v}`);
  return `${population}\u0001${measure}\u0001${parts.join('\u0002')}`;
}
