import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The metric definitions of docs/design.md ("Metric definitions") as a versioned
 * parameter set. The version is derived from the parameters themselves, so two
 * runs that report the same version computed the same thing, and a changed
 * parameter can never hide behind an unchanged name.
 */
export const DEFINITIONS_FORMAT = 'boldlink-definitions/v1';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date written YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'a real calendar date');

const label = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z0-9+\- ]+$/, 'letters, digits, spaces, + and - only')
  .refine((s) => s !== 'Total' && s !== 'unknown', "'Total' and 'unknown' are reserved dimension values");

/** A band of whole numbers: `from` ≤ x ≤ `to`; an open top band has no `to`. */
const band = z
  .object({ label, from: z.number().int().nonnegative(), to: z.number().int().nonnegative().optional() })
  .strict()
  .refine((b) => b.to === undefined || b.to >= b.from, { message: "'to' must be ≥ 'from'" });
export type Band = z.infer<typeof band>;

/** Bands must follow each other without gap or overlap, so every value falls in exactly one. */
function contiguous(bands: readonly Band[], ctx: z.RefinementCtx, path: string): void {
  const labels = new Set<string>();
  bands.forEach((b, i) => {
    if (labels.has(b.label))
      ctx.addIssue({ code: 'custom', path: [path, i, 'label'], message: `label '${b.label}' is used twice` });
    labels.add(b.label);
    const next = bands[i + 1];
    if (next === undefined) return;
    if (b.to === undefined)
      ctx.addIssue({ code: 'custom', path: [path, i, 'to'], message: 'only the last band may be open-ended' });
    else if (next.from !== b.to + 1)
      ctx.addIssue({
        code: 'custom',
        path: [path, i + 1, 'from'],
        message: `must be ${b.to + 1}, right after the previous band`,
      });
  });
}

export const metricDefinitions = z
  .object({
    format: z.literal(DEFINITIONS_FORMAT),
    /** Short name recorded in the manifest beside the version. */
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, . _ -'),
    description: z.string().optional(),
    /** A benefit period starting at most this many days after the spell's running end joins the spell. */
    spellGapDays: z.number().int().nonnegative(),
    /** Outflow to work: a job starts in [E − before, E + after]. */
    workWindowDays: z
      .object({ before: z.number().int().nonnegative(), after: z.number().int().nonnegative() })
      .strict(),
    /** H = E + this many calendar months: revolving door, durability and censoring. */
    durabilityHorizonMonths: z.number().int().positive(),
    /** The first job "lasted" when it runs at least this many months. */
    jobLastedMonths: z.number().int().positive(),
    /** A spell "ends within" this many months of a day S (a programme assignment, or the spell's own start). */
    endsWithinMonths: z.number().int().positive(),
    /** Part-time when hours per week < this. */
    partTimeHoursBelow: z.number().positive(),
    /** Small job when hours per week < this. */
    smallJobHoursBelow: z.number().positive(),
    /** Wage band "near" the minimum wage: WML ≤ w ≤ factor × WML. */
    wageBandNearFactor: z.number().min(1),
    /** Youngest age counted in the age groups; younger ages are 'unknown'. */
    minimumAge: z.number().int().nonnegative(),
    /** The youth-desk boundary: age group minimumAge…boundary−1 against boundary+. */
    youthBoundaryAge: z.number().int().positive(),
    /** Years on each side of the boundary for the age discontinuity (2: 25–26 against 27–28). */
    discontinuityYears: z.number().int().positive(),
    /** Age bands, nested in the two age groups (none may straddle the youth boundary). */
    ageBands: z.array(band).min(1),
    /** Spell duration before outflow, in whole months. */
    durationBands: z.array(band).min(1),
    /** Observation end T; null: the latest date in the linked benefit and job data. */
    observationEnd: isoDate.nullable(),
  })
  .strict()
  .superRefine((d, ctx) => {
    contiguous(d.ageBands, ctx, 'ageBands');
    contiguous(d.durationBands, ctx, 'durationBands');
    if (d.ageBands[0]?.from !== d.minimumAge)
      ctx.addIssue({
        code: 'custom',
        path: ['ageBands', 0, 'from'],
        message: `must equal minimumAge (${d.minimumAge})`,
      });
    if (d.ageBands.at(-1)?.to !== undefined)
      ctx.addIssue({ code: 'custom', path: ['ageBands'], message: 'the last age band must be open-ended (no "to")' });
    if (d.durationBands[0]?.from !== 0)
      ctx.addIssue({ code: 'custom', path: ['durationBands', 0, 'from'], message: 'must be 0' });
    if (d.durationBands.at(-1)?.to !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['durationBands'],
        message: 'the last duration band must be open-ended (no "to")',
      });
    d.ageBands.forEach((b, i) => {
      if (b.from < d.youthBoundaryAge && (b.to === undefined || b.to >= d.youthBoundaryAge)) {
        ctx.addIssue({
          code: 'custom',
          path: ['ageBands', i],
          message: `straddles the youth boundary ${d.youthBoundaryAge}; bands must nest in the age groups`,
        });
      }
    });
    if (d.youthBoundaryAge - d.discontinuityYears < d.minimumAge) {
      ctx.addIssue({ code: 'custom', path: ['discontinuityYears'], message: 'reaches below minimumAge' });
    }
    if (d.smallJobHoursBelow > d.partTimeHoursBelow) {
      ctx.addIssue({
        code: 'custom',
        path: ['smallJobHoursBelow'],
        message: 'a small job is also part-time: must be ≤ partTimeHoursBelow',
      });
    }
  });
export type MetricDefinitions = z.infer<typeof metricDefinitions>;

/** JSON with keys sorted at every level: the same parameters always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * `name@hash`: the first 12 hex digits of SHA-256 over the canonical
 * parameters (everything but the free-text description). Changing any
 * parameter changes the version; rewording the description does not.
 */
export function definitionsVersion(definitions: MetricDefinitions): string {
  const { description: _description, ...parameters } = definitions;
  const hash = createHash('sha256').update(canonicalJson(parameters)).digest('hex').slice(0, 12);
  return `${definitions.name}@${hash}`;
}

/** Label of the young age group, e.g. '18-26'. */
export function youthGroupLabel(d: MetricDefinitions): string {
  return `${d.minimumAge}-${d.youthBoundaryAge - 1}`;
}

/** Label of the older age group, e.g. '27+'. */
export function adultGroupLabel(d: MetricDefinitions): string {
  return `${d.youthBoundaryAge}+`;
}
