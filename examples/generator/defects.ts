import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DataError, UsageError } from '../../pipeline/core/errors.js';

/**
 * Dirty data as sources really deliver it. Every rate is a probability per
 * *eligible* row (a lost leading zero needs a BSN that starts with one 0; an
 * end date before the start needs an end date; …), so a test can check the
 * injected share against the configuration. Row-level kinds are mutually
 * exclusive; insertions (duplicates, overlapping periods, empty lines) are
 * drawn independently, and only after rows without a row-level defect.
 */
export const ROW_DEFECTS = [
  'lost_leading_zero',
  'bsn_spaces',
  'bsn_dots',
  'wrong_elfproef',
  'missing_bsn',
  'end_before_start',
  'unparsable_date',
  'unknown_code',
  'stray_quote',
] as const;
export const INSERTED_DEFECTS = ['duplicate_row', 'overlapping_period', 'empty_line'] as const;
export const FILE_DEFECTS = ['byte_order_mark'] as const;
export type DefectKind =
  | (typeof ROW_DEFECTS)[number]
  | (typeof INSERTED_DEFECTS)[number]
  | (typeof FILE_DEFECTS)[number];

/** Defects the pseudonymize stage repairs: the record still links under its true BSN. */
export const REPAIRABLE_DEFECTS: readonly DefectKind[] = [
  'lost_leading_zero',
  'bsn_spaces',
  'bsn_dots',
  'byte_order_mark',
];
/** Defects that lose the record for linkage or quarantine it (the truth flags the spells they touch). */
export const LOSSY_DEFECTS: readonly DefectKind[] = [
  'wrong_elfproef',
  'end_before_start',
  'unparsable_date',
  'unknown_code',
  'stray_quote',
];

const rate = z.number().min(0).max(1);

export const defectRates = z
  .object({
    lost_leading_zero: rate,
    bsn_spaces: rate,
    bsn_dots: rate,
    wrong_elfproef: rate,
    missing_bsn: rate,
    end_before_start: rate,
    unparsable_date: rate,
    unknown_code: rate,
    stray_quote: rate,
    duplicate_row: rate,
    overlapping_period: rate,
    empty_line: rate,
    /** Per municipal file: delivered as UTF-8 with a byte-order mark (Excel's "CSV UTF-8") instead of Windows-1252. */
    byte_order_mark: rate,
  })
  .strict()
  .refine((r) => ROW_DEFECTS.reduce((sum, kind) => sum + r[kind], 0) <= 1, {
    message:
      'the row-level defect rates (all but duplicate_row, overlapping_period, empty_line, byte_order_mark) must sum to at most 1',
  });
export type DefectRates = z.infer<typeof defectRates>;

export const NO_DEFECTS: DefectRates = {
  lost_leading_zero: 0,
  bsn_spaces: 0,
  bsn_dots: 0,
  wrong_elfproef: 0,
  missing_bsn: 0,
  end_before_start: 0,
  unparsable_date: 0,
  unknown_code: 0,
  stray_quote: 0,
  duplicate_row: 0,
  overlapping_period: 0,
  empty_line: 0,
  byte_order_mark: 0,
};

/** Rates seen in municipal exports: most BSNs clean, a few percent of everything else. */
export const DEFAULT_DEFECTS: DefectRates = {
  lost_leading_zero: 0.3,
  bsn_spaces: 0.01,
  bsn_dots: 0.01,
  wrong_elfproef: 0.005,
  missing_bsn: 0.01,
  end_before_start: 0.003,
  unparsable_date: 0.003,
  unknown_code: 0.003,
  stray_quote: 0.002,
  duplicate_row: 0.005,
  overlapping_period: 0.005,
  empty_line: 0.001,
  byte_order_mark: 0.25,
};

const defectsFile = z
  .object({ format: z.literal('boldlink-defects/v1').optional(), rates: z.record(z.string(), z.unknown()) })
  .strict();

/** `--defects none|default|FILE`; a file is `{"rates": {...}}`, missing kinds default to 0. */
export async function loadDefects(option: string): Promise<{ name: string; rates: DefectRates }> {
  if (option === 'none') return { name: 'none', rates: NO_DEFECTS };
  if (option === 'default') return { name: 'default', rates: DEFAULT_DEFECTS };
  let text: string;
  try {
    text = await readFile(option, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--defects must be 'none', 'default' or a readable JSON file; cannot read ${option} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw DataError.single('DEFECTS_INVALID', { file: option, rule: 'json.syntax', message: 'is not valid JSON' });
  }
  const outer = defectsFile.safeParse(json);
  if (!outer.success) throw invalidDefects(option, outer.error);
  const rates = defectRates.safeParse({ ...NO_DEFECTS, ...outer.data.rates });
  if (!rates.success) throw invalidDefects(option, rates.error);
  return { name: option, rates: rates.data };
}

function invalidDefects(file: string, error: z.ZodError): DataError {
  const issue = error.issues[0];
  const where = issue === undefined ? '' : issue.path.join('.');
  return DataError.single('DEFECTS_INVALID', {
    file,
    column: where === '' ? 'rates' : where,
    rule: 'defects.schema',
    message: issue?.message ?? 'invalid defects file',
  });
}
