import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DataError } from '../../pipeline/core/errors.js';
import { projectPath } from '../../pipeline/core/projectPath.js';
import { sqlString } from '../../pipeline/core/duckdb.js';
import { mappingFile, type MappingFile } from '../../schemas/mapping.js';

export const MINIMUM_WAGE_FILE = projectPath('examples', 'reference', 'minimum-wage.json');
export const GEMEENTE_MAPPING_FILE = projectPath('examples', 'mappings', 'gemeente.json');

const minimumWage = z
  .object({
    format: z.literal('boldlink-reference/minimum-wage/v1'),
    hourly: z.record(z.string().regex(/^\d{4}$/), z.number().positive()),
  })
  .passthrough();

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw DataError.single('REFERENCE_INVALID', {
      file,
      rule: 'reference.read',
      message: `cannot read reference data (${(error as Error).message})`,
    });
  }
}

function invalid(file: string, error: z.ZodError): DataError {
  const issue = error.issues[0];
  return DataError.single('REFERENCE_INVALID', {
    file,
    column: issue?.path.join('.') ?? '',
    rule: 'reference.schema',
    message: issue?.message ?? 'invalid reference file',
  });
}

/** `CREATE TABLE wml(year, hourly)` from the shipped minimum-wage reference. */
export async function minimumWageTableSql(): Promise<string> {
  const parsed = minimumWage.safeParse(await readJson(MINIMUM_WAGE_FILE));
  if (!parsed.success) throw invalid(MINIMUM_WAGE_FILE, parsed.error);
  const rows = Object.entries(parsed.data.hourly).map(([year, hourly]) => `(${Number(year)}, ${hourly})`);
  return `CREATE OR REPLACE TABLE wml (year INTEGER, hourly DOUBLE); INSERT INTO wml VALUES ${rows.join(', ')};`;
}

/** The canonical columns of each municipal file, in the order the export writes them. */
export const MUNICIPAL_FILES = {
  'clienten.csv': {
    table: 'clients',
    columns: ['bsn', 'birth_date', 'sex', 'postcode', 'house_number', 'district', 'household_type'],
  },
  'uitkeringen.csv': { table: 'benefits', columns: ['bsn', 'benefit_type', 'start_date', 'end_date', 'end_reason'] },
  'trajecten.csv': {
    table: 'interventions',
    columns: ['bsn', 'programme', 'arm', 'ladder_step', 'start_date', 'end_date'],
  },
} as const;
export type MunicipalFile = keyof typeof MUNICIPAL_FILES;

/** Which canonical column each defect kind touches, per file (for the ledger). */
const DEFECT_COLUMN: Record<MunicipalFile, Partial<Record<string, string>>> = {
  'clienten.csv': { bsn: 'bsn', date: 'birth_date', code: 'household_type' },
  'uitkeringen.csv': { bsn: 'bsn', date: 'start_date', code: 'benefit_type', end: 'end_date' },
  'trajecten.csv': { bsn: 'bsn', date: 'start_date', code: 'arm', end: 'end_date' },
};
const KIND_ROLE: Record<string, string> = {
  lost_leading_zero: 'bsn',
  bsn_spaces: 'bsn',
  bsn_dots: 'bsn',
  wrong_elfproef: 'bsn',
  missing_bsn: 'bsn',
  unparsable_date: 'date',
  unknown_code: 'code',
  stray_quote: 'code',
  end_before_start: 'end',
};

export interface MunicipalDialect {
  /** Header line per file, in the mapping's Dutch. */
  readonly headers: Record<MunicipalFile, string>;
  /** SQL macros: label_<column>(code) → Dutch label, defect_column(file, kind) → header. */
  readonly macrosSql: string;
}

/**
 * The Dutch headers and code labels, read from examples/mappings/gemeente.json
 * so the export and the mapping the pipeline reads can never drift apart.
 */
export async function municipalDialect(): Promise<MunicipalDialect> {
  const parsed = mappingFile.safeParse(await readJson(GEMEENTE_MAPPING_FILE));
  if (!parsed.success) throw invalid(GEMEENTE_MAPPING_FILE, parsed.error);
  const mapping: MappingFile = parsed.data;
  const headerOf = (table: string, canonical: string): string => {
    const columns = mapping.tables[table as keyof MappingFile['tables']]?.columns ?? {};
    const header = Object.entries(columns).find(([, c]) => c === canonical)?.[0];
    if (header === undefined)
      throw DataError.single('REFERENCE_INVALID', {
        file: GEMEENTE_MAPPING_FILE,
        column: `tables.${table}.columns`,
        rule: 'mapping.column',
        message: `no header maps to '${canonical}'`,
      });
    return header;
  };
  const headers = {} as Record<MunicipalFile, string>;
  const columnCases: string[] = [];
  for (const [file, spec] of Object.entries(MUNICIPAL_FILES) as [
    MunicipalFile,
    (typeof MUNICIPAL_FILES)[MunicipalFile],
  ][]) {
    headers[file] = spec.columns.map((c) => headerOf(spec.table, c)).join(';');
    for (const [kind, role] of Object.entries(KIND_ROLE)) {
      const canonical = DEFECT_COLUMN[file][role];
      if (canonical !== undefined)
        columnCases.push(
          `WHEN file = ${sqlString(file)} AND kind = ${sqlString(kind)} THEN ${sqlString(headerOf(spec.table, canonical))}`,
        );
    }
  }
  const labelMacro = (name: string, table: string, column: string): string => {
    const values = mapping.tables[table as keyof MappingFile['tables']]?.values[column] ?? {};
    const branches = Object.entries(values).map(([label, code]) => `WHEN ${sqlString(code)} THEN ${sqlString(label)}`);
    return `CREATE OR REPLACE MACRO label_${name}(x) AS ${branches.length === 0 ? 'x' : `CASE x ${branches.join(' ')} END`};`;
  };
  const macrosSql = [
    labelMacro('sex', 'clients', 'sex'),
    labelMacro('household_type', 'clients', 'household_type'),
    labelMacro('benefit_type', 'benefits', 'benefit_type'),
    labelMacro('end_reason', 'benefits', 'end_reason'),
    labelMacro('programme', 'interventions', 'programme'),
    labelMacro('arm', 'interventions', 'arm'),
    `CREATE OR REPLACE MACRO defect_column(file, kind) AS CASE ${columnCases.join(' ')} END;`,
  ].join('\n');
  return { headers, macrosSql };
}
