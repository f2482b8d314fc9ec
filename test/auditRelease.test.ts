import { describe, expect, it } from 'vitest';
import { attackerIntervals, type CellBounds, type Equation } from '../pipeline/audit/attackerLp.js';
import { rulesFrom } from '../pipeline/audit/disclosureRules.js';
import { dimsKey, primaryRuleFindings } from '../pipeline/audit/primaryRules.js';
import type { ReleasedRow, ReleasedTable } from '../pipeline/audit/releasedTables.js';

/**
 * The release re-check's two halves on hand-made tables: the attacker's
 * linear programmes (intervals worked out by hand) and the primary rules.
 */

const published = (v: number): CellBounds => ({ lower: v, upper: v });
const suppressed: CellBounds = { lower: 0, upper: Infinity };
const sum = (origin: string, inner: string[], total: string): Equation => ({ origin, terms: [...inner.map((key) => ({ key, coefficient: 1 })), { key: total, coefficient: -1 }] });

describe("the attacker's linear programmes", () => {
  it('gives a suppressed pair in a published row the whole row total as interval', async () => {
    // a + b = 30, both suppressed: each lies anywhere in [0, 30].
    const bounds = new Map([['a', suppressed], ['b', suppressed], ['t', published(30)]]);
    const outcome = await attackerIntervals(bounds, [sum('row', ['a', 'b'], 't')], ['a', 'b']);
    expect(outcome.intervals.get('a')).toEqual({ min: 0, max: 30 });
    expect(outcome.intervals.get('b')).toEqual({ min: 0, max: 30 });
    expect(outcome.inconsistent).toEqual([]);
  });

  it('recomputes a lone suppressed cell exactly from its published margin', async () => {
    // a + 25 = 30 → a = 5.
    const bounds = new Map([['a', suppressed], ['b', published(25)], ['t', published(30)]]);
    const outcome = await attackerIntervals(bounds, [sum('row', ['a', 'b'], 't')], ['a']);
    expect(outcome.intervals.get('a')).toEqual({ min: 5, max: 5 });
  });

  it('bounds a 2×2 block of suppressed cells by the smaller margins (width 16)', async () => {
    // Rows 29 and 42, columns 55 and 16: x12 = t ∈ [0, 16], x11 = 29 − t, x21 = 26 + t, x22 = 16 − t.
    const bounds = new Map<string, CellBounds>([
      ['x11', suppressed], ['x12', suppressed], ['x21', suppressed], ['x22', suppressed],
      ['r1', published(29)], ['r2', published(42)], ['c1', published(55)], ['c2', published(16)], ['g', published(71)],
    ]);
    const equations = [
      sum('row 1', ['x11', 'x12'], 'r1'), sum('row 2', ['x21', 'x22'], 'r2'),
      sum('column 1', ['x11', 'x21'], 'c1'), sum('column 2', ['x12', 'x22'], 'c2'),
      sum('rows', ['r1', 'r2'], 'g'), sum('columns', ['c1', 'c2'], 'g'),
    ];
    const outcome = await attackerIntervals(bounds, equations, ['x11', 'x12', 'x21', 'x22']);
    expect(outcome.intervals.get('x11')).toEqual({ min: 13, max: 29 });
    expect(outcome.intervals.get('x12')).toEqual({ min: 0, max: 16 });
    expect(outcome.intervals.get('x21')).toEqual({ min: 26, max: 42 });
    expect(outcome.intervals.get('x22')).toEqual({ min: 0, max: 16 });
    expect(outcome.programmesSolved).toBe(8);
  });

  it('skips the programmes of a cell already seen to move by the protection level', async () => {
    // Same 2×2 block: every cell moves by 16, so once a few solutions are known the rest need no programmes.
    const bounds = new Map<string, CellBounds>([
      ['x11', suppressed], ['x12', suppressed], ['x21', suppressed], ['x22', suppressed],
      ['r1', published(29)], ['r2', published(42)], ['c1', published(55)], ['c2', published(16)],
    ]);
    const equations = [sum('row 1', ['x11', 'x12'], 'r1'), sum('row 2', ['x21', 'x22'], 'r2'), sum('column 1', ['x11', 'x21'], 'c1'), sum('column 2', ['x12', 'x22'], 'c2')];
    const outcome = await attackerIntervals(bounds, equations, ['x11', 'x12', 'x21', 'x22'], 10);
    // Exact intervals need 8 (a minimum and a maximum per cell); here the two probes and one maximum settle all four.
    expect(outcome.programmesSolved).toBeLessThanOrEqual(3);
    for (const key of ['x11', 'x12', 'x21', 'x22']) {
      const interval = outcome.intervals.get(key);
      expect((interval?.max ?? 0) - (interval?.min ?? 0)).toBeGreaterThanOrEqual(10);
    }
  });

  it('proves cells unbounded by one direction, yet still bounds a narrow cell of the same system exactly', async () => {
    // x + y = t with t suppressed too: x and t can grow without limit. y + z = 12 published: y and z lie in [0, 12],
    // narrower than a protection level of 15, so they need their exact intervals.
    const bounds = new Map([['x', suppressed], ['y', suppressed], ['z', suppressed], ['t', suppressed], ['s', published(12)]]);
    const equations = [sum('row', ['x', 'y'], 't'), sum('column', ['y', 'z'], 's')];
    const outcome = await attackerIntervals(bounds, equations, ['x', 'y', 'z', 't'], 15);
    expect(outcome.intervals.get('y')).toEqual({ min: 0, max: 12 });
    expect(outcome.intervals.get('z')).toEqual({ min: 0, max: 12 });
    expect(outcome.intervals.get('x')?.max).toBe(Infinity);
    expect(outcome.intervals.get('t')?.max).toBe(Infinity);
    // Without a protection level to settle for, every interval is exact: x and t both from 0 (x = y = 0) upwards.
    const exact = await attackerIntervals(bounds, equations, ['x', 'y', 'z', 't']);
    for (const key of ['x', 't']) {
      expect(exact.intervals.get(key)?.min).toBeCloseTo(0, 9);
      expect(exact.intervals.get(key)?.max).toBe(Infinity);
    }
    expect(exact.intervals.get('y')).toEqual({ min: 0, max: 12 });
  });

  it('reports published values that do not add up to their margin', async () => {
    const bounds = new Map([['a', published(10)], ['b', published(25)], ['t', published(30)]]);
    const outcome = await attackerIntervals(bounds, [sum('outflow: spells over municipality', ['a', 'b'], 't')], []);
    expect(outcome.inconsistent.map((i) => i.origin)).toEqual(['outflow: spells over municipality']);
  });

  it('reports a system with no solution at all (a margin smaller than its published parts)', async () => {
    // a + b = 30 with b = 40 published elsewhere in the system: a would be −10.
    const bounds = new Map([['a', suppressed], ['c', suppressed], ['b', published(40)], ['t', published(30)], ['u', published(5)]]);
    const outcome = await attackerIntervals(bounds, [sum('row', ['a', 'b'], 't'), sum('other', ['a', 'c'], 'u')], ['a']);
    expect(outcome.intervals.has('a')).toBe(false);
    expect(outcome.inconsistent).toHaveLength(1);
  });
});

