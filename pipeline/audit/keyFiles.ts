import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { keyFile, KEY_FORMAT } from '../../schemas/keyFile.js';
import type { KeyRole } from '../../schemas/manifest.js';

/**
 * The key files the privacy officer was handed, read for their role, id,
 * permissions and fingerprint. Unlike the stages, the audit does not refuse a
 * key file with loose permissions: it reports it. The key bytes are used only
 * to recompute the fingerprint (the definition in docs/design.md, "Key hierarchy and pseudonyms", computed here rather
 * than by the stages' code) and are wiped straight after.
 */
export interface AuditedKeyFile {
  /** File name relative to the keys folder. */
  readonly file: string;
  /** Permission bits, e.g. 0o600. */
  readonly mode: number;
  readonly parsed: { readonly role: KeyRole; readonly keyId: string; readonly fingerprint: string } | null;
  /** Why the file is not a usable key file (it claims the key format but does not follow it). */
  readonly problem: string | null;
}

const FINGERPRINT_LABEL = utf8ToBytes('boldlink/fingerprint/v1');

export function fingerprintOf(key: Uint8Array): string {
  return bytesToHex(hmac(sha256, key, FINGERPRINT_LABEL).subarray(0, 8));
}

export async function readKeyFolder(dir: string): Promise<AuditedKeyFile[]> {
  const found: AuditedKeyFile[] = [];
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const path = join(dir, name);
    const info = await stat(path);
    if (!info.isFile()) continue;
    const mode = info.mode & 0o777;
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch {
      continue; // not a key file (a README, a fingerprint list): nothing to audit
    }
    if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== KEY_FORMAT) continue;
    const parsed = keyFile.safeParse(json);
    if (!parsed.success) {
      // Never echo the offending value: it may be key material.
      const field = parsed.error.issues[0]?.path.join('.') ?? '';
      found.push({ file: name, mode, parsed: null, problem: `field '${field}' does not follow ${KEY_FORMAT}` });
      continue;
    }
    const bytes = new Uint8Array(Buffer.from(parsed.data.key, 'base64'));
    const fingerprint = fingerprintOf(bytes);
    bytes.fill(0);
    found.push({
      file: name,
      mode,
      parsed: { role: parsed.data.role, keyId: parsed.data.keyId, fingerprint },
      problem: null,
    });
  }
  return found;
}
