import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duck, sqlString } from '../core/duckdb.js';
import type { DemoWorkspace } from './workspace.js';

export interface Headline {
  readonly byYear: readonly { year: string; outflows: number; toWorkShare: number | null; durableShare: number | null; censored: number }[];
}

/** Headline outflow figures by year, from the secure environment's per-spell table. */
export async function headlineFigures(ws: DemoWorkspace): Promise<Headline> {
  const duck = await Duck.open({ threads: 2 });
  try {
    const byYear = await duck.jsonRows<{ year: string; outflows: number; toWorkShare: number | null; durableShare: number | null; censored: number }>(`
      WITH outflows AS (
        SELECT * FROM read_parquet(${sqlString(join(ws.metrics, 'spells.parquet'))}) WHERE outflow
      )
      SELECT
        CAST(outflow_year AS VARCHAR) AS year,
        CAST(count(*) AS INTEGER) AS outflows,
        round(avg(CASE WHEN to_work THEN 1 ELSE 0 END), 3) AS "toWorkShare",
        round(avg(CASE WHEN durable THEN 1 WHEN NOT censored THEN 0 END), 3) AS "durableShare",
        CAST(count(*) FILTER (WHERE censored) AS INTEGER) AS censored
      FROM outflows
      GROUP BY outflow_year
      ORDER BY outflow_year`);
    return { byYear };
  } finally {
    duck.close();
  }
}

export async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}
