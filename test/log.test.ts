import fc from 'fast-check';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../pipeline/core/log.js';
import { scrubIdentifiers } from '../pipeline/core/scrubIdentifiers.js';
import { passesElfproef } from '../schemas/bsn.js';

function collectingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ destination, pretty: false, level: 'debug' }), lines };
}

const KEY_BYTES = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');

describe('logging never carries identifiers or key material', () => {
  it('a log call carrying a valid BSN and key bytes prints neither', () => {
    const { logger, lines } = collectingLogger();
    const key = KEY_BYTES.toString('base64');
    logger.info({ bsn: '123456782', key, nested: { bsn: '111222333', p1: 'a'.repeat(32) } }, 'pseudonymizing');
    logger.warn({ file: 'clienten.csv', row: 12 }, 'row 12 has BSN 249566758 which fails nothing');
    logger.error({ detail: `conversion failed for '12345672' using key ${key}` }, 'dirty value in free text');
    const out = lines.join('');
    for (const secret of ['123456782', '111222333', '249566758', '12345672', key, 'a'.repeat(32)])
      expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
    expect(out).toContain('[bsn]');
    expect(out).toContain('clienten.csv');
  });

  it('leaves ordinary numbers, dates and checksums alone', () => {
    const text = `rows 123456789 on 2020-01-31 and 31-01-2020, sha256 ${'ab'.repeat(32)}, fingerprint 0123456789abcdef`;
    // 123456789 fails the elfproef, so it stays.
    expect(scrubIdentifiers(text)).toBe(text);
  });

  it('catches every elfproef-valid BSN however it is written', () => {
    const validBsn = fc
      .array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 })
      .map((d) => {
        const sum = d.reduce((s, x, i) => s + (9 - i) * x, 0);
        return [...d, sum % 11].join('');
      })
      .filter((s) => s.length === 9 && s !== '000000000' && passesElfproef(s));
    fc.assert(
      fc.property(
        validBsn,
        fc.constantFrom('', ' ', '.', '-'),
        fc.constantFrom('', 'BSN ', 'value='),
        (bsn, sep, prefix) => {
          const written = `${bsn.slice(0, 3)}${sep}${bsn.slice(3, 6)}${sep}${bsn.slice(6)}`;
          expect(scrubIdentifiers(`${prefix}${written} end`)).not.toContain(written);
          if (bsn.startsWith('0'))
            expect(scrubIdentifiers(`lost zero ${bsn.slice(1)} end`)).toBe('lost zero [bsn] end');
        },
      ),
    );
  });
});
