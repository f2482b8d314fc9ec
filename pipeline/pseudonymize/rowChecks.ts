import { z } from 'zod';
import { inputRows } from '../../schemas/inputs.js';
import type { CanonicalTable } from '../../schemas/mapping.js';
import { sqlIdent, sqlString } from '../core/duckdb.js';

/**
 * The bulk SQL checks of one canonical table, derived from its zod
 * description in schemas/inputs.ts (through its JSON Schema), so each rule is
 * written once. For every column: a typed value expression and a failure
 * expression that yields `'column|rule'` for the first rule the row breaks,
 * or NULL.
 */

export interface ColumnSource {
  /** The DuckDB type of the delivered column ('VARCHAR' for CSV), or null when the file lacks it. */
  readonly type: string | null;
}

export interface CheckDialect {
  /** strptime format of dates delivered as text. */
  readonly dateFormat: string;
  readonly decimalComma: boolean;
  /** Canonical column → (source code → canonical code). */
  readonly values: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface DerivedColumn {
  readonly name: string;
  /** Typed value (DATE, DOUBLE, BIGINT or VARCHAR); only meaningful when the row passed. */
  readonly value: string;
  /** `'column|rule'` or NULL. */
  readonly failure: string;
}

export interface DerivedChecks {
  readonly columns: readonly DerivedColumn[];
  /** `'column|date.order'` or NULL, over the typed values of `columns` (by name). */
  readonly dateOrder: readonly { readonly start: string; readonly end: string }[];
}

interface JsonColumn {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  rule?: string;
  role?: string;
  anyOf?: JsonColumn[];
}

interface JsonTable {
  properties: Record<string, JsonColumn>;
  dateOrder?: [string, string][];
}

const jsonSchemas = new Map<CanonicalTable, JsonTable>();

function tableSchema(table: CanonicalTable): JsonTable {
  let schema = jsonSchemas.get(table);
  if (schema === undefined) {
    schema = z.toJSONSchema(inputRows[table]) as unknown as JsonTable;
    jsonSchemas.set(table, schema);
  }
  return schema;
}

/** The column carrying the BSN (role 'bsn'): not a row rule, it is canonicalised and pseudonymized. */
export function identifierColumn(table: CanonicalTable): string {
  const entry = Object.entries(tableSchema(table).properties).find(([, c]) => c.role === 'bsn' || c.anyOf?.some((a) => a.role === 'bsn'));
  if (entry === undefined) throw new Error(`schemas/inputs.ts: table ${table} has no column with role 'bsn'`);
  return entry[0];
}

function unwrap(column: JsonColumn): { inner: JsonColumn; nullable: boolean } {
  if (column.anyOf !== undefined) {
    const inner = column.anyOf.find((a) => a.type !== 'null');
    return { inner: { ...inner, ...(column.rule !== undefined ? { rule: column.rule } : {}) }, nullable: column.anyOf.some((a) => a.type === 'null') };
  }
  if (Array.isArray(column.type)) {
    return { inner: { ...column, type: column.type.find((t) => t !== 'null') ?? 'string' }, nullable: column.type.includes('null') };
  }
  return { inner: column, nullable: false };
}

const TEXT_TYPES = new Set(['VARCHAR']);

export function deriveChecks(table: CanonicalTable, sources: ReadonlyMap<string, ColumnSource>, dialect: CheckDialect, alias = 'src'): DerivedChecks {
  const schema = tableSchema(table);
  const bsnColumn = identifierColumn(table);
  const columns: DerivedColumn[] = [];
  for (const [name, json] of Object.entries(schema.properties)) {
    if (name === bsnColumn) continue;
    const { inner, nullable } = unwrap(json);
    const source = sources.get(name);
    const fail = (rule: string) => sqlString(`${name}|${rule}`);
    if (source === undefined || source.type === null) {
      // Absent optional column: every row has it empty. (Required columns are how a file is recognised, so never absent.)
      columns.push({ name, value: 'NULL', failure: nullable ? 'NULL' : fail('value.missing') });
      continue;
    }
    const raw = `${alias}.${sqlIdent(name)}`;
    const text = TEXT_TYPES.has(source.type);
    // Text is trimmed and an empty string is a missing value.
    const v = text ? `NULLIF(TRIM(${raw}), '')` : raw;
    const conditions: { when: string; rule: string }[] = [];
    let value: string;
    if (inner.format === 'date') {
      if (text) {
        value = `CAST(TRY_STRPTIME(${v}, ${sqlString(dialect.dateFormat)}) AS DATE)`;
        conditions.push({ when: `${value} IS NULL`, rule: 'date.format' });
      } else {
        value = source.type === 'DATE' ? raw : `TRY_CAST(${raw} AS DATE)`;
        if (source.type !== 'DATE') conditions.push({ when: `${value} IS NULL`, rule: 'date.format' });
      }
    } else if (inner.enum !== undefined) {
      const mapped = mapCodes(dialect.values[name], text ? v : `CAST(${raw} AS VARCHAR)`);
      value = mapped;
      conditions.push({ when: `${mapped} NOT IN (${inner.enum.map(sqlString).join(', ')})`, rule: 'code.unknown' });
    } else if (inner.type === 'integer' || inner.type === 'number') {
      if (text) {
        const normalised = dialect.decimalComma ? `REPLACE(REPLACE(${v}, '.', ''), ',', '.')` : v;
        // Decimal comma: digits with optional thousands dots and a comma; a lone '.' is ambiguous, so refused.
        const shape = dialect.decimalComma ? '^-?([0-9]+|[0-9]{1,3}(\\.[0-9]{3})+)(,[0-9]+)?$' : '^-?[0-9]+(\\.[0-9]+)?$';
        value = inner.type === 'integer' ? `TRY_CAST(${normalised} AS BIGINT)` : `TRY_CAST(${normalised} AS DOUBLE)`;
        // A whole number with a fraction (ladder step 3,5) is refused, not rounded by the cast.
        const fraction = inner.type === 'integer' ? ` OR TRY_CAST(${normalised} AS DOUBLE) <> ${value}` : '';
        conditions.push({ when: `NOT regexp_matches(${v}, ${sqlString(shape)}) OR ${value} IS NULL${fraction}`, rule: 'number.format' });
      } else if (inner.type === 'integer') {
        value = `CAST(${raw} AS BIGINT)`;
        conditions.push({ when: `CAST(${raw} AS DOUBLE) <> ROUND(CAST(${raw} AS DOUBLE))`, rule: 'number.format' });
      } else {
        value = `CAST(${raw} AS DOUBLE)`;
        conditions.push({ when: `isnan(${value}) OR isinf(${value})`, rule: 'number.format' });
      }
      const range = [
        ...(inner.minimum !== undefined ? [`${value} < ${inner.minimum}`] : []),
        ...(inner.maximum !== undefined ? [`${value} > ${inner.maximum}`] : []),
      ];
      if (range.length > 0) conditions.push({ when: range.join(' OR '), rule: 'number.range' });
    } else {
      value = mapCodes(dialect.values[name], text ? v : `CAST(${raw} AS VARCHAR)`);
      const rule = inner.rule ?? `${name}.format`;
      if (inner.pattern !== undefined) conditions.push({ when: `NOT regexp_matches(${value}, ${sqlString(inner.pattern)})`, rule });
      const length = [
        ...(inner.minLength !== undefined ? [`length(${value}) < ${inner.minLength}`] : []),
        ...(inner.maxLength !== undefined ? [`length(${value}) > ${inner.maxLength}`] : []),
      ];
      if (length.length > 0) conditions.push({ when: length.join(' OR '), rule });
    }
    const failure = `CASE WHEN ${v} IS NULL THEN ${nullable ? 'NULL' : fail('value.missing')}${conditions.map((c) => ` WHEN ${c.when} THEN ${fail(c.rule)}`).join('')} END`;
    columns.push({ name, value, failure });
  }
  const dateOrder = (schema.dateOrder ?? []).map(([start, end]) => ({ start, end }));
  return { columns, dateOrder };
}

/** A mapping file's code list (source code → canonical code); unlisted values pass through to the checks. */
function mapCodes(codes: Readonly<Record<string, string>> | undefined, value: string): string {
  if (codes === undefined || Object.keys(codes).length === 0) return value;
  return `CASE ${value} ${Object.entries(codes)
    .map(([from, to]) => `WHEN ${sqlString(from)} THEN ${sqlString(to)}`)
    .join(' ')} ELSE ${value} END`;
}

/** Human text for a quarantine rule; never carries a value. */
export const RULE_MESSAGES: Readonly<Record<string, string>> = {
  'value.missing': 'required value is empty',
  'date.format': 'not a valid date in the expected format',
  'date.order': 'end date lies before the start date',
  'code.unknown': 'code not in the code list (nor in the mapping file)',
  'number.format': 'not a number in the expected format',
  'number.range': 'number outside the allowed range',
  'postcode.format': 'not a Dutch postcode (e.g. 3011 AB)',
  'house_number.format': 'not a house number (digits with an optional addition)',
  'municipality_code.format': 'not a CBS municipality code (GM + 4 digits)',
  'district.length': 'district empty or longer than 100 characters',
  'programme.length': 'programme empty or longer than 100 characters',
  'employer_id.length': 'employer id empty or longer than 100 characters',
  'bsn.missing': 'no BSN, and no fallback fields to pseudonymize the row with',
  'bsn.not_digits': 'BSN holds characters other than digits, and no fallback fields to pseudonymize the row with',
  'bsn.wrong_length': 'BSN is not 9 digits (nor 8 with a lost leading zero), and no fallback fields to pseudonymize the row with',
  'bsn.all_zero': 'BSN is 000000000, and no fallback fields to pseudonymize the row with',
  'bsn.elfproef': 'BSN fails the elfproef, and no fallback fields to pseudonymize the row with',
  'bsn.fallback_ambiguous': 'BSN invalid and the clients rows with the same BSN value give different fallback fields',
  duplicate_row: 'exact duplicate of an earlier row (the first is kept)',
  'row.columns': 'wrong number of columns',
  'row.encoding': 'bytes not valid in the declared encoding',
  'row.quote': 'unbalanced quote: the CSV reader could not separate this line (or it was swallowed by an open quote on the line before)',
  'row.empty': 'empty line',
  'row.parse': 'the CSV reader could not parse this line',
};

export function ruleMessageSql(ruleExpr: string): string {
  return `CASE ${ruleExpr} ${Object.entries(RULE_MESSAGES)
    .map(([rule, text]) => `WHEN ${sqlString(rule)} THEN ${sqlString(text)}`)
    .join(' ')} ELSE 'invalid value' END`;
}
