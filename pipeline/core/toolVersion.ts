import { readFileSync } from 'node:fs';
import { projectPath } from './projectPath.js';

let cached: string | undefined;

/** The package version, recorded in every manifest. */
export function toolVersion(): string {
  cached ??= (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
