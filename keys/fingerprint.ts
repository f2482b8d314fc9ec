import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

const FINGERPRINT_LABEL = utf8ToBytes('boldlink/fingerprint/v1');

/** First 8 bytes of HMAC-SHA256(K, "boldlink/fingerprint/v1"), lowercase hex: what manifests and logs show of a key. */
export function fingerprint(key: Uint8Array): string {
  return bytesToHex(hmac(sha256, key, FINGERPRINT_LABEL).subarray(0, 8));
}
