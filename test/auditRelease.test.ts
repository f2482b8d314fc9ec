import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attackerIntervals, type CellBounds, type Equation } from '../pipeline/audit/attackerLp.js';
import { attackerSystem } from '../pipeline/audit/attackerSystem.js';
import { roundedInterval, rulesFrom } from '../pipeline/audit/disclosureRules.js';
import { dimsKey, primaryRuleFindings } from '../pipeline/audit/primaryRules.js';
import type { ReleasedRow, ReleasedTable } from '../pipeline/audit/releasedTables.js';

/**
 * The release re-check's two halves on hand-made tables: the attacker's
 * linear programmes (intervals worked out by hand) and the primary rules.
 */

const published = (v: number): CellBounds => ({ lower: v, upper: v });
const suppressed: CellBounds = { lower: 0, upper: Infinity };
const sum = (origin: string, inner: string[], total: string): Equation => ({
  origin,
  terms: [...inner.map((key) => ({ key, coefficient: 1 })), { key: total, coefficient: -1 }],
});

describe("the attacker's linear programmes", () => {
  it('gives a suppressed pair in a published row the whole row total as interval', async () => {
    // a + b = 30, both suppressed: each lies anywhere in [0, 30].
    const bounds = new Map([
      ['a', suppressed],
      ['b', suppressed],
      ['t', published(30)],
    ]);
    const outcome = await attackerIntervals(bounds, [sum('row', ['a', 'b'], 't')], ['a', 'b']);
    expect(outcome.intervals.get('a')).toEqual({ min: 0, max: 30 });
    expect(outcome.intervals.get('b')).toEqual({ min: 0, max: 30 });
    expect(outcome.inconsistent).toEqual([]);
  });

  it('recomputes a lone suppressed cell exactly from its published margin', async () => {
    // a + 25 = 30 → a = 5.
    const bounds = new Map([
      ['a', suppressed],
      ['b', published(25)],
      ['t', published(30)],
    ]);
    const outcome = await attackerIntervals(bounds, [sum('row', ['a', 'b'], 't')], ['a']);
    expect(outcome.intervals.get('a')).toEqual({ min: 5, max: 5 });
  });

  it('bounds a 2×2 block of suppressed cells by the smaller margins (width 16)', async () => {
    // Rows 29 and 42, columns 55 and 16: x12 = t ∈ [0, 16], x11 = 29 − t, x21 = 26 + t, x22 = 16 − t.
    const bounds = new Map<string, CellBounds>([
      ['x11', suppressed],
      ['x12', suppressed],
      ['x21', suppressed],
      ['x22', suppressed],
      ['r1', published(29)],
      ['r2', published(42)],
      ['c1', published(55)],
      ['c2', published(16)],
      ['g', published(71)],
    ]);
    const equations = [
      sum('row 1', ['x11', 'x12'], 'r1'),
      sum('row 2', ['x21', 'x22'], 'r2'),
      sum('column 1', ['x11', 'x21'], 'c1'),
      sum('column 2', ['x12', 'x22'], 'c2'),
      sum('rows', ['r1', 'r2'], 'g'),
      sum('columns', ['c1', 'c2'], 'g'),
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
      ['x11', suppressed],
      ['x12', suppressed],
      ['x21', suppressed],
      ['x22', suppressed],
      ['r1', published(29)],
      ['r2', published(42)],
      ['c1', published(55)],
      ['c2', published(16)],
    ]);
    const equations = [
      sum('row 1', ['x11', 'x12'], 'r1'),
      sum('row 2', ['x21', 'x22'], 'r2'),
      sum('column 1', ['x11', 'x21'], 'c1'),
      sum('column 2', ['x12', 'x22'], 'c2'),
    ];
    const outcome = await attackerIntervals(bounds, equations, ['x11', 'x12', 'x21', 'x22'], 10);
    // Exact intervals need 8 (a minimum and a maximum per cell). Pushing all four up or down moves none (the margins
    // fix their sum); one round of mixed directions (two programmes) settles all four.
    expect(outcome.programmesSolved).toBeLessThanOrEqual(4);
    for (const key of ['x11', 'x12', 'x21', 'x22']) {
      const interval = outcome.intervals.get(key);
      expect((interval?.max ?? 0) - (interval?.min ?? 0)).toBeGreaterThanOrEqual(10);
    }
  });

  it('proves cells unbounded by one direction, yet still bounds a narrow cell of the same system exactly', async () => {
    // x + y = t with t suppressed too: x and t can grow without limit. y + z = 12 published: y and z lie in [0, 12],
    // narrower than a protection level of 15, so they need their exact intervals.
    const bounds = new Map([
      ['x', suppressed],
      ['y', suppressed],
      ['z', suppressed],
      ['t', suppressed],
      ['s', published(12)],
    ]);
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
    const bounds = new Map([
      ['a', published(10)],
      ['b', published(25)],
      ['t', published(30)],
    ]);
    const outcome = await attackerIntervals(bounds, [sum('outflow: spells over municipality', ['a', 'b'], 't')], []);
    expect(outcome.inconsistent.map((i) => i.origin)).toEqual(['outflow: spells over municipality']);
  });

  it('reports a system with no solution at all (a margin smaller than its published parts)', async () => {
    // a + b = 30 with b = 40 published elsewhere in the system: a would be −10.
    const bounds = new Map([
      ['a', suppressed],
      ['c', suppressed],
      ['b', published(40)],
      ['t', published(30)],
      ['u', published(5)],
    ]);
    const outcome = await attackerIntervals(
      bounds,
      [sum('row', ['a', 'b'], 't'), sum('other', ['a', 'c'], 'u')],
      ['a'],
    );
    expect(outcome.intervals.has('a')).toBe(false);
    expect(outcome.inconsistent).toHaveLength(1);
  });

  it('flags exactly the cells the exhaustive programmes flag, with the same widths (random two-way tables)', async () => {
    // A rows × columns table with margins, some inner cells and margins suppressed, a few shown rounded: the
    // shortcuts (probes, unbounded directions, spans already seen) may only skip cells that are protected.
    const level = 10;
    const table = fc.record({
      rows: fc.integer({ min: 2, max: 5 }),
      columns: fc.integer({ min: 2, max: 5 }),
      values: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 25, maxLength: 25 }),
      status: fc.array(fc.constantFrom('published', 'published', 'suppressed', 'suppressed', 'rounded'), {
        minLength: 36,
        maxLength: 36,
      }),
    });
    await fc.assert(
      fc.asyncProperty(table, async ({ rows, columns, values, status }) => {
        const value = (r: number, c: number): number => {
          if (r < rows && c < columns) return values[r * 5 + c] ?? 0;
          let total = 0;
          for (let i = 0; i < rows; i++)
            for (let j = 0; j < columns; j++)
              if ((r === rows || i === r) && (c === columns || j === c)) total += values[i * 5 + j] ?? 0;
          return total;
        };
        const key = (r: number, c: number) => `${r},${c}`;
        const bounds = new Map<string, CellBounds>();
        const targets: string[] = [];
        for (let r = 0; r <= rows; r++) {
          for (let c = 0; c <= columns; c++) {
            const v = value(r, c);
            const s = status[r * 6 + c] ?? 'published';
            if (s === 'suppressed') targets.push(key(r, c));
            bounds.set(
              key(r, c),
              s === 'published'
                ? published(v)
                : s === 'rounded'
                  ? { lower: Math.max(0, 5 * Math.round(v / 5) - 2), upper: 5 * Math.round(v / 5) + 2 }
                  : suppressed,
            );
          }
        }
        const equations: Equation[] = [];
        for (let r = 0; r <= rows; r++)
          equations.push(
            sum(
              `row ${r}`,
              Array.from({ length: columns }, (_, c) => key(r, c)),
              key(r, columns),
            ),
          );
        for (let c = 0; c <= columns; c++)
          equations.push(
            sum(
              `column ${c}`,
              Array.from({ length: rows }, (_, r) => key(r, c)),
              key(rows, c),
            ),
          );
        const flagged = (intervals: ReadonlyMap<string, { min: number; max: number }>) =>
          targets.flatMap((t) => {
            const i = intervals.get(t);
            return i !== undefined && i.max - i.min < level - 1e-6 ? [`${t}: ${(i.max - i.min).toFixed(6)}`] : [];
          });
        const fast = await attackerIntervals(bounds, equations, targets, level);
        const exhaustive = await attackerIntervals(bounds, equations, targets);
        expect(flagged(fast.intervals)).toEqual(flagged(exhaustive.intervals));
        expect(fast.inconsistent.length).toBe(exhaustive.inconsistent.length);
      }),
      { numRuns: 60 },
    );
  });
});

