import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../../schemas/definitions.js';
import { readJsonFile } from '../core/jsonFile.js';
import { projectPath } from '../core/projectPath.js';

/** The statutory minimum wage per hour by year: reference data shipped with the project, with its source. */
export const MINIMUM_WAGE_FILE = projectPath('examples', 'reference', 'minimum-wage.json');

const minimumWageFile = z
  .object({
    format: z.literal('boldlink-reference/minimum-wage/v1'),
    description: z.string(),
    source: z.string().min(1),
    unit: z.literal('EUR per hour'),
    basis: z.record(z.string(), z.string()).optional(),
    hourly: z.record(z.string().regex(/^\d{4}$/, 'a year'), z.number().positive()),
  })
  .strict();

export interface MinimumWage {
  readonly file: string;
  /** year → EUR per hour */
  readonly hourly: ReadonlyMap<number, number>;
  /** Short hash of the figures, recorded in the manifest: a corrected figure is a different reference. */
  readonly version: string;
}

export async function loadMinimumWage(file: string = MINIMUM_WAGE_FILE): Promise<MinimumWage> {
  const reference = await readJsonFile(file, minimumWageFile, {
    code: 'REFERENCE_INVALID',
    rule: 'reference',
    what: 'minimum-wage reference',
    hint: 'see examples/reference/minimum-wage.json',
  });
  const hourly = new Map(Object.entries(reference.hourly).map(([year, wage]) => [Number(year), wage] as const));
  const version = `sha256:${createHash('sha256').update(canonicalJson(reference.hourly)).digest('hex').slice(0, 12)}`;
  return { file, hourly, version };
}

/** The table as a SQL relation `(wml_year INTEGER, wml_hourly DOUBLE)`. */
export function minimumWageRelation(wage: MinimumWage): string {
  const rows = [...wage.hourly.entries()].sort(([a], [b]) => a - b).map(([year, hourly]) => `(${year}, ${hourly})`);
  return `(SELECT * FROM (VALUES ${rows.join(', ')}) AS wml(wml_year, wml_hourly))`;
}
