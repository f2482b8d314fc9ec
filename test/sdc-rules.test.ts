import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../pipeline/core/projectPath.js';
import { countFinding, magnitudeFinding, rateFinding } from '../pipeline/release/sdc/primaryRules.js';
import { roundCount, roundingPreimage } from '../pipeline/release/sdc/rounding.js';
import { rulesSchema, type Rules } from '../schemas/rules.js';

const defaults = async (): Promise<Rules> =>
  rulesSchema.parse(JSON.parse(await readFile(projectPath('examples/rules.json'), 'utf8')));

describe('the rules file', () => {
  it('ships the defaults of docs/design.md: threshold 10, rates 10/10/10, (2, 90%) dominance, p = 10%, no rounding', async () => {
    const rules = await defaults();
    expect(rules.frequency.minPersons).toBe(10);
    expect(rules.rates).toEqual({ minNumerator: 10, minDenominator: 10, minComplement: 10 });
    expect(rules.magnitude.dominance).toEqual({ n: 2, kPercent: 90 });
    expect(rules.magnitude.pPercent).toBe(10);
    expect(rules.rounding).toEqual({ method: 'none' });
  });

  it('refuses unknown keys and impossible values', async () => {
    const rules = await defaults();
    expect(rulesSchema.safeParse({ ...rules, extra: 1 }).success).toBe(false);
    expect(rulesSchema.safeParse({ ...rules, frequency: { minPersons: 0, zerosAreSensitive: false } }).success).toBe(
      false,
    );
    expect(rulesSchema.safeParse({ ...rules, rounding: { method: 'base', base: 1 } }).success).toBe(false);
  });
});

describe('primary rules', () => {
  it('frequency: 9 persons is sensitive, 10 is not, an empty cell is published unless zeros are sensitive', async () => {
    const rules = await defaults();
    expect(countFinding(9, 9, rules)?.rule).toBe('frequency');
    expect(countFinding(25, 9, rules)?.rule).toBe('frequency'); // 25 spells of 9 persons
    expect(countFinding(10, 10, rules)).toBeUndefined();
    expect(countFinding(0, 0, rules)).toBeUndefined();
    expect(countFinding(0, 0, { ...rules, frequency: { minPersons: 10, zerosAreSensitive: true } })?.rule).toBe(
      'frequency.zero',
    );
  });

  it('rates: a share of 0% or 100% reveals the whole group', async () => {
    const rules = await defaults();
    expect(rateFinding(0, 40, rules)?.rule).toBe('rate.numerator');
    expect(rateFinding(40, 40, rules)).toMatchObject({ rule: 'rate.complement', prefer: 'down' });
    expect(rateFinding(12, 15, rules)?.rule).toBe('rate.complement');
    expect(rateFinding(12, 9, rules)?.rule).toBe('rate.denominator');
    expect(rateFinding(15, 40, rules)).toBeUndefined();
  });

  it('magnitude: contributors, (2, 90%) dominance and the p% rule', async () => {
    const rules = await defaults();
    expect(magnitudeFinding(9, 900, 100, 100, rules)?.rule).toBe('magnitude.contributors');
    // Two of twelve earn 95% of the total.
    expect(magnitudeFinding(12, 1000, 600, 350, rules)?.rule).toBe('magnitude.dominance');
    expect(magnitudeFinding(12, 1000, 450, 400, rules)).toBeUndefined();
    // With (2, 90%) dominance the rest is ≥ 10% of the total, so p = 10% only bites when dominance is relaxed:
    // the rest (40) is under 10% of the largest (900), so the second largest could estimate it closely.
    const relaxed = { ...rules, magnitude: { ...rules.magnitude, dominance: { n: 2, kPercent: 100 } } };
    expect(magnitudeFinding(12, 1000, 900, 60, relaxed)?.rule).toBe('magnitude.p-ratio');
    expect(magnitudeFinding(0, 0, 0, 0, rules)).toMatchObject({ rule: 'magnitude.empty', width: 0 });
  });
});

describe('rounding', () => {
  it('base 5, OpenSAFELY redact ≤ 7 then round to 5, and midpoint 6', () => {
    expect(roundCount(12, { method: 'base', base: 5 })).toBe(10);
    expect(roundCount(13, { method: 'base', base: 5 })).toBe(15);
    expect(roundingPreimage(15, { method: 'base', base: 5 })).toEqual([13, 17]);
    expect(roundCount(7, { method: 'redact-round', redactAtMost: 7, base: 5 })).toBeUndefined();
    expect(roundCount(8, { method: 'redact-round', redactAtMost: 7, base: 5 })).toBe(10);
    expect(roundingPreimage(10, { method: 'redact-round', redactAtMost: 7, base: 5 })).toEqual([8, 12]);
    expect(roundingPreimage(0, { method: 'redact-round', redactAtMost: 7, base: 5 })).toEqual([0, 0]);
    expect([0, 1, 6, 7, 12, 13].map((v) => roundCount(v, { method: 'midpoint6' }))).toEqual([0, 3, 3, 9, 9, 15]);
    expect(roundingPreimage(9, { method: 'midpoint6' })).toEqual([7, 12]);
  });
});
