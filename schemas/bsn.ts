/**
 * The BSN (burgerservicenummer) as docs/design.md ("Key hierarchy and pseudonyms") fixes it, an interoperability
 * contract: every organisation must canonicalise identically or pseudonyms
 * will not match.
 *
 * Canonical form: strip spaces, dots and hyphens; an 8-digit value gets one
 * leading 0 back (spreadsheets drop it); then exactly 9 digits, passing the
 * elfproef (9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 mod 11), and not 000000000.
 */

declare const canonicalBsnBrand: unique symbol;
/** A 9-digit, elfproef-valid BSN string. Only `parseBsn` makes one. */
export type CanonicalBsn = string & { readonly [canonicalBsnBrand]: true };

export type BsnParse =
  | { readonly ok: true; readonly bsn: CanonicalBsn; readonly repairedLeadingZero: boolean }
  | { readonly ok: false; readonly reason: BsnRejection };

export type BsnRejection = 'missing' | 'not_digits' | 'wrong_length' | 'all_zero' | 'elfproef';

const SEPARATORS = /[\s.-]/g;

/** True when the 9 ASCII digits of `digits` pass the elfproef. No other checks. */
export function passesElfproef(digits: string): boolean {
  if (digits.length !== 9) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    sum += (9 - i) * d;
  }
  const last = digits.charCodeAt(8) - 48;
  if (last < 0 || last > 9) return false;
  sum -= last;
  return sum % 11 === 0;
}

export function parseBsn(raw: string | null | undefined): BsnParse {
  if (raw === null || raw === undefined) return { ok: false, reason: 'missing' };
  const stripped = raw.replace(SEPARATORS, '');
  if (stripped === '') return { ok: false, reason: 'missing' };
  if (!/^[0-9]+$/.test(stripped)) return { ok: false, reason: 'not_digits' };
  const repairedLeadingZero = stripped.length === 8;
  const digits = repairedLeadingZero ? `0${stripped}` : stripped;
  if (digits.length !== 9) return { ok: false, reason: 'wrong_length' };
  if (digits === '000000000') return { ok: false, reason: 'all_zero' };
  if (!passesElfproef(digits)) return { ok: false, reason: 'elfproef' };
  return { ok: true, bsn: digits as CanonicalBsn, repairedLeadingZero };
}

/** Whether a bare run of digits would be accepted as a BSN (9 digits, or 8 with the lost zero). */
export function looksLikeBsn(digits: string): boolean {
  if (digits.length === 9) return digits !== '000000000' && passesElfproef(digits);
  if (digits.length === 8) return digits !== '00000000' && passesElfproef(`0${digits}`);
  return false;
}
