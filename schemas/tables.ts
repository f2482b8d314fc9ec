import { z } from 'zod';

/**
 * `tables.json` of a metrics stage directory (docs/contracts.md, "metrics →
 * release"): what every aggregate table counts and what each measure says
 * about the units it counts. The metrics stage writes it through this schema
 * and the release stage reads it through the same one, so the two cannot
 * drift. Disclosure control takes every rule it applies to a measure from
 * here: which units a table counts, which measure is a share of which, and
 * which cells are fixed by the row's own dimensions.
 */
export const TABLES_FORMAT = 'boldlink-tables/v2';

const name = z.string().min(1);

/**
 * What a count says about the units it counts, and so which rules protect it:
 *
 * - `units`: how many units a cell holds (spells, assignments on benefit).
 *   The frequency rule applies: 1 to threshold − 1 persons is primary.
 * - `attribute`: units with a property of the person that the release must
 *   not reveal for a whole group (went to work, returned to benefit, a job
 *   below the minimum wage). It is a share of its `rate.denominator`, and the
 *   rate rules apply: numerator, denominator and complement each at least the
 *   threshold, since 0% and 100% reveal a whole group.
 * - `timing`: units sorted by when something happened relative to the
 *   published observation end (an outflow late in the year has no 12-month
 *   verdict yet). That is not a property of a person, so the rate rules do
 *   not apply; as a count of persons it keeps the frequency rule.
 */
export const countNature = z.enum(['units', 'attribute', 'timing']);
export type CountNature = z.infer<typeof countNature>;

/**
 * Rows in which a measure's value follows from the row's own dimensions and
 * the published observation end: a year dimension's value in [from, through]
 * (either end open) fixes the measure at 0, or at the value of another column
 * of the same row. Anyone can work such a cell out, so it is published when
 * what it equals is (a known zero always), the attacker is modelled as
 * knowing it, and no rule treats it as a share that reveals a group.
 */
export const structuralValue = z
  .object({
    dimension: name,
    from: z.number().int().optional(),
    through: z.number().int().optional(),
    /** 0, or the column of the same row whose value this measure then has. */
    equals: z.union([z.literal(0), name]),
    why: z.string().min(1),
  })
  .strict()
  .refine((s) => s.from !== undefined || s.through !== undefined, 'a structural value needs `from` or `through`');
export type StructuralValue = z.infer<typeof structuralValue>;

export const countMeasure = z
  .object({
    column: name,
    kind: z.literal('count'),
    description: z.string().optional(),
    nature: countNature,
    /** Why the measure has its nature: the reason a privacy officer reads. */
    why: z.string().optional(),
    /** The measure is a share of this count of the same row (for `attribute`: the rate rules' denominator). */
    rate: z.object({ denominator: name }).strict().optional(),
    structural: z.array(structuralValue).optional(),
  })
  .strict()
  .refine((m) => m.nature !== 'attribute' || m.rate !== undefined, {
    message: 'an attribute count is a share of a denominator: give `rate`',
    path: ['rate'],
  });

export const meanMeasure = z
  .object({
    column: name,
    kind: z.literal('mean'),
    description: z.string().optional(),
    why: z.string().optional(),
    contributors: name,
    sum: name,
    top1: name,
    top2: name,
  })
  .strict();

export const measureSpec = z.union([countMeasure, meanMeasure]);
export type MeasureSpec = z.infer<typeof measureSpec>;
export type CountMeasure = z.infer<typeof countMeasure>;
export type MeanMeasure = z.infer<typeof meanMeasure>;

/** Counts of one row that add up exactly: total = Σ parts in every cell (e.g. spells = censored + uncensored). */
export const measureRelation = z
  .object({
    total: name,
    parts: z.array(name).min(1),
  })
  .strict();
export type MeasureRelation = z.infer<typeof measureRelation>;

