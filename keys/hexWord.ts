/** ASCII codes of the lowercase hex digits: pseudonyms are written as bytes straight into an output buffer. */
const HEX = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** One 32-bit big-endian word of a SHA-256 state as 8 lowercase hex characters at `offset`. */
export function writeHexWord(word: number, out: Uint8Array, offset: number): void {
  out[offset] = HEX[(word >>> 28) & 15]!;
  out[offset + 1] = HEX[(word >>> 24) & 15]!;
  out[offset + 2] = HEX[(word >>> 20) & 15]!;
  out[offset + 3] = HEX[(word >>> 16) & 15]!;
  out[offset + 4] = HEX[(word >>> 12) & 15]!;
  out[offset + 5] = HEX[(word >>> 8) & 15]!;
  out[offset + 6] = HEX[(word >>> 4) & 15]!;
  out[offset + 7] = HEX[word & 15]!;
}
