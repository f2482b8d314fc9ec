import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashLines } from '../keys/batchPseudonyms.js';
import { PrecomputedHmac } from '../keys/hmacState.js';
import { INITIAL_STATE, innerBlockShape } from '../keys/sha256Constants.js';
import { laneHmacModule } from '../keys/sha256Lanes.js';
import { signedLeb, unsignedLeb } from '../keys/wasmEncoding.js';

/**
 * The P1 hasher's fast paths (WebAssembly SIMD lanes, four messages at once)
 * must give exactly node:crypto's HMAC-SHA256 — docs/design.md fixes the algorithm,
 * so every municipality's install has to compute the same pseudonyms.
 */

const nodeHex16 = (key: Uint8Array, prefix: Uint8Array, message: Uint8Array) =>
  createHmac('sha256', key)
    .update(Buffer.concat([prefix, message]))
    .digest('hex')
    .slice(0, 32);
const ascii = (text: string) => new TextEncoder().encode(text);

/** Hash `messages` (all of one length) through a lane hasher, as `hashLines` does, and return the hex of each. */
function throughLanes(key: Uint8Array, prefix: Uint8Array, messages: readonly Uint8Array[]): string[] {
  const lanes = new PrecomputedHmac(key, prefix).newLanes(messages[0]!.length);
  if (lanes === null) throw new Error('WebAssembly SIMD is not available on this Node');
  // All messages side by side in one input buffer, as lines are in a chunk.
  const input = Buffer.concat(messages);
  const out = Buffer.alloc(messages.length * 32);
  messages.forEach((m, i) => lanes.add(input, i * m.length, out, i * 32));
  lanes.flush(out);
  return messages.map((_, i) => out.toString('latin1', i * 32, i * 32 + 32));
}

const bsn = fc.stringMatching(/^[0-9]{9}$/).map(ascii);

describe('the block shape of a P1 message', () => {
  it('"bsn:" + 9 digits leaves three inner words that vary; the rest is prefix, padding and the bit length', () => {
    // "bsn:" = 62 73 6e 3a; the 0x80 marker sits after byte 13, in word 3; (64 + 13) · 8 = 616 bits.
    expect(innerBlockShape(ascii('bsn:'), 9)).toEqual([
      0x62736e3a,
      null,
      null,
      null,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      616,
    ]);
    // "rid:" + a 32-character P1 = 36 bytes: words 1–8 carry it, word 9 holds the marker alone.
    expect(innerBlockShape(ascii('rid:'), 32)).toEqual([
      0x7269643a,
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
      800,
    ]);
    expect(() => innerBlockShape(ascii('fallback:'), 47)).toThrow(RangeError);
  });

  it('the lane module only reads the words that vary', () => {
    expect(laneHmacModule(innerBlockShape(ascii('bsn:'), 9), 8).layout.variableWords).toEqual([1, 2, 3]);
  });

  it('LEB128 as in the WebAssembly spec', () => {
    expect(unsignedLeb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(unsignedLeb(0)).toEqual([0]);
    expect(signedLeb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(signedLeb(63)).toEqual([0x3f]);
    expect(signedLeb(64)).toEqual([0xc0, 0x00]);
    expect(signedLeb(-1)).toEqual([0x7f]);
    expect(signedLeb(INITIAL_STATE[0]!)).toHaveLength(5);
  });
});

describe('P1 through the SIMD lanes equals node:crypto', () => {
  it('a known key and BSN', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
    const expected = createHmac('sha256', key).update('bsn:123456782').digest('hex').slice(0, 32);
    expect(throughLanes(key, ascii('bsn:'), [ascii('123456782')])).toEqual([expected]);
  });

  it('random keys (any length, hashed first when over 64 bytes) and random 9-digit strings, any count', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.array(bsn, { minLength: 1, maxLength: 23 }),
        (key, bsns) => {
          expect(throughLanes(key, ascii('bsn:'), bsns)).toEqual(bsns.map((b) => nodeHex16(key, ascii('bsn:'), b)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('more messages than one call takes (1,024), ending in a partial group of four', () => {
    const key = randomBytes(32);
    const bsns = Array.from({ length: 2_563 }, (_, i) => ascii(String(100_000_000 + i * 350_877).slice(0, 9)));
    const hex = throughLanes(key, ascii('bsn:'), bsns);
    bsns.forEach((b, i) => expect(hex[i]).toBe(nodeHex16(key, ascii('bsn:'), b)));
  });

  it('random prefixes and random-length messages up to one block (55 bytes in all)', () => {
    const prefix = fc.oneof(
      fc.constantFrom('bsn:', 'rid:', 'fallback:', '').map(ascii),
      fc.uint8Array({ maxLength: 12 }),
    );
    const shaped = prefix.chain((p) =>
      fc
        .integer({ min: 1, max: 55 - p.length })
        .chain((length) =>
          fc.tuple(
            fc.constant(p),
            fc.array(fc.uint8Array({ minLength: length, maxLength: length }), { minLength: 1, maxLength: 9 }),
          ),
        ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), shaped, (key, [p, messages]) => {
        expect(throughLanes(key, p, messages)).toEqual(messages.map((m) => nodeHex16(key, p, m)));
      }),
      { numRuns: 60 },
    );
  });

  it('messages queued for an output that was never flushed are dropped, not written into the next one', () => {
    const key = randomBytes(32);
    const lanes = new PrecomputedHmac(key, 'bsn:').newLanes(9)!;
    const abandoned = Buffer.alloc(64);
    lanes.add(ascii('111222333'), 0, abandoned, 0);
    lanes.add(ascii('123456782'), 0, abandoned, 32);
    const out = Buffer.alloc(64, '-');
    lanes.add(ascii('247474704'), 0, out, 32);
    lanes.flush(out);
    expect(out.toString('latin1', 0, 32)).toBe('-'.repeat(32));
    expect(out.toString('latin1', 32)).toBe(nodeHex16(key, ascii('bsn:'), ascii('247474704')));
  });
});

describe('hashLines with lanes and the scalar path mixed', () => {
  it('many BSNs (lanes), odd lengths, CRLF and long fallback messages (scalar), across chunks: every line equals node:crypto', () => {
    const key = randomBytes(32);
    const hmac = new PrecomputedHmac(key, 'bsn:');
    const chunk = (from: number) =>
      Array.from({ length: 5_000 }, (_, i) => {
        const n = from + i;
        if (n % 997 === 0) return `1980-02-01|M|3011AB|${n}a-long-house-number-suffix-that-needs-two-blocks`;
        if (n % 101 === 0) return String(n).slice(0, 8);
        return String(100_000_000 + n * 7919).slice(0, 9) + (n % 13 === 0 ? '\r' : '');
      });
    for (const from of [0, 5_000]) {
      const lines = chunk(from);
      const { output, count } = hashLines(hmac, Buffer.from(`${lines.join('\n')}\n`));
      expect(count).toBe(lines.length);
      const hashed = output.toString('latin1').trimEnd().split('\n');
      lines.forEach((line, i) => {
        const message = line.replace(/\r$/, '');
        expect(hashed[i]).toBe(`${message}\t${nodeHex16(key, ascii('bsn:'), ascii(message))}`);
      });
    }
    // The BSN length crossed the threshold, so the second chunk went through lanes.
    expect(hmac.lanesFor(9)).not.toBeNull();
  });
});