const rules = rulesFrom({}, 'defaults');

function table(rows: ReleasedRow[], description: ReleasedTable['description'], measures: ReleasedTable['measures']): ReleasedTable {
  return { name: 't', file: 'release/tables/t.parquet', formats: [], dimensions: ['municipality'], measures, unmarked: [], rows, description };
}

const row = (municipality: string, values: Record<string, number | null>, status: Record<string, string>): ReleasedRow => ({ dims: { municipality }, values, statuses: status });

describe('the primary rules, recomputed from released values', () => {
  it('takes DESIGN.md defaults and reads a rules document by name', () => {
    expect(rules).toMatchObject({ minFrequency: 10, rateNumerator: 10, rateDenominator: 10, rateComplement: 10, minContributors: 10, dominanceN: 2, dominanceK: 0.9, pPercent: 0.1, protectionLevel: 10, zerosAreSensitive: false });
    const rulesFile = {
      format: 'boldlink-rules/v1',
      frequency: { minPersons: 15, zerosAreSensitive: true },
      rates: { minNumerator: 12, minDenominator: 20, minComplement: 11 },
      magnitude: { minContributors: 5, dominance: { n: 2, kPercent: 85 }, pPercent: 15 },
    };
    expect(rulesFrom(rulesFile, 'file')).toMatchObject({ minFrequency: 15, zerosAreSensitive: true, rateNumerator: 12, rateDenominator: 20, rateComplement: 11, minContributors: 5, dominanceK: 0.85, pPercent: 0.15, protectionLevel: 15 });
    // Rounded values: to base 5 the truth lies within ±2; a midpoint-6 value of 9 stands for 7–12.
    expect(rulesFrom({ rounding: { method: 'base', base: 5 } }, 'file')).toMatchObject({ roundingBelow: 2, roundingAbove: 2 });
    expect(rulesFrom({ rounding: { method: 'midpoint6' } }, 'file')).toMatchObject({ roundingBelow: 2, roundingAbove: 3 });
  });

  it('flags a published count of 1 to 9, not 0 and not 10', () => {
    const t = table(
      [row('a', { spells: 4 }, { spells: 'published' }), row('b', { spells: 0 }, { spells: 'published' }), row('c', { spells: 10 }, { spells: 'published' }), row('d', { spells: null }, { spells: 'suppressed' })],
      undefined,
      [{ column: 'spells', additive: true }],
    );
    const found = primaryRuleFindings(t, rules, undefined);
    expect(found.map((f) => [f.rule, f.cell?.['municipality']])).toEqual([['release.primary-frequency', 'a']]);
    expect(found[0]?.message).not.toContain('4');
  });

  it('flags a count of 12 spells that rests on fewer than 10 persons (metrics internals)', () => {
    const t = table([row('a', { spells: 12 }, { spells: 'published' })], undefined, [{ column: 'spells', additive: true }]);
    const internals = new Map([[dimsKey({ municipality: 'a' }), { persons: 7 }]]);
    expect(primaryRuleFindings(t, rules, internals).map((f) => f.rule)).toEqual(['release.primary-frequency']);
  });

  it('checks numerator and complement of a rate: 5 of 50 and 45 of 50 fail, 20 of 50 passes', () => {
    const description = { name: 't', measures: [{ column: 'spells', kind: 'count' }, { column: 'to_work', kind: 'count', rate: { denominator: 'spells' } }] };
    const measures = [{ column: 'spells', additive: true }, { column: 'to_work', additive: true }];
    const both = { spells: 'published', to_work: 'published' };
    const t = table([row('low', { spells: 50, to_work: 5 }, both), row('high', { spells: 50, to_work: 45 }, both), row('fine', { spells: 50, to_work: 20 }, both)], description, measures);
    const found = primaryRuleFindings(t, rules, undefined).filter((f) => f.rule.startsWith('release.rate'));
    expect(found.map((f) => [f.rule, f.cell?.['municipality']])).toEqual([
      ['release.rate-numerator', 'low'],
      ['release.rate-complement', 'high'],
    ]);
  });

  it('checks a published mean against (n,k) dominance and the p% rule', () => {
    const description = { name: 't', measures: [{ column: 'mean_wage', kind: 'mean', contributors: 'wage_n', sum: 'wage_sum', top1: 'wage_top1', top2: 'wage_top2' }] };
    const t = table([row('dominated', { mean_wage: 20 }, { mean_wage: 'published' }), row('spread', { mean_wage: 20 }, { mean_wage: 'published' })], description, [{ column: 'mean_wage', additive: false }]);
    const internals = new Map([
      // Two contributors hold 190 of 200 (95% ≥ 90%), and the other 10 are less than 10% of the largest.
      [dimsKey({ municipality: 'dominated' }), { wage_n: 10, wage_sum: 200, wage_top1: 150, wage_top2: 40 }],
      [dimsKey({ municipality: 'spread' }), { wage_n: 10, wage_sum: 200, wage_top1: 25, wage_top2: 24 }],
    ]);
    const found = primaryRuleFindings(t, rules, internals);
    expect(found.map((f) => [f.rule, f.cell?.['municipality']])).toEqual([
      ['release.dominance', 'dominated'],
      ['release.p-percent', 'dominated'],
    ]);
  });
});
