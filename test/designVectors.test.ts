import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { researchPseudonyms, sourcePseudonyms } from '../keys/batchPseudonyms.js';
import { fingerprint } from '../keys/fingerprint.js';
import {
  fallbackMessage,
  fallbackPseudonym,
  type FallbackFields,
  projectKey,
  researchPseudonym,
  sourcePseudonym,
} from '../keys/pseudonyms.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { type CanonicalBsn, parseBsn } from '../schemas/bsn.js';

/**
 * The test vectors of docs/design.md ("Test vectors"), read from the page itself and checked against keys/ (the
 * reference functions and the batch hasher), so that the specification and the code cannot drift apart.
 */
interface Vector {
  readonly quantity: string;
  readonly input: string;
  readonly value: string;
}

const page = readFileSync(projectPath('docs/design.md'), 'utf8');
const section = page.slice(page.indexOf('### Test vectors'), page.indexOf('## Stages and their outputs'));
const unquote = (cell: string) => cell.trim().replaceAll('\\|', '|').replace(/^`|`$/g, '');
const vectors: Vector[] = section
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| quantity') && !line.startsWith('|---'))
  .map((line) => {
    const cells = line
      .slice(2, -2)
      .split(/ \| /)
      .map((c) => c.trim());
    return { quantity: cells[0]!, input: cells[1]!, value: unquote(cells[2]!) };
  });

const keyOf = (name: string) => {
  const v = vectors.find((x) => x.quantity === 'key' && x.input === name);
  if (v === undefined) throw new Error(`docs/design.md gives no ${name}`);
  return Uint8Array.from(Buffer.from(v.value, 'hex'));
};
const codes = (input: string) => [...input.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
const canonical = (raw: string): CanonicalBsn => {
  const parsed = parseBsn(raw);
  if (!parsed.ok) throw new Error(`${raw} is not a valid BSN`);
  return parsed.bsn;
};

describe('the test vectors of docs/design.md', () => {
  const kSrc = keyOf('K_src');
  const kTtp = keyOf('K_ttp');

  it('are on the page: keys, fingerprints, canonical BSNs, P1, F1, K_proj and RIDs', () => {
    expect(new Set(vectors.map((v) => v.quantity))).toEqual(
      new Set([
        'key',
        'key file `key` field',
        'fingerprint',
        'canonical BSN',
        'P1',
        'F1 message',
        'F1',
        'K_proj',
        'RID',
      ]),
    );
    // The synthetic keys are the ones the page describes in words.
    expect(kSrc).toEqual(Uint8Array.from({ length: 32 }, (_, i) => i));
    expect(kTtp).toEqual(Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i));
  });

  it.each(vectors.map((v) => [`${v.quantity} of ${v.input}`, v] as const))('%s', (_name, v) => {
    switch (v.quantity) {
      case 'key':
        expect(v.value).toMatch(/^[0-9a-f]{64}$/);
        break;
      case 'key file `key` field':
        expect(Buffer.from(keyOf(v.input)).toString('base64')).toBe(v.value);
        break;
      case 'fingerprint':
        expect(fingerprint(keyOf(v.input))).toBe(v.value);
        break;
      case 'canonical BSN': {
        const raw = codes(v.input)[0]!;
        const parsed = parseBsn(raw);
        const reasons: Record<string, string> = {
          'none (elfproef)': 'elfproef',
          'none (all zeros)': 'all_zero',
          'none (length)': 'wrong_length',
        };
        expect(parsed.ok ? parsed.bsn : parsed.reason).toBe(reasons[v.value] ?? v.value);
        break;
      }
      case 'P1': {
        const bsn = canonical(codes(v.input)[0]!);
        expect(sourcePseudonym(kSrc, bsn)).toBe(v.value);
        expect(sourcePseudonyms(kSrc, [bsn])).toEqual([v.value]);
        break;
      }
      case 'F1 message':
      case 'F1': {
        const [birthDate, sex, postcode, houseNumber] = codes(v.input) as [string, string, string, string];
        const fields: FallbackFields = { birthDate, sex, postcode, houseNumber };
        expect(v.quantity === 'F1' ? fallbackPseudonym(kSrc, fields) : fallbackMessage(fields)).toBe(v.value);
        break;
      }
      case 'K_proj':
        expect(Buffer.from(projectKey(kTtp, codes(v.input)[0]!)).toString('hex')).toBe(v.value);
        break;
      case 'RID': {
        const [project, bsn] = codes(v.input) as [string, string];
        const p1 = sourcePseudonym(kSrc, canonical(bsn));
        expect(researchPseudonym(projectKey(kTtp, project), p1)).toBe(v.value);
        expect(researchPseudonyms(projectKey(kTtp, project), [p1])).toEqual([v.value]);
        break;
      }
      default:
        throw new Error(`unknown quantity '${v.quantity}' in docs/design.md`);
    }
  });
});
