import { readFile } from 'node:fs/promises';
import { definitionsVersion, metricDefinitions, type MetricDefinitions } from '../../schemas/definitions.js';
import { DataError, type DataIssue } from '../core/errors.js';
import { projectPath } from '../core/projectPath.js';

/** The definitions shipped with the project: DESIGN.md's defaults. */
export const DEFAULT_DEFINITIONS_FILE = projectPath('examples', 'definitions.json');

export interface LoadedDefinitions {
  readonly file: string;
  readonly definitions: MetricDefinitions;
  /** `name@hash` of the parameters (schemas/definitions.ts). */
  readonly version: string;
}

export async function loadDefinitions(file: string = DEFAULT_DEFINITIONS_FILE): Promise<LoadedDefinitions> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw DataError.single('DEFINITIONS_INVALID', { file, rule: 'definitions.read', message: `cannot read the definitions file (${code})` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw DataError.single('DEFINITIONS_INVALID', { file, rule: 'definitions.json', message: `not valid JSON (${(error as Error).message})` });
  }
  const result = metricDefinitions.safeParse(json);
  if (!result.success) {
    const issues: DataIssue[] = result.error.issues.map((issue) => ({
      file,
      column: issue.path.join('.') || '(file)',
      rule: 'definitions.schema',
      message: issue.message,
    }));
    const first = issues[0];
    const summary = first === undefined ? 'invalid' : `'${first.column}': ${first.message}`;
    throw new DataError('DEFINITIONS_INVALID', `${file} is not a valid definitions file (${DEFINITIONS_HINT}): ${summary}`, issues);
  }
  return { file, definitions: result.data, version: definitionsVersion(result.data) };
}

const DEFINITIONS_HINT = 'see examples/definitions.json for every parameter';
