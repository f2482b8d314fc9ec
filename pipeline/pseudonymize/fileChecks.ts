import { sqlIdent, sqlString } from '../core/duckdb.js';
import { STRPTIME_FORMAT, type InputFile } from './inputFiles.js';
import { deriveChecks, identifierColumn } from './rowChecks.js';

// The SQL of one input file's rows over its relation (alias `s`): the typed value of each canonical column, the
// first schema rule a row breaks, the raw BSN and the parts of the fallback message. Every pass over the file
// (profile, quarantine, output) takes its expressions from here.

/** The BSN as delivered, as text (NULL when absent): `bsn_check` and `bsn_p1` canonicalise it. */
export function rawBsn(file: InputFile): string {
  return `CAST(s.${sqlIdent(identifierColumn(file.table))} AS VARCHAR)`;
}

export interface FileChecks {
  /**
   * The file's rows as every pass reads them, to be aliased `s`: its relation, plus the trimmed text of each text
   * column (`DerivedChecks.texts`), which the other expressions read by name.
   */
  readonly rows: string;
  /** Canonical column → typed value expression over `s` (meaningful for rows that pass). */
  readonly values: ReadonlyMap<string, string>;
  /** `'column|rule'` of the first rule the row breaks, or NULL. */
  readonly failure: string;
  /** The four parts of the F1 message (`fallback_f1` joins them with '|' after its "fallback:" prefix): YYYY-MM-DD, sex, PC6, house number. */
  readonly fallbackParts: readonly [string, string, string, string];
}

export function checksOf(file: InputFile): FileChecks {
  const checks = deriveChecks(
    file.table,
    file.columns,
    {
      dateFormat: STRPTIME_FORMAT[file.dialect.dateFormat],
      decimalComma: file.dialect.decimalComma,
      values: file.valueMaps,
    },
    's',
  );
  const values = new Map(checks.columns.map((c) => [c.name, c.value]));
  const failures = [
    ...checks.columns.map((c) => c.failure),
    ...checks.dateOrder.map(
      ({ start, end }) =>
        `CASE WHEN ${values.get(end)} < ${values.get(start)} THEN ${sqlString(`${end}|date.order`)} END`,
    ),
  ];
  // PC6 is the postcode upper-cased without its space: a postcode that passed its rule (schemas/inputs.ts) has at
  // most one ASCII space, so a plain replace gives the PC6 of docs/design.md, cheaper than a regex.
  const fallbackParts: FileChecks['fallbackParts'] = hasFallbackFields(file)
    ? [
        `strftime(${values.get('birth_date')}, '%Y-%m-%d')`,
        values.get('sex')!,
        `upper(replace(${values.get('postcode')}, ' ', ''))`,
        values.get('house_number')!,
      ]
    : ['NULL', 'NULL', 'NULL', 'NULL'];
  const rows =
    checks.texts.length === 0
      ? file.relation
      : `(SELECT s.*, ${checks.texts.map((t) => `${t.expression} AS ${sqlIdent(t.alias)}`).join(', ')} FROM ${file.relation} s)`;
  return { rows, values, failure: `COALESCE(${failures.join(', ')})`, fallbackParts };
}

/** Clients and the holder's persons carry the fallback fields, so each of their rows can have F1. */
export function hasFallbackFields(file: InputFile): boolean {
  return file.table === 'clients' || file.table === 'persons';
}

/** Benefits and interventions carry no fallback fields: a row without a usable BSN takes the F1 its clients row gives. */
export function takesClientsFallback(file: InputFile): boolean {
  return file.table === 'benefits' || file.table === 'interventions';
}
