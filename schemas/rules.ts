import { z } from 'zod';

/**
 * The disclosure rules file (`release --rules`, `protect --rules`). Defaults
 * are docs/design.md, "Disclosure control", and `examples/rules.json`: the CBS
 * frequency threshold and ACRO's defaults for magnitude cells.
 */
export const RULES_FORMAT = 'boldlink-rules/v1';

const positiveInt = z.number().int().positive();

export const rulesSchema = z
  .object({
    format: z.literal(RULES_FORMAT),
    frequency: z
      .object({
        /** A count cell based on fewer persons than this is primary-suppressed. */
        minPersons: positiveInt,
        /** Whether an empty cell (0 persons) is sensitive too. Empty cells say nothing about a person, so by default they are published. */
        zerosAreSensitive: z.boolean(),
      })
      .strict(),
    rates: z
      .object({
        /** Numerator, denominator and complement (denominator − numerator) must each reach this. */
        minNumerator: positiveInt,
        minDenominator: positiveInt,
        minComplement: positiveInt,
      })
      .strict(),
    magnitude: z
      .object({
        minContributors: positiveInt,
        /** (n, k) dominance: the n largest contributors may not hold more than k percent of the total. */
        dominance: z.object({ n: z.number().int().min(1).max(2), kPercent: z.number().gt(0).lte(100) }).strict(),
        /** p% rule: the total minus the two largest must be at least p percent of the largest. */
        pPercent: z.number().gt(0).lte(100),
        /** Protection of a sensitive magnitude cell: the attacker's interval on its total must be at least this percent of the total wide. */
        protectionPercent: z.number().gt(0).lte(100),
      })
      .strict(),
    /** Protection level of a sensitive count cell: minimum width of the attacker's interval. Default: the frequency threshold. */
    protectionLevel: positiveInt.optional(),
    rounding: z.discriminatedUnion('method', [
      z.object({ method: z.literal('none') }).strict(),
      /** Round every published count to the nearest multiple of `base`. */
      z.object({ method: z.literal('base'), base: z.number().int().min(2) }).strict(),
      /** OpenSAFELY: redact counts ≤ `redactAtMost`, round the rest to the nearest multiple of `base`. */
      z
        .object({
          method: z.literal('redact-round'),
          redactAtMost: z.number().int().nonnegative(),
          base: z.number().int().min(2),
        })
        .strict(),
      /** OpenSAFELY midpoint-6: a count becomes the midpoint of its block of 6 (1–6 → 3, 7–12 → 9 …); 0 stays 0. */
      z.object({ method: z.literal('midpoint6') }).strict(),
    ]),
  })
  .strict();

export type Rules = z.infer<typeof rulesSchema>;
export type RoundingRule = Rules['rounding'];

/** The count protection level in force: explicit, or the frequency threshold. */
export function countProtectionLevel(rules: Rules): number {
  return rules.protectionLevel ?? rules.frequency.minPersons;
}
