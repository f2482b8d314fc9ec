import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashLineFile, hashLines, researchPseudonyms, sourcePseudonyms } from '../keys/batchPseudonyms.js';
import { PrecomputedHmac } from '../keys/hmacState.js';
import { fallbackMessage, fallbackPseudonym, researchPseudonym, sourcePseudonym } from '../keys/pseudonyms.js';
import type { CanonicalBsn } from '../schemas/bsn.js';

const nodeHex16 = (key: Uint8Array, message: string | Uint8Array) =>
  createHmac('sha256', key).update(message).digest('hex').slice(0, 32);
const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const bsnLike = fc.stringMatching(/^[0-9]{9}$/) as fc.Arbitrary<CanonicalBsn>;

describe('batch pseudonyms over precomputed HMAC states', () => {
  it('P1 of a known key and BSN equals node:crypto', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
    const expected = createHmac('sha256', key).update('bsn:123456782').digest('hex').slice(0, 32);
    expect(sourcePseudonyms(key, ['123456782' as CanonicalBsn])).toEqual([expected]);
    expect(sourcePseudonym(key, '123456782' as CanonicalBsn)).toBe(expected);
  });

  it('P1 batches equal keys/pseudonyms.ts and node:crypto for random keys and BSNs', () => {
    fc.assert(
      fc.property(key32, fc.array(bsnLike, { maxLength: 20 }), (key, bsns) => {
        const batch = sourcePseudonyms(key, bsns);
        expect(batch).toEqual(bsns.map((b) => sourcePseudonym(key, b)));
        expect(batch).toEqual(bsns.map((b) => nodeHex16(key, `bsn:${b}`)));
      }),
      { numRuns: 200 },
    );
  });

  it('RID batches equal the reference for random project keys and P1s', () => {
    fc.assert(
      fc.property(key32, fc.array(fc.stringMatching(/^[0-9a-f]{32}$/), { maxLength: 10 }), (key, p1s) => {
        expect(researchPseudonyms(key, p1s)).toEqual(p1s.map((p) => researchPseudonym(key, p)));
      }),
      { numRuns: 100 },
    );
  });

  it('any message of any length (one block, the 55/56-byte edge, several blocks, UTF-8) matches node:crypto', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.string({ maxLength: 8 }),
        fc.string({ unit: 'grapheme', maxLength: 150 }),
        (key, prefix, message) => {
          const hmac = new PrecomputedHmac(key, prefix);
          expect(hmac.hex16(message)).toBe(nodeHex16(key, prefix + message));
        },
      ),
      { numRuns: 300 },
    );
    const key = randomBytes(32);
    const hmac = new PrecomputedHmac(key, 'fallback:');
    for (let length = 40; length <= 140; length++) {
      const message = 'x'.repeat(length);
      expect(hmac.hex16(message)).toBe(nodeHex16(key, `fallback:${message}`));
    }
  });

  it('F1 from the batch hasher equals fallbackPseudonym', () => {
    const key = randomBytes(32);
    const fields = { birthDate: '1980-02-01', sex: 'M', postcode: '3011 ab', houseNumber: '12a' };
    const message = fallbackMessage(fields);
    expect(message).toBe('fallback:1980-02-01|M|3011AB|12a');
    expect(new PrecomputedHmac(key, 'fallback:').hex16(message.slice('fallback:'.length))).toBe(
      fallbackPseudonym(key, fields),
    );
  });

  it('hashLines keeps a partial last line for the next chunk and strips CR', () => {
    const key = randomBytes(32);
    const hmac = new PrecomputedHmac(key, 'bsn:');
    const { output, consumed, count } = hashLines(hmac, Buffer.from('123456782\r\n111222333\n24956'));
    expect(count).toBe(2);
    expect(consumed).toBe('123456782\r\n111222333\n'.length);
    expect(output.toString()).toBe(
      `123456782\t${nodeHex16(key, 'bsn:123456782')}\n111222333\t${nodeHex16(key, 'bsn:111222333')}\n`,
    );
  });
});

describe('hashLineFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'boldlink-hash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams a file larger than one read chunk into message<TAB>hex16 lines', async () => {
    const key = randomBytes(32);
    const messages = Array.from({ length: 120_000 }, (_, i) => String(100_000_000 + i * 13));
    const input = join(dir, 'in.txt');
    const output = join(dir, 'out.tsv');
    await writeFile(input, `${messages.join('\n')}\n`);
    expect(await hashLineFile(key, 'bsn:', input, output)).toBe(messages.length);
    const lines = (await readFile(output, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(messages.length);
    for (const i of [0, 1, 65_535, 99_999, messages.length - 1]) {
      expect(lines[i]).toBe(`${messages[i]}\t${nodeHex16(key, `bsn:${messages[i]}`)}`);
    }
  });

  it('hashes a last line without a newline, and an empty file to nothing', async () => {
    const key = randomBytes(32);
    await writeFile(join(dir, 'a.txt'), '123456782');
    expect(await hashLineFile(key, 'bsn:', join(dir, 'a.txt'), join(dir, 'a.tsv'))).toBe(1);
    expect(await readFile(join(dir, 'a.tsv'), 'utf8')).toBe(`123456782\t${nodeHex16(key, 'bsn:123456782')}\n`);
    await writeFile(join(dir, 'e.txt'), '');
    expect(await hashLineFile(key, 'bsn:', join(dir, 'e.txt'), join(dir, 'e.tsv'))).toBe(0);
    expect(await readFile(join(dir, 'e.tsv'), 'utf8')).toBe('');
  });
});
