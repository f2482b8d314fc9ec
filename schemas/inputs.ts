import { z } from 'zod';
import type { CanonicalTable } from './mapping.js';

/**
 * The canonical input tables of docs/design.md ("Input tables"), one row each, as
 * a source delivers them after column mapping. Codes are those of
 * docs/contracts.md. `pseudonymize` derives its bulk SQL checks from these
 * descriptions (via their JSON Schema, see pipeline/pseudonymize/rowChecks.ts),
 * so a rule is written once: here.
 *
 * Metadata used by the SQL derivation:
 * - `role: 'bsn'` — the identifier: canonicalised and replaced by P1/F1, never
 *   a row rule of its own (a bad BSN falls back to F1 where possible);
 * - `rule` — the stable quarantine rule name for a pattern or length failure;
 * - table-level `dateOrder` — [start, end] pairs where end ≥ start;
 * - `earliest` / `latestDaysAfterRun` on a date — its plausible range (rule
 *   `date.range`): no earlier than the ISO date `earliest`, no later than the
 *   day of the run plus that many days.
 * A nullable column may be empty; every other column is required.
 */

export const SEX = ['M', 'F'] as const;
export const HOUSEHOLD_TYPES = ['single', 'single_parent', 'couple', 'couple_with_children', 'other'] as const;
export const BENEFIT_TYPES = ['bijstand', 'ioaw', 'ioaz', 'bbz'] as const;
export const END_REASONS = ['work', 'other_income', 'partner', 'moved', 'detention', 'death', 'other'] as const;
export const ARMS = ['treatment', 'control', 'none'] as const;
export const CONTRACT_TYPES = ['permanent', 'temporary', 'on_call', 'agency', 'self_employed'] as const;

const bsn = z
  .string()
  .nullable()
  .meta({ role: 'bsn', description: 'BSN as delivered; canonicalised, then replaced by P1 (or F1).' });
const date = z.iso.date();

/**
 * Plausible dates (rule `date.range`), so that a typing error (1850 for 1985,
 * 2150 for 2015) or a placeholder is quarantined at its row instead of
 * becoming a person aged 170 or a spell that starts in the next century.
 * - Birth dates: from 1 January 1900 (nobody in the data is older than ~125)
 *   up to the day of the run (nobody is born in the future).
 * - Start dates of benefits, interventions and jobs: from 1 January 1965 —
 *   the Algemene Bijstandswet took effect then, so no bijstand is older, and a
 *   job still running that started before it belongs to a person past pension
 *   age — up to one year after the day of the run (a decision can be
 *   registered ahead of the day it takes effect).
 * - End dates have no range of their own: end ≥ start (`date.order`) bounds
 *   them below, and a far-future end (a planned end at pension age, or a
 *   9999-12-31 "open" marker) counts as open in every metric, so it is kept.
 * "The day of the run" makes the check depend on the date a stage runs; the
 * generator's data (births 1935–2009, events 2008–2024) stays well inside.
 */
export const BIRTH_DATE_EARLIEST = '1900-01-01';
export const BIRTH_DATE_LATEST_DAYS_AFTER_RUN = 0;
export const START_DATE_EARLIEST = '1965-01-01';
export const START_DATE_LATEST_DAYS_AFTER_RUN = 366;
const birthDate = date.meta({ earliest: BIRTH_DATE_EARLIEST, latestDaysAfterRun: BIRTH_DATE_LATEST_DAYS_AFTER_RUN });
const startDate = date.meta({ earliest: START_DATE_EARLIEST, latestDaysAfterRun: START_DATE_LATEST_DAYS_AFTER_RUN });
const postcode = z
  .string()
  .regex(/^[1-9][0-9]{3} ?[A-Za-z]{2}$/)
  .meta({ rule: 'postcode.format', description: 'Dutch PC6, e.g. 3011 AB; used only inside F1 and never output.' });
const houseNumber = z
  .string()
  .regex(/^[1-9][0-9]{0,4}(?:[ -]?[A-Za-z0-9]{1,4})?$/)
  .meta({ rule: 'house_number.format', description: 'House number with optional addition; used only inside F1.' });
const label = (rule: string) => z.string().min(1).max(100).meta({ rule });

export const clientsRow = z
  .object({
    bsn,
    birth_date: birthDate.meta({ description: 'Coarsened to birth_month in the output.' }),
    sex: z.enum(SEX),
    postcode,
    house_number: houseNumber,
    district: label('district.length'),
    household_type: z.enum(HOUSEHOLD_TYPES),
  })
  .meta({ dateOrder: [] });

export const benefitsRow = z
  .object({
    bsn,
    benefit_type: z.enum(BENEFIT_TYPES),
    start_date: startDate,
    end_date: date.nullable(),
    end_reason: z.enum(END_REASONS).nullable(),
  })
  .meta({ dateOrder: [['start_date', 'end_date']] });

export const interventionsRow = z
  .object({
    bsn,
    programme: label('programme.length'),
    arm: z.enum(ARMS),
    ladder_step: z.number().int().min(1).max(6).nullable(),
    start_date: startDate,
    end_date: date.nullable(),
  })
  .meta({ dateOrder: [['start_date', 'end_date']] });

export const personsRow = z
  .object({
    bsn,
    birth_date: birthDate,
    sex: z.enum(SEX),
    municipality_code: z
      .string()
      .regex(/^GM[0-9]{4}$/)
      .meta({ rule: 'municipality_code.format' }),
    postcode,
    house_number: houseNumber,
  })
  .meta({ dateOrder: [] });

export const jobsRow = z
  .object({
    bsn,
    employer_id: label('employer_id.length'),
    start_date: startDate,
    end_date: date.nullable(),
    contract_type: z.enum(CONTRACT_TYPES),
    hours_per_week: z.number().min(0).max(168),
    // A wage of zero is an export error (a job pays something); zero hours is a real on-call contract (nulurencontract).
    hourly_wage: z.number().min(0.01).max(10000),
  })
  .meta({ dateOrder: [['start_date', 'end_date']] });

export const inputRows = {
  clients: clientsRow,
  benefits: benefitsRow,
  interventions: interventionsRow,
  persons: personsRow,
  jobs: jobsRow,
} as const satisfies Record<CanonicalTable, z.ZodObject>;

/** Columns a file must have (after mapping) to be recognised as the table: all non-nullable ones. */
export function requiredColumns(table: CanonicalTable): string[] {
  const shape = inputRows[table].shape as Record<string, z.ZodType>;
  return Object.entries(shape)
    .filter(([name, schema]) => name === 'bsn' || !schema.safeParse(null).success)
    .map(([name]) => name);
}

export function allColumns(table: CanonicalTable): string[] {
  return Object.keys(inputRows[table].shape);
}
