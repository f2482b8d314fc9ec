import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { looksLikeBsn, parseBsn, passesElfproef } from '../schemas/bsn.js';

/** An independent elfproef, written from the definition: Σ wᵢ·dᵢ with weights 9…2, −1 is a multiple of 11. */
function independentElfproef(nineDigits: string): boolean {
  const weights = [9, 8, 7, 6, 5, 4, 3, 2, -1];
  const total = [...nineDigits].map(Number).reduce((sum, digit, i) => sum + digit * weights[i]!, 0);
  return ((total % 11) + 11) % 11 === 0;
}

describe('BSN canonicalisation (docs/design.md, Key hierarchy and pseudonyms)', () => {
  it.each([
    ['123456782', '123456782', false],
    ['111222333', '111222333', false],
    ['249566758', '249566758', false],
    ['012345672', '012345672', false],
    ['12345672', '012345672', true],
  ])('accepts %s as %s (leading zero repaired: %s)', (raw, canonical, repaired) => {
    expect(parseBsn(raw)).toEqual({ ok: true, bsn: canonical, repairedLeadingZero: repaired });
  });

  it.each([
    ['111252333', 'elfproef'],
    ['123456789', 'elfproef'],
    ['1112223334', 'wrong_length'],
    ['000000000', 'all_zero'],
    ['abc', 'not_digits'],
    ['', 'missing'],
  ])('refuses %j (%s)', (raw, reason) => {
    expect(parseBsn(raw)).toEqual({ ok: false, reason });
  });

  it('strips spaces, dots and hyphens as municipal exports write them', () => {
    expect(parseBsn(' 1234.56.782 ')).toMatchObject({ ok: true, bsn: '123456782' });
    expect(parseBsn('1234-56-782')).toMatchObject({ ok: true, bsn: '123456782' });
    expect(parseBsn(null)).toEqual({ ok: false, reason: 'missing' });
  });

  it('the elfproef agrees with an independent implementation on every 9-digit string', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{9}$/), (digits) => {
        expect(passesElfproef(digits)).toBe(independentElfproef(digits));
        const parsed = parseBsn(digits);
        expect(parsed.ok).toBe(digits !== '000000000' && independentElfproef(digits));
      }),
      { numRuns: 5000 },
    );
  });

  it('an 8-digit value is valid exactly when its 0-padded form is, and is marked repaired', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{8}$/), (digits) => {
        const parsed = parseBsn(digits);
        expect(parsed.ok).toBe(digits !== '00000000' && independentElfproef(`0${digits}`));
        if (parsed.ok) expect(parsed).toEqual({ ok: true, bsn: `0${digits}`, repairedLeadingZero: true });
        expect(looksLikeBsn(digits)).toBe(parsed.ok);
      }),
      { numRuns: 2000 },
    );
  });
});
