import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { CanonicalBsn } from '../schemas/bsn.js';

/**
 * The pseudonyms of docs/design.md, "Key hierarchy and pseudonyms" — an
 * interoperability contract, computed one value at a time. Bulk work uses the
 * batch hasher (same results, precomputed HMAC states); these are the
 * reference the batch hasher is tested against.
 */

/** hex of the first 16 bytes of HMAC-SHA256(key, message). */
export function hex16(key: Uint8Array, message: string): string {
  return bytesToHex(hmac(sha256, key, utf8ToBytes(message)).subarray(0, 16));
}

/** P1 = hex16(HMAC-SHA256(K_src, "bsn:" + canonical BSN)). */
export function sourcePseudonym(sourceKey: Uint8Array, bsn: CanonicalBsn): string {
  return hex16(sourceKey, `bsn:${bsn}`);
}

export interface FallbackFields {
  /** YYYY-MM-DD */
  readonly birthDate: string;
  readonly sex: string;
  /** Six-character postcode; upper-cased, spaces removed here. */
  readonly postcode: string;
  readonly houseNumber: string;
}

/** The message hashed into F1: "fallback:" + YYYY-MM-DD + "|" + sex + "|" + PC6 + "|" + house number. */
export function fallbackMessage(fields: FallbackFields): string {
  const pc6 = fields.postcode.replace(/\s+/g, '').toUpperCase();
  return `fallback:${fields.birthDate}|${fields.sex}|${pc6}|${fields.houseNumber}`;
}

/** F1, for records without a valid BSN. */
export function fallbackPseudonym(sourceKey: Uint8Array, fields: FallbackFields): string {
  return hex16(sourceKey, fallbackMessage(fields));
}

/** K_proj = HKDF-SHA256(ikm = K_ttp, salt = empty, info = "boldlink/project/" + projectId, L = 32). */
export function projectKey(ttpKey: Uint8Array, projectId: string): Uint8Array {
  return hkdf(sha256, ttpKey, new Uint8Array(0), utf8ToBytes(`boldlink/project/${projectId}`), 32);
}

/** RID = hex16(HMAC-SHA256(K_proj, "rid:" + P1)). */
export function researchPseudonym(projKey: Uint8Array, p1: string): string {
  return hex16(projKey, `rid:${p1}`);
}
