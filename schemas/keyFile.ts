import { z } from 'zod';
import { keyRole } from './manifest.js';

/**
 * `{"format":"boldlink-key/v1","role":…,"keyId":…,"created":…,"key":base64 of 32 bytes}`
 * (docs/design.md, "Key hierarchy and pseudonyms").
 */
export const KEY_FORMAT = 'boldlink-key/v1';

export const keyFile = z
  .object({
    format: z.literal(KEY_FORMAT),
    role: keyRole,
    keyId: z.string().min(1).max(200),
    created: z.iso.datetime({ offset: true }),
    key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of exactly 32 bytes'),
  })
  .strict();
export type KeyFileContents = z.infer<typeof keyFile>;
