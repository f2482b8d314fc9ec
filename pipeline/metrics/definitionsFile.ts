import { definitionsVersion, metricDefinitions, type MetricDefinitions } from '../../schemas/definitions.js';
import { readJsonFile } from '../core/jsonFile.js';
import { projectPath } from '../core/projectPath.js';

/** The definitions shipped with the project: the defaults of docs/design.md ("Metric definitions"). */
export const DEFAULT_DEFINITIONS_FILE = projectPath('examples', 'definitions.json');

export interface LoadedDefinitions {
  readonly file: string;
  readonly definitions: MetricDefinitions;
  /** `name@hash` of the parameters (schemas/definitions.ts). */
  readonly version: string;
}

export async function loadDefinitions(file: string = DEFAULT_DEFINITIONS_FILE): Promise<LoadedDefinitions> {
  const definitions = await readJsonFile(file, metricDefinitions, {
    code: 'DEFINITIONS_INVALID',
    rule: 'definitions',
    what: 'definitions file',
    hint: 'see examples/definitions.json for every parameter',
  });
  return { file, definitions, version: definitionsVersion(definitions) };
}
