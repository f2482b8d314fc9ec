import { z } from 'zod';

/**
 * The tokens file of `boldlink serve` (`boldlink tokens add`): one entry per
 * researcher with the SHA-256 of their token. The token itself is printed once
 * and never stored: it is 32 random bytes, so a plain SHA-256 cannot be
 * reversed by guessing, and a stolen tokens file grants nothing.
 */
export const TOKENS_FORMAT = 'boldlink-tokens/v1';

/** `bl_` + base64url of 32 random bytes. */
export const TOKEN_PATTERN = /^bl_[A-Za-z0-9_-]{43}$/;

export const researcherName = z
  .string()
  .min(1, 'a researcher name is required')
  .max(100)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} .@'_-]*$/u, "letters, digits, spaces and . @ ' _ - only");

export const tokenEntry = z
  .object({
    name: researcherName,
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256'),
    created: z.iso.datetime({ offset: true }),
  })
  .strict();
export type TokenEntry = z.infer<typeof tokenEntry>;

export const tokensFile = z
  .object({
    format: z.literal(TOKENS_FORMAT),
    tokens: z.array(tokenEntry),
  })
  .strict();
export type TokensFile = z.infer<typeof tokensFile>;