const rules = rulesFrom({}, 'defaults');

function table(
  rows: ReleasedRow[],
  description: ReleasedTable['description'],
  measures: ReleasedTable['measures'],
): ReleasedTable {
  return {
    name: 't',
    file: 'release/tables/t.parquet',
    formats: [],
    dimensions: ['municipality'],
    measures,
    unmarked: [],
    rows,
    description,
  };
}

const row = (
  municipality: string,
  values: Record<string, number | null>,
  status: Record<string, string>,
): ReleasedRow => ({ dims: { municipality }, values, statuses: status });

describe('the primary rules, recomputed from released values', () => {
  it('takes the docs/design.md defaults and reads a rules document by name', () => {
    expect(rules).toMatchObject({
      minFrequency: 10,
      rateNumerator: 10,
      rateDenominator: 10,
      rateComplement: 10,
      minContributors: 10,
      dominanceN: 2,
      dominanceK: 0.9,
      pPercent: 0.1,
      protectionLevel: 10,
      zerosAreSensitive: false,
    });
    const rulesFile = {
      format: 'boldlink-rules/v1',
      frequency: { minPersons: 15, zerosAreSensitive: true },
      rates: { minNumerator: 12, minDenominator: 20, minComplement: 11 },
      magnitude: { minContributors: 5, dominance: { n: 2, kPercent: 85 }, pPercent: 15 },
    };
    expect(rulesFrom(rulesFile, 'file')).toMatchObject({
      minFrequency: 15,
      zerosAreSensitive: true,
      rateNumerator: 12,
      rateDenominator: 20,
      rateComplement: 11,
      minContributors: 5,
      dominanceK: 0.85,
      pPercent: 0.15,
      protectionLevel: 15,
    });
    // Rounded values: to base 5 the truth lies within ±2; a midpoint-6 value of 9 stands for 7–12.
    expect(rulesFrom({ rounding: { method: 'base', base: 5 } }, 'file')).toMatchObject({
      roundingBelow: 2,
      roundingAbove: 2,
    });
    expect(rulesFrom({ rounding: { method: 'midpoint6' } }, 'file')).toMatchObject({
      roundingBelow: 2,
      roundingAbove: 3,
    });
  });

  it('flags a published count of 1 to 9, not 0 and not 10', () => {
    const t = table(
      [
        row('a', { spells: 4 }, { spells: 'published' }),
        row('b', { spells: 0 }, { spells: 'published' }),
        row('c', { spells: 10 }, { spells: 'published' }),
        row('d', { spells: null }, { spells: 'suppressed' }),
      ],
      undefined,
      [{ column: 'spells', additive: true }],
    );
    const found = primaryRuleFindings(t, rules, undefined);
    expect(found.map((f) => [f.rule, f.cell?.municipality])).toEqual([['release.primary-frequency', 'a']]);
    expect(found[0]?.message).not.toContain('4');
  });

  it('flags a count of 12 spells that rests on fewer than 10 persons (metrics internals)', () => {
    const t = table([row('a', { spells: 12 }, { spells: 'published' })], undefined, [
      { column: 'spells', additive: true },
    ]);
    const internals = new Map([[dimsKey({ municipality: 'a' }), { persons: 7 }]]);
    expect(primaryRuleFindings(t, rules, internals).map((f) => f.rule)).toEqual(['release.primary-frequency']);
  });

  it('checks numerator and complement of a rate: 5 of 50 and 45 of 50 fail, 20 of 50 passes', () => {
    const description = {
      name: 't',
      measures: [
        { column: 'spells', kind: 'count' },
        { column: 'to_work', kind: 'count', rate: { denominator: 'spells' } },
      ],
    };
    const measures = [
      { column: 'spells', additive: true },
      { column: 'to_work', additive: true },
    ];
    const both = { spells: 'published', to_work: 'published' };
    const t = table(
      [
        row('low', { spells: 50, to_work: 5 }, both),
        row('high', { spells: 50, to_work: 45 }, both),
        row('fine', { spells: 50, to_work: 20 }, both),
      ],
      description,
      measures,
    );
    const found = primaryRuleFindings(t, rules, undefined).filter((f) => f.rule.startsWith('release.rate'));
    expect(found.map((f) => [f.rule, f.cell?.municipality])).toEqual([
      ['release.rate-numerator', 'low'],
      ['release.rate-complement', 'high'],
    ]);
  });

  it('checks a published mean against (n,k) dominance and the p% rule', () => {
    const description = {
      name: 't',
      measures: [
        {
          column: 'mean_wage',
          kind: 'mean',
          contributors: 'wage_n',
          sum: 'wage_sum',
          top1: 'wage_top1',
          top2: 'wage_top2',
        },
      ],
    };
    const t = table(
      [
        row('dominated', { mean_wage: 20 }, { mean_wage: 'published' }),
        row('spread', { mean_wage: 20 }, { mean_wage: 'published' }),
      ],
      description,
      [{ column: 'mean_wage', additive: false }],
    );
    const internals = new Map([
      // Two contributors hold 190 of 200 (95% ≥ 90%), and the other 10 are less than 10% of the largest.
      [dimsKey({ municipality: 'dominated' }), { wage_n: 10, wage_sum: 200, wage_top1: 150, wage_top2: 40 }],
      [dimsKey({ municipality: 'spread' }), { wage_n: 10, wage_sum: 200, wage_top1: 25, wage_top2: 24 }],
    ]);
    const found = primaryRuleFindings(t, rules, internals);
    expect(found.map((f) => [f.rule, f.cell?.municipality])).toEqual([
      ['release.dominance', 'dominated'],
      ['release.p-percent', 'dominated'],
    ]);
  });
});

