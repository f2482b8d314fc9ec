import { z } from 'zod';

/**
 * `manifest.json`, written by every stage beside its outputs (docs/design.md,
 * "Stages and their outputs"). A later stage trusts an input directory only
 * when this parses and every listed file matches its checksum.
 */

export const STAGES = ['generate', 'pseudonymize', 'link', 'metrics', 'release', 'protect', 'audit'] as const;
export const stageName = z.enum(STAGES);
export type StageName = z.infer<typeof stageName>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

export const manifestFile = z
  .object({
    /** Path relative to the stage directory, with '/' separators. */
    path: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path inside the stage directory'),
    sha256: sha256Hex,
    bytes: z.number().int().nonnegative(),
    /** The rows of the file as `rowsOfFile` (core/fileRows.ts) counts them; null for a file that is not a table. */
    rows: z.number().int().nonnegative().nullable(),
  })
  .strict();
export type ManifestFile = z.infer<typeof manifestFile>;

export const manifestInput = z
  .object({
    /** As given on the command line, or relative to the input stage directory. */
    path: z.string().min(1),
    sha256: sha256Hex,
    bytes: z.number().int().nonnegative(),
    rows: z.number().int().nonnegative().nullable(),
    /** For a stage directory input: its stage and the sha256 of its manifest. */
    stage: stageName.optional(),
    manifestSha256: sha256Hex.optional(),
  })
  .strict();
export type ManifestInput = z.infer<typeof manifestInput>;

export const keyRole = z.enum(['source', 'ttp']);
export type KeyRole = z.infer<typeof keyRole>;

export const manifestKey = z
  .object({
    role: keyRole,
    keyId: z.string(),
    fingerprint: z.string().regex(/^[0-9a-f]{16}$/, '16 lowercase hex characters'),
    /** How the stage used it: e.g. `pseudonymize`, or `inherited` for a source key an input was made with. */
    use: z.string(),
  })
  .strict();
export type ManifestKey = z.infer<typeof manifestKey>;

/** Row accounting for one scope (an input file or table): rows_in = rows_out + rows_quarantined. */
export const rowAccounting = z
  .object({
    scope: z.string(),
    rowsIn: z.number().int().nonnegative(),
    rowsOut: z.number().int().nonnegative(),
    rowsQuarantined: z.number().int().nonnegative(),
    quarantinedByReason: z.record(z.string(), z.number().int().nonnegative()),
  })
  .strict()
  .refine((a) => a.rowsIn === a.rowsOut + a.rowsQuarantined, { message: 'rowsIn must equal rowsOut + rowsQuarantined' })
  .refine((a) => Object.values(a.quarantinedByReason).reduce((s, n) => s + n, 0) === a.rowsQuarantined, {
    message: 'quarantinedByReason must add up to rowsQuarantined',
  });
export type RowAccounting = z.infer<typeof rowAccounting>;

export const definitionVersion = z.object({ name: z.string(), version: z.string() }).strict();

export const MANIFEST_FORMAT = 'boldlink-manifest/v1';

export const manifest = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    stage: stageName,
    toolVersion: z.string(),
    parameters: z.record(z.string(), z.unknown()),
    definitions: z.array(definitionVersion),
    inputs: z.array(manifestInput),
    outputs: z.array(manifestFile),
    keys: z.array(manifestKey),
    accounting: z.array(rowAccounting),
    /** Free-form, non-identifying facts a later stage or the audit needs (e.g. linkage counts). */
    summary: z.record(z.string(), z.unknown()),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
  })
  .strict();
export type Manifest = z.infer<typeof manifest>;
