import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import type { CanonicalBsn } from '../schemas/bsn.js';
import { PrecomputedHmac } from './hmacState.js';

/**
 * The pseudonyms of docs/design.md for many identifiers at once (the same values as
 * `keys/pseudonyms.ts`, computed over a precomputed HMAC state). Stages hash
 * each *distinct* identifier once: DuckDB writes the distinct messages to a
 * file, `hashLineFile` streams it into a `message<TAB>hex16` file, and DuckDB
 * reads that back and joins — no per-value JS strings, memory bounded by the
 * chunk size whatever the number of identifiers.
 */

export const P1_PREFIX = 'bsn:';
export const F1_PREFIX = 'fallback:';
export const RID_PREFIX = 'rid:';

/** P1 for each canonical BSN, in order. */
export function sourcePseudonyms(sourceKey: Uint8Array, bsns: readonly CanonicalBsn[]): string[] {
  return hex16Batch(new PrecomputedHmac(sourceKey, P1_PREFIX), bsns);
}

/** RID = hex16(HMAC-SHA256(K_proj, "rid:" + P1)) for each P1, in order (the link stage). */
export function researchPseudonyms(projectKey: Uint8Array, p1s: readonly string[]): string[] {
  return hex16Batch(new PrecomputedHmac(projectKey, RID_PREFIX), p1s);
}

/** hex16 of prefix ‖ message for each message; the prefix is fixed in `hmac`. */
export function hex16Batch(hmac: PrecomputedHmac, messages: readonly string[]): string[] {
  const out = Buffer.allocUnsafe(32);
  const result = new Array<string>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const bytes = Buffer.from(messages[i]!, 'utf8');
    hmac.hex16Into(bytes, 0, bytes.length, out, 0);
    result[i] = out.toString('latin1');
  }
  return result;
}

const NEWLINE = 0x0a;
const TAB = 0x09;
const CARRIAGE_RETURN = 0x0d;

/**
 * Hash every line of `lines` (UTF-8, '\n'-terminated; a trailing partial line
 * is left alone) and return `line<TAB>hex16\n` for each complete line, with
 * the number of input bytes consumed.
 */
export function hashLines(
  hmac: PrecomputedHmac,
  lines: Uint8Array,
): { output: Buffer; consumed: number; count: number } {
  // Byte loops in JS rather than indexOf per line: a native call per 10-byte line costs more than the scan.
  let count = 0;
  let lastEnd = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === NEWLINE) {
      count++;
      lastEnd = i + 1;
    }
  }
  // Each output line is its input line plus a tab and 32 hex characters.
  const output = Buffer.allocUnsafe(lastEnd + count * 33);
  let o = 0;
  let start = 0;
  while (start < lastEnd) {
    let newline = start;
    while (lines[newline] !== NEWLINE) output[o++] = lines[newline++]!;
    let end = newline;
    if (end > start && lines[end - 1] === CARRIAGE_RETURN) {
      end--;
      o--;
    }
    output[o++] = TAB;
    const lanes = hmac.lanesFor(end - start);
    if (lanes !== null) lanes.add(lines, start, output, o);
    else hmac.hex16Into(lines, start, end, output, o);
    o += 32;
    output[o++] = NEWLINE;
    start = newline + 1;
  }
  hmac.flushLanes(output);
  return { output: output.subarray(0, o), consumed: lastEnd, count };
}

/**
 * Stream `inputFile` (one message per line, without the prefix) into
 * `outputFile` as `message<TAB>hex16(HMAC(key, prefix ‖ message))` lines.
 * Returns the number of lines hashed.
 */
export async function hashLineFile(
  key: Uint8Array,
  prefix: string,
  inputFile: string,
  outputFile: string,
): Promise<number> {
  const hmac = new PrecomputedHmac(key, prefix);
  const input = createReadStream(inputFile, { highWaterMark: 1 << 20 });
  const output = createWriteStream(outputFile, { mode: 0o600 });
  const closed = once(output, 'close');
  let carry: Buffer = Buffer.alloc(0);
  let lines = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      const { output: hashed, consumed, count } = hashLines(hmac, data);
      lines += count;
      carry = Buffer.from(data.subarray(consumed));
      if (!output.write(hashed)) await once(output, 'drain');
    }
    if (carry.length > 0) {
      const { output: hashed } = hashLines(hmac, Buffer.concat([carry, Buffer.from([NEWLINE])]));
      lines += 1;
      output.write(hashed);
    }
  } finally {
    output.end();
    await closed;
  }
  return lines;
}