export const aggregateTableSpec = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a lowercase table name'),
    kind: z.literal('aggregate').optional(),
    title: z.string(),
    description: z.string(),
    dimensions: z.array(name).min(1),
    hierarchies: z.array(z.array(name).min(2)).default([]),
    /** Tables of one population count the same units: their shared cells are one cell. */
    population: name,
    /** Why the population is what it is (for example: who is in a trial). */
    populationWhy: z.string().optional(),
    measures: z.array(measureSpec).min(1),
    relations: z.array(measureRelation).optional(),
    /** Columns the release reads but never publishes (persons, sums, largest contributions). */
    internal: z.array(z.string()).default([]),
  })
  .strict();
export type AggregateTableSpec = z.infer<typeof aggregateTableSpec>;

const effectsGroup = z
  .object({
    name,
    label: name,
    /** Units whose outcome is known (a count of units). */
    n: name,
    /** Units with the outcome (an attribute count: a share of n). */
    x: name,
    share: name,
    /** Units whose outcome lies past the observation end (a timing count). */
    censored: name,
    persons: name.optional(),
  })
  .strict();

export const effectsTableSpec = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/),
    kind: z.literal('effects'),
    file: name,
    title: z.string(),
    description: z.string(),
    dimensions: z.array(z.string()),
    groups: z.array(effectsGroup).min(1),
    estimates: z.array(z.string()),
    internal: z.array(z.string()).default([]),
  })
  .strict();
export type EffectsTableSpec = z.infer<typeof effectsTableSpec>;

export const tablesCatalogue = z
  .object({
    format: z.literal(TABLES_FORMAT),
    tables: z.array(z.union([effectsTableSpec, aggregateTableSpec])),
  })
  .strict();
export type TablesCatalogue = z.infer<typeof tablesCatalogue>;

export function relationsOf(spec: AggregateTableSpec): readonly MeasureRelation[] {
  return spec.relations ?? [];
}

export function isEffects(spec: AggregateTableSpec | EffectsTableSpec): spec is EffectsTableSpec {
  return spec.kind === 'effects';
}

/** Whether a year-valued dimension value lies in a structural range (a non-year value, e.g. Total, never does). */
export function inStructuralRange(s: StructuralValue, value: string): boolean {
  if (!/^-?\d+$/.test(value)) return false;
  const year = Number(value);
  return (s.from === undefined || year >= s.from) && (s.through === undefined || year <= s.through);
}

/** What a row's dimensions fix a measure at: 0, or the value of another column of the row. */
export type StructuralCell = { readonly equals: 0 | string };

/**
 * Per row of a table (its dimension values), what the measure's structural
 * ranges fix it at. A row whose year is `Total` pools the years of its other
 * dimensions: where every one of them is fixed at the same thing, so is their
 * sum. The release and the audit read a declaration through this one
 * function, so that what one publishes as known the other checks as known.
 */
export function structuralCells(
  measure: CountMeasure,
  rows: readonly Readonly<Record<string, string>>[],
  total = 'Total',
): (StructuralCell | undefined)[] {
  const out: (StructuralCell | undefined)[] = rows.map(() => undefined);
  for (const s of measure.structural ?? []) {
    const at = (row: Readonly<Record<string, string>>) => row[s.dimension];
    if (rows.length === 0 || at(rows[0]!) === undefined) continue;
    rows.forEach((row, i) => {
      if (inStructuralRange(s, at(row)!)) out[i] = { equals: s.equals };
    });
  }
  const dimension = measure.structural?.[0]?.dimension;
  if (dimension === undefined || rows.length === 0 || rows[0]![dimension] === undefined) return out;
  const others = Object.keys(rows[0]!).filter((d) => d !== dimension);
  const groups = new Map<string, { total: number | undefined; equals: Set<0 | string>; open: boolean }>();
  rows.forEach((row, i) => {
    const key = others.map((d) => row[d]).join('\u0000');
    let group = groups.get(key);
    if (group === undefined) {
      group = { total: undefined, equals: new Set(), open: false };
      groups.set(key, group);
    }
    if (row[dimension] === total) group.total = i;
    else if (out[i] === undefined) group.open = true;
    else group.equals.add(out[i]!.equals);
  });
  for (const group of groups.values()) {
    if (group.total === undefined || group.open || group.equals.size !== 1) continue;
    out[group.total] = { equals: [...group.equals][0]! };
  }
  return out;
}
