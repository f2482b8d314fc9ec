import { readFile } from 'node:fs/promises';
import { DataError, ManifestError } from '../core/errors.js';
import { type Duck, sqlString } from '../core/duckdb.js';
import type { StageInput } from '../core/stageInput.js';
import { isEffects, tablesCatalogue, type EffectsTableSpec, type TablesCatalogue } from '../../schemas/tables.js';
import type { LoadedTable } from './loadedTable.js';

export interface LoadedEffects {
  readonly spec: EffectsTableSpec;
  readonly file: string;
  readonly rows: readonly Record<string, string | number | null>[];
}

export interface LoadedMetrics {
  readonly catalogue: TablesCatalogue;
  readonly tables: LoadedTable[];
  readonly effects: LoadedEffects[];
}

/**
 * The aggregate tables of a metrics stage directory, read through its
 * manifest. Aggregates are small (thousands of cells), so they are held in
 * memory; nothing per person is read (spells.parquet is never opened).
 */
export async function loadMetrics(input: StageInput, duck: Duck): Promise<LoadedMetrics> {
  const cataloguePath = input.path('tables.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(cataloguePath, 'utf8'));
  } catch {
    throw new ManifestError(
      'MANIFEST_INVALID',
      cataloguePath,
      `${cataloguePath} is not valid JSON; rerun boldlink metrics.`,
    );
  }
  const result = tablesCatalogue.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw DataError.single('RELEASE_CATALOGUE', {
      file: cataloguePath,
      column: issue?.path.join('.') ?? '',
      rule: 'catalogue.format',
      message: issue?.message ?? 'does not follow the tables.json format',
    });
  }
  const catalogue = result.data;
  const tables: LoadedTable[] = [];
  const effects: LoadedEffects[] = [];
  for (const spec of catalogue.tables) {
    if (isEffects(spec)) {
      const file = input.path(spec.file);
      effects.push({ spec, file, rows: await readRows(duck, file, [...spec.dimensions]) });
    } else {
      const file = input.path(`tables/${spec.name}.parquet`);
      tables.push({ spec, file, rows: await readRows(duck, file, spec.dimensions) });
    }
  }
  return { catalogue, tables, effects };
}

async function readRows(
  duck: Duck,
  file: string,
  dimensions: readonly string[],
): Promise<Record<string, string | number | null>[]> {
  const rows = await duck.jsonRows<Record<string, unknown>>(`SELECT * FROM read_parquet(${sqlString(file)})`);
  return rows.map((row) => {
    const out: Record<string, string | number | null> = {};
    for (const [k, v] of Object.entries(row)) {
      if (v === null || v === undefined) out[k] = null;
      else if (dimensions.includes(k)) out[k] = String(v);
      else if (typeof v === 'number') out[k] = v;
      else if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) out[k] = Number(v);
      else out[k] = String(v);
    }
    return out;
  });
}
