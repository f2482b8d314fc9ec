import { z } from 'zod';

/**
 * A column-mapping file: how one source's export maps onto the canonical
 * tables of docs/design.md ("Input tables"). Files with canonical headers need none.
 *
 * A file is recognised as a table when its header row, after mapping, holds
 * that table's required columns. Code lists (`values`) translate a source's
 * codes (e.g. sex `V` → `F`, benefit type `Bijstand` → `bijstand`).
 */
export const MAPPING_FORMAT = 'boldlink-mapping/v1';

export const csvDialect = z
  .object({
    delimiter: z.string().length(1).default(';'),
    /** 'windows-1252' or 'utf-8'; a UTF-8 byte-order mark is always accepted. */
    encoding: z.enum(['windows-1252', 'utf-8']).default('utf-8'),
    /** How dates are written in the export. */
    dateFormat: z.enum(['DD-MM-YYYY', 'YYYY-MM-DD', 'DD/MM/YYYY']).default('DD-MM-YYYY'),
    /** Decimal comma (1.234,56) as Dutch exports use. */
    decimalComma: z.boolean().default(true),
    quote: z.string().length(1).default('"'),
  })
  .strict();
export type CsvDialect = z.infer<typeof csvDialect>;

export const CANONICAL_TABLES = ['clients', 'benefits', 'interventions', 'persons', 'jobs'] as const;
export const canonicalTable = z.enum(CANONICAL_TABLES);
export type CanonicalTable = z.infer<typeof canonicalTable>;

export const tableMapping = z
  .object({
    /** Source header → canonical column name. */
    columns: z.record(z.string(), z.string()),
    /** Canonical column → (source code → canonical code). */
    values: z.record(z.string(), z.record(z.string(), z.string())).default({}),
  })
  .strict()
  .superRefine((mapping, ctx) => {
    const seen = new Map<string, string>();
    for (const [header, canonical] of Object.entries(mapping.columns)) {
      const earlier = seen.get(canonical);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['columns', header],
          message: `maps to '${canonical}', which '${earlier}' already maps to`,
        });
      }
      seen.set(canonical, header);
    }
  });
export type TableMapping = z.infer<typeof tableMapping>;

export const mappingFile = z
  .object({
    format: z.literal(MAPPING_FORMAT),
    description: z.string().optional(),
    csv: csvDialect.default(csvDialect.parse({})),
    tables: z.partialRecord(canonicalTable, tableMapping),
  })
  .strict();
export type MappingFile = z.infer<typeof mappingFile>;
