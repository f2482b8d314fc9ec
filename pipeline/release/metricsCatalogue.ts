import { z } from 'zod';

/**
 * `tables.json` of a metrics stage directory (docs/contracts.md, "metrics →
 * release"), as far as disclosure control needs it. Unknown keys are ignored
 * so that metrics can describe its tables further without breaking release.
 */
const countMeasure = z.object({
  column: z.string().min(1),
  kind: z.literal('count'),
  description: z.string().optional(),
  rate: z.object({ denominator: z.string().min(1) }).optional(),
});

const meanMeasure = z.object({
  column: z.string().min(1),
  kind: z.literal('mean'),
  description: z.string().optional(),
  contributors: z.string().min(1),
  sum: z.string().min(1),
  top1: z.string().min(1),
  top2: z.string().min(1),
});

export const measureSpec = z.discriminatedUnion('kind', [countMeasure, meanMeasure]);
export type MeasureSpec = z.infer<typeof measureSpec>;
export type CountMeasure = z.infer<typeof countMeasure>;
export type MeanMeasure = z.infer<typeof meanMeasure>;

/** Counts of one row that add up exactly: total = Σ parts in every cell (e.g. spells = censored + uncensored). */
export const measureRelation = z.object({
  total: z.string().min(1),
  parts: z.array(z.string().min(1)).min(1),
});
export type MeasureRelation = z.infer<typeof measureRelation>;

export const aggregateTableSpec = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a lowercase table name'),
  kind: z.literal('aggregate').optional(),
  title: z.string(),
  description: z.string(),
  dimensions: z.array(z.string().min(1)).min(1),
  hierarchies: z.array(z.array(z.string().min(1)).min(2)).default([]),
  population: z.string().min(1),
  measures: z.array(measureSpec).min(1),
  /** Optional (absent: none), so that a steward's table or an older catalogue needs no entry. */
  relations: z.array(measureRelation).optional(),
  internal: z.array(z.string()).default([]),
});
export type AggregateTableSpec = z.infer<typeof aggregateTableSpec>;

const effectsGroup = z.object({
  name: z.string(),
  label: z.string(),
  n: z.string(),
  x: z.string(),
  share: z.string(),
  censored: z.string(),
  persons: z.string().optional(),
});

export const effectsTableSpec = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  kind: z.literal('effects'),
  file: z.string().min(1),
  title: z.string(),
  description: z.string(),
  dimensions: z.array(z.string()),
  groups: z.array(effectsGroup).min(1),
  estimates: z.array(z.string()),
  internal: z.array(z.string()).default([]),
});
export type EffectsTableSpec = z.infer<typeof effectsTableSpec>;

export const metricsCatalogue = z.object({
  format: z.literal('boldlink-tables/v1'),
  tables: z.array(z.union([effectsTableSpec, aggregateTableSpec])),
});
export type MetricsCatalogue = z.infer<typeof metricsCatalogue>;

export function relationsOf(spec: AggregateTableSpec): readonly MeasureRelation[] {
  return spec.relations ?? [];
}

export function isEffects(spec: AggregateTableSpec | EffectsTableSpec): spec is EffectsTableSpec {
  return spec.kind === 'effects';
}
