import type { DataIssue } from '../core/errors.js';
import { DataError } from '../core/errors.js';
import { sqlIdent, sqlString, type Duck } from '../core/duckdb.js';
import {
  AS_DELIVERED,
  HOLDER_TABLES,
  MUNICIPAL_TABLES,
  SOURCE_COLUMNS,
  sourceFileName,
  type MunicipalTable,
  type SourceTable,
} from './sourceTables.js';

/** Where the source files are: the verified LinkInputs in the stage; plain directories in the benchmark's reference run. */
export interface SourceLayout {
  readonly holder: { readonly input: { path(file: string): string } };
  readonly municipalities: readonly {
    readonly municipality: string;
    readonly tables: readonly MunicipalTable[];
    readonly input: { path(file: string): string };
  }[];
}

/** One Parquet file link reads, and the municipality its rows belong to (none for the holder). */
interface SourceFile {
  readonly table: SourceTable;
  readonly path: string;
  readonly municipality?: string;
}

function sourceFiles(inputs: SourceLayout): SourceFile[] {
  const files: SourceFile[] = HOLDER_TABLES.map((table) => ({
    table,
    path: inputs.holder.input.path(sourceFileName(table)),
  }));
  for (const m of inputs.municipalities) {
    for (const table of m.tables)
      files.push({ table, path: m.input.path(sourceFileName(table)), municipality: m.municipality });
  }
  return files;
}

/**
 * Refuse a file that lacks a contract column, naming file and column, before
 * any output exists. Reads Parquet footers only.
 */
export async function checkSourceColumns(duck: Duck, inputs: SourceLayout): Promise<void> {
  const issues: DataIssue[] = [];
  for (const file of sourceFiles(inputs)) {
    const described = await duck.rows<{ column_name: string }>(
      `DESCRIBE SELECT * FROM read_parquet(${sqlString(file.path)})`,
    );
    const present = new Set(described.map((c) => c.column_name));
    for (const column of Object.keys(SOURCE_COLUMNS[file.table])) {
      if (!present.has(column)) {
        issues.push({
          file: file.path,
          column,
          rule: 'link.contract_column',
          message: `missing column '${column}' required by the pseudonymize → link contract (docs/contracts.md)`,
        });
      }
    }
  }
  if (issues.length > 0) {
    throw new DataError(
      'LINK_INPUT_COLUMNS',
      `${issues.length} contract column${issues.length === 1 ? ' is' : 's are'} missing from the inputs; first: ${issues[0]?.file}, column '${issues[0]?.column}'.`,
      issues,
    );
  }
}

/**
 * The views the link SQL reads: municipal_clients / _benefits / _interventions
 * (every municipality's rows with a `municipality` column) and holder_persons /
 * holder_jobs, each with exactly the contract columns in the contract types.
 * A municipality that delivered no interventions contributes no rows.
 */
export async function createSourceViews(duck: Duck, inputs: SourceLayout): Promise<void> {
  const files = sourceFiles(inputs);
  for (const table of MUNICIPAL_TABLES) {
    const parts = files
      .filter((f) => f.table === table)
      .map(
        (f) =>
          `SELECT ${sqlString(f.municipality ?? '')} AS municipality, ${selectList(table)} FROM read_parquet(${sqlString(f.path)})`,
      );
    await duck.run(
      `CREATE OR REPLACE TEMP VIEW ${sqlIdent(`municipal_${table}`)} AS ${parts.length > 0 ? parts.join('\nUNION ALL ') : emptyView(table, true)}`,
    );
  }
  for (const table of HOLDER_TABLES) {
    const file = files.find((f) => f.table === table);
    if (file === undefined) throw new Error(`holder ${table} file not resolved`);
    await duck.run(
      `CREATE OR REPLACE TEMP VIEW ${sqlIdent(`holder_${table}`)} AS SELECT ${selectList(table)} FROM read_parquet(${sqlString(file.path)})`,
    );
  }
}

function selectList(table: SourceTable): string {
  return Object.entries(SOURCE_COLUMNS[table])
    .map(([column, type]) =>
      type === AS_DELIVERED ? sqlIdent(column) : `CAST(${sqlIdent(column)} AS ${type}) AS ${sqlIdent(column)}`,
    )
    .join(', ');
}

function emptyView(table: SourceTable, municipal: boolean): string {
  const columns = Object.entries(SOURCE_COLUMNS[table]).map(
    ([column, type]) => `CAST(NULL AS ${type === AS_DELIVERED ? 'VARCHAR' : type}) AS ${sqlIdent(column)}`,
  );
  if (municipal) columns.unshift('CAST(NULL AS VARCHAR) AS municipality');
  return `SELECT ${columns.join(', ')} WHERE false`;
}
