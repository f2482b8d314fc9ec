import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import type { DataErrorCode } from './errorCodes.js';
import { DataError, type DataIssue } from './errors.js';

/** How a kind of JSON input file is named in errors. */
export interface JsonFileKind {
  /** The error code of a file that is not JSON or does not follow the schema, e.g. 'RULES_INVALID'. */
  readonly code: DataErrorCode;
  /** The issues' rule prefix: `<rule>.read`, `<rule>.json`, `<rule>.schema`. */
  readonly rule: string;
  /** What the file is, for the message: 'rules file'. */
  readonly what: string;
  /** Where a steward finds a valid one, added to the message. */
  readonly hint?: string;
  /** The error for a file that cannot be read (default: a DataError with `code`). */
  readonly unreadable?: (path: string, reason: string) => Error;
}

/**
 * A JSON input file (mapping, rules, definitions, reference figures) parsed
 * into typed values once, at the edge. Every schema issue becomes a DataIssue
 * naming the file, the field's path (as the column) and the rule, so a
 * steward sees each mistake, not only the first.
 */
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>, kind: JsonFileKind): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'error';
    throw (
      kind.unreadable?.(path, reason) ??
      DataError.single(kind.code, {
        file: path,
        rule: `${kind.rule}.read`,
        message: `cannot read the ${kind.what} (${reason})`,
      })
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw DataError.single(kind.code, {
      file: path,
      rule: `${kind.rule}.json`,
      message: `the ${kind.what} is not valid JSON`,
    });
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues: DataIssue[] = parsed.error.issues.map((issue) => ({
    file: path,
    column: issue.path.join('.') || '(file)',
    rule: `${kind.rule}.schema`,
    message: issue.message,
  }));
  const listed = issues.map((i) => `'${i.column}': ${i.message}`).join('; ');
  throw new DataError(
    kind.code,
    `${path} is not a valid ${kind.what}${kind.hint === undefined ? '' : ` (${kind.hint})`}: ${listed}`,
    issues,
  );
}
