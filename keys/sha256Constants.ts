/** FIPS 180-4 SHA-256 constants, shared by the scalar (JS) and the lane (WebAssembly) compressions. */

/** The 64 round constants K0..K63, as int32. */
export const ROUND_CONSTANTS = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** H0..H7. */
export const INITIAL_STATE = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n)) | 0;

/** Message-schedule σ0 of a known word (folded at code-generation time). */
export const smallSigma0 = (x: number): number => (rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3)) | 0;

/** Message-schedule σ1 of a known word. */
export const smallSigma1 = (x: number): number => (rotr(x, 17) ^ rotr(x, 19) ^ (x >>> 10)) | 0;

/**
 * The 16 words of the one block that holds `prefix ‖ message ‖ 0x80 ‖ zeros ‖
 * bit length` after a 64-byte key block (the inner hash of an HMAC), for a
 * message of `messageLength` bytes with prefix + message ≤ 55 bytes. A word is
 * a number when it is the same for every message of that length, else null
 * (it carries message bytes, whatever else it carries).
 */
export function innerBlockShape(prefix: Uint8Array, messageLength: number): (number | null)[] {
  const total = prefix.length + messageLength;
  if (total > 55) throw new RangeError(`a one-block HMAC message holds at most 55 bytes, not ${total}`);
  return Array.from({ length: 16 }, (_, word) => {
    if (word === 15) return (64 + total) * 8;
    let constant = 0;
    for (let byte = word * 4; byte < word * 4 + 4; byte++) {
      if (byte >= prefix.length && byte < total) return null;
      const value = byte < prefix.length ? prefix[byte]! : byte === total ? 0x80 : 0;
      constant |= value << (24 - (byte & 3) * 8);
    }
    return constant | 0;
  });
}

/** The outer HMAC block: the 32-byte inner digest (8 words that vary), 0x80, zeros, bit length of 64 + 32 bytes. */
export const OUTER_BLOCK_SHAPE: readonly (number | null)[] = [
  null,
  null,
  null,
  null,
  null,
  null,
  null,
  null,
  0x80000000 | 0,
  0,
  0,
  0,
  0,
  0,
  0,
  768,
];