describe('rounded cells in the attacker’s programmes', () => {
  const spells = [{ column: 'spells', additive: true }];
  const outflow = (utrecht: number, total: number) =>
    table(
      [
        row('rotterdam', { spells: null }, { spells: 'suppressed' }),
        row('utrecht', { spells: utrecht }, { spells: 'rounded' }),
        row('Total', { spells: total }, { spells: 'rounded' }),
      ],
      undefined,
      spells,
    );
  const interval = async (t: ReleasedTable, rulesDocument: unknown) => {
    const system = attackerSystem([t], rulesFrom(rulesDocument, 'file'));
    const outcome = await attackerIntervals(system.bounds, system.equations, system.targets);
    return outcome.intervals.get(system.targets[0] ?? '');
  };

  it('reads a rounded count as the whole numbers that round to it, as the release rounds (half up)', () => {
    const base = (b: number) => rulesFrom({ rounding: { method: 'base', base: b } }, 'file');
    const midpoint6 = rulesFrom({ rounding: { method: 'midpoint6' } }, 'file');
    // To 10: 15 … 24 all round to 20 (25 rounds to 30); to 5: 18 … 22.
    expect(roundedInterval(20, base(10))).toEqual({ lower: 15, upper: 24 });
    expect(roundedInterval(20, base(5))).toEqual({ lower: 18, upper: 22 });
    expect(roundedInterval(0, base(10))).toEqual({ lower: 0, upper: 4 });
    // Midpoint-6: 9 stands for 7 … 12, and 0 for a true 0.
    expect(roundedInterval(9, midpoint6)).toEqual({ lower: 7, upper: 12 });
    expect(roundedInterval(0, midpoint6)).toEqual({ lower: 0, upper: 0 });
    // Redact ≤ 7, then to 5: a published 10 cannot be a redacted 7, so it stands for 8 … 12.
    const redact = rulesFrom({ rounding: { method: 'redact-round', redactAtMost: 7, base: 5 } }, 'file');
    expect(roundedInterval(10, redact)).toEqual({ lower: 8, upper: 12 });
  });

  it('narrows a suppressed cell beside rounded cells to the difference of their intervals', async () => {
    // Base 5: Utrecht 20 is 18 … 22, the Total 25 is 23 … 27, so Rotterdam lies in 1 … 9: width 8, under 10.
    expect(await interval(outflow(20, 25), { rounding: { method: 'base', base: 5 } })).toEqual({ min: 1, max: 9 });
    // Base 10: Utrecht 20 is 15 … 24, the Total 30 is 25 … 34: Rotterdam in 1 … 19 (not 0 … 20: 25 would round up).
    expect(await interval(outflow(20, 30), { rounding: { method: 'base', base: 10 } })).toEqual({ min: 1, max: 19 });
  });
});
