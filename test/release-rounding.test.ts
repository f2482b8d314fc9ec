import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from '../pipeline/core/errors.js';
import type { LoadedTable } from '../pipeline/release/loadedTable.js';
import { type ReleaseResult, releaseTables } from '../pipeline/release/releaseTables.js';
import { attackIntervals } from '../pipeline/release/sdc/attack.js';
import { CellSystem } from '../pipeline/release/sdc/cellSystem.js';
import { tableFromInnerCells } from '../pipeline/release/sdc/innerTable.js';
import type { SuppressionProblem } from '../pipeline/release/sdc/problem.js';
import { suppressionCost } from '../pipeline/release/sdc/suppressionCost.js';
import { roundCount, roundingPreimage } from '../pipeline/release/sdc/rounding.js';
import { countColumn, outflowTable, testRules } from './support/releaseFixtures.js';

const rules = testRules;

/** Outflows by year with a Total row; `to_work` is a share of `spells`. */
function byYear(cells: [string, number, number][]): LoadedTable {
  const total = cells.reduce((t, [, spells, toWork]) => ({ spells: t.spells + spells, to_work: t.to_work + toWork }), {
    spells: 0,
    to_work: 0,
  });
  const rows = [
    ...cells.map(([year, spells, toWork]) => ({ year, spells, to_work: toWork })),
    { year: 'Total', ...total },
  ];
  return outflowTable('outflow_by_year', ['year'], rows, [countColumn('spells'), countColumn('to_work', 'spells')]);
}

/** A column's published values and statuses by year, Total last. */
const column = (result: Awaited<ReturnType<typeof releaseTables>>, name: string) => {
  const t = result.tables[0]!;
  const c = t.columns.find((x) => x.name === name)!;
  const at = [...new Set(t.dimensionValues.map((v) => v[0]!))]
    .sort()
    .map((year) => t.dimensionValues.findIndex((v) => v[0] === year));
  return { values: at.map((i) => c.values[i]), status: at.map((i) => c.status[i]) };
};

const logEntry = (result: Awaited<ReturnType<typeof releaseTables>>, column: string, year: string) =>
  result.log.find((e) => e.column === column && e.cell === `year=${year}`);

describe('rounding as the attacker sees it', () => {
  it('a published multiple of the base stands for exactly the counts that round to it', () => {
    const base10 = { method: 'base', base: 10 } as const;
    expect(roundingPreimage(10, base10)).toEqual([5, 14]);
    expect(roundingPreimage(60, base10)).toEqual([55, 64]);
    const base5 = { method: 'base', base: 5 } as const;
    expect(roundingPreimage(25, base5)).toEqual([23, 27]);
    // Every count in the interval rounds to the published value, and the counts just outside do not.
    for (const rule of [base10, base5, { method: 'base', base: 3 } as const]) {
      for (let published = 0; published <= 60; published += rule.base) {
        const [lo, hi] = roundingPreimage(published, rule);
        for (let n = lo; n <= hi; n++) expect(roundCount(n, rule)).toBe(published);
        if (lo > 0) expect(roundCount(lo - 1, rule)).not.toBe(published);
        expect(roundCount(hi + 1, rule)).not.toBe(published);
      }
    }
  });

  it('a rounded denominator bounds a suppressed numerator by the top of its rounding interval', async () => {
    //            spells  to_work      published (base 10)
    //   2021       14       4         spells 10 (true 5..14), to_work suppressed (4 < 10)
    //   2022       50      30         spells 50, to_work suppressed as its partner
    //   Total      64      34         spells 60, to_work 30 (true 25..34)
    const result = await releaseTables(
      [
        byYear([
          ['2021', 14, 4],
          ['2022', 50, 30],
        ]),
      ],
      rules({ method: 'base', base: 10 }),
    );
    expect(column(result, 'spells')).toEqual({ values: [10, 50, 60], status: ['rounded', 'rounded', 'rounded'] });
    expect(column(result, 'to_work')).toEqual({
      values: [null, null, 30],
      status: ['suppressed', 'suppressed', 'rounded'],
    });
    // The log's interval is proved by tables the attacker cannot rule out: never above 14 (the top of rounded 10).
    const small = logEntry(result, 'to_work', '2021')!;
    expect(small).toMatchObject({ suppression: 'primary', rule: 'frequency' });
    expect(small.intervalHigh!).toBeLessThanOrEqual(14);
    expect(small.intervalHigh! - small.intervalLow!).toBeGreaterThanOrEqual(10);
    expect(result.attack).toEqual({ suppressedCells: 2, exactlyRecoverable: 0, narrowedBelowProtection: 0 });
  });

  it('the attacker LP on that table, worked by hand: rounded cells are intervals, the rounded denominator a ceiling', async () => {
    // to_work over the two years and their Total, after suppression: 2021 and 2022 hidden, Total published as 30.
    const table = tableFromInnerCells(
      't',
      [['year']],
      [
        { values: ['2021'], count: 4 },
        { values: ['2022'], count: 30 },
      ],
    );
    const system = CellSystem.link([table.layout]);
    const cell = (year: string) =>
      [...Array(system.cellCount).keys()].find((c) => table.layout.valuesOf(c)[0] === year)!;
    const [y2021, y2022, total] = [cell('2021'), cell('2022'), cell('Total')];
    const suppressed = new Uint8Array(system.cellCount);
    suppressed[y2021] = 1;
    suppressed[y2022] = 1;
    const noCeiling = new Float64Array(system.cellCount).fill(Infinity);
    const base = {
      system,
      value: table.value,
      upper: noCeiling,
      weight: suppressionCost(table.value, system.marginLevels()),
      primary: new Map(),
    };
    const attack = async (problem: SuppressionProblem) => {
      const intervals = await attackIntervals(problem, suppressed, undefined, { exact: true });
      return [intervals.get(y2021), intervals.get(y2022)];
    };
    // Published values taken as exact and no denominator: 2021 + 2022 = 34, so 2021 ∈ [0, 34].
    expect(await attack(base)).toEqual([
      { lo: 0, hi: 34 },
      { lo: 0, hi: 34 },
    ]);
    // The rounded Total 30 stands for 25..34; the rounded denominators 10 and 50 for at most 14 and 54:
    // 2021 ≤ 14, and 2022 = Total − 2021 ∈ [25 − 14, 34 − 0] = [11, 34].
    const lo = Float64Array.from(table.value);
    const hi = Float64Array.from(table.value);
    [lo[total], hi[total]] = roundingPreimage(30, { method: 'base', base: 10 });
    const upper = Float64Array.from(noCeiling);
    upper[y2021] = roundingPreimage(10, { method: 'base', base: 10 })[1];
    upper[y2022] = roundingPreimage(50, { method: 'base', base: 10 })[1];
    expect(await attack({ ...base, upper, publishedRange: { lo, hi } })).toEqual([
      { lo: 0, hi: 14 },
      { lo: 11, hi: 34 },
    ]);
    // Taking the rounded denominator 10 as exact would claim 2021 ∈ [0, 10]: narrower than the truth allows.
    upper[y2021] = 10;
    expect(await attack({ ...base, upper, publishedRange: { lo, hi } })).toEqual([
      { lo: 0, hi: 10 },
      { lo: 15, hi: 34 },
    ]);
  });
});

/** a = 4 and b = 16 under a published Total of 20, a and b suppressed. */
function aAndBSuppressed() {
  const table = tableFromInnerCells(
    't',
    [['group']],
    [
      { values: ['a'], count: 4 },
      { values: ['b'], count: 16 },
    ],
  );
  const system = CellSystem.link([table.layout]);
  const cell = (name: string) => [...Array(system.cellCount).keys()].find((c) => table.layout.valuesOf(c)[0] === name)!;
  const [a, b] = [cell('a'), cell('b')];
  const suppressed = new Uint8Array(system.cellCount);
  suppressed[a] = 1;
  suppressed[b] = 1;
  return { system, table, a, b, suppressed };
}

describe('a numerator bounds its suppressed denominator from below', () => {
  it('the attacker LP keeps a cell above its known lower bound', async () => {
    // a + b = Total = 20 published, a and b suppressed; the attacker knows b ≥ 15 (say, b's published numerator).
    const { system, table, a, b, suppressed } = aAndBSuppressed();
    const problem: SuppressionProblem = {
      system,
      value: table.value,
      upper: new Float64Array(system.cellCount).fill(Infinity),
      weight: suppressionCost(table.value, system.marginLevels()),
      primary: new Map(),
    };
    const free = await attackIntervals(problem, suppressed, undefined, { exact: true });
    expect(free.get(a)).toEqual({ lo: 0, hi: 20 });
    const lower = new Float64Array(system.cellCount);
    lower[b] = 15;
    const bounded = await attackIntervals({ ...problem, lower }, suppressed, undefined, { exact: true });
    expect(bounded.get(a)).toEqual({ lo: 0, hi: 5 });
    expect(bounded.get(b)).toEqual({ lo: 15, hi: 20 });
  });

  it('the attack counts a witness table only when it holds for the pattern and the bounds', async () => {
    // a + b = Total = 20 published, a = 4 and b = 16 suppressed; a needs an interval 12 wide, b 30 (more than it can have).
    const { system, table, a, b, suppressed } = aAndBSuppressed();
    const primary = new Map([
      [a, { width: 12, prefer: 'up' as const }],
      [b, { width: 30, prefer: 'up' as const }],
    ]);
    const problem: SuppressionProblem = {
      system,
      value: table.value,
      upper: new Float64Array(system.cellCount).fill(Infinity),
      weight: suppressionCost(table.value, system.marginLevels()),
      primary,
    };
    const witness = (deltas: [number, number][]) => ({
      cells: Int32Array.from(deltas, ([c]) => c),
      deltas: Float64Array.from(deltas, ([, d]) => d),
    });
    // a + 12, b − 12 balances and stays ≥ 0: a's range [4, 16] is proved from it, no LP for a, and b's LPs find [0, 20].
    const held = await attackIntervals(problem, suppressed, undefined, {
      witnesses: [
        witness([
          [a, 12],
          [b, -12],
        ]),
      ],
    });
    expect(held.get(a)).toEqual({ lo: 4, hi: 16 });
    expect(held.get(b)).toEqual({ lo: 0, hi: 20 });
    // Witnesses that do not hold change nothing: unbalanced, below a cell's floor, or moving the published Total.
    const total = [...Array(system.cellCount).keys()].find((c) => c !== a && c !== b)!;
    for (const wrong of [
      witness([[a, 40]]),
      witness([
        [a, 30],
        [b, -30],
      ]),
      witness([
        [a, 12],
        [total, 12],
      ]),
    ]) {
      const intervals = await attackIntervals(problem, suppressed, undefined, { witnesses: [wrong] });
      expect(intervals.get(b)).toEqual({ lo: 0, hi: 20 });
      expect(intervals.get(a)!.hi).toBeLessThanOrEqual(20);
    }
  });

  it('a rounded numerator narrows a secondary denominator cell in the disclosure log', async () => {
    //            spells  to_work      published (base 3: a published r stands for r − 1 .. r + 1)
    //   2021        8       3         both suppressed (8 persons; a share of fewer than 10)
    //   2022       30      18         spells suppressed as partner; to_work 18 (true 17..19)
    //   2023       60      12         spells 60 (59..61); to_work suppressed as partner
    //   Total      98      33         spells 99 (98..100); to_work 33 (32..34)
    const result = await releaseTables(
      [
        byYear([
          ['2021', 8, 3],
          ['2022', 30, 18],
          ['2023', 60, 12],
        ]),
      ],
      rules({ method: 'base', base: 3 }),
    );
    expect(column(result, 'spells').status).toEqual(['suppressed', 'suppressed', 'rounded', 'rounded']);
    expect(column(result, 'to_work')).toEqual({
      values: [null, 18, null, 33],
      status: ['suppressed', 'rounded', 'suppressed', 'rounded'],
    });
    // By hand: spells(2021) + spells(2022) = Total − spells(2023) ∈ [98 − 61, 100 − 59] = [37, 41]. The published
    // to_work(2022) = 18 means at least 17, and a denominator is no smaller than its numerator: spells(2022) ≥ 17,
    // so spells(2021) ≤ 41 − 17 = 24. Without the numerator's bound the attacker's maximum would be 41.
    // The log shows values tables consistent with the release attain (proved wide enough, not every bound
    // solved): they lie within those hand-worked intervals, spells(2021) in [0, 24] and spells(2022) in [17, 41].
    const [first, second] = [logEntry(result, 'spells', '2021')!, logEntry(result, 'spells', '2022')!];
    expect(first.suppression).toBe('primary');
    expect(second.suppression).toBe('secondary');
    expect(first.intervalLow).toBeGreaterThanOrEqual(0);
    expect(first.intervalHigh).toBeLessThanOrEqual(24);
    expect(first.intervalHigh! - first.intervalLow!).toBeGreaterThanOrEqual(10);
    expect(second.intervalLow).toBeGreaterThanOrEqual(17);
    expect(second.intervalHigh).toBeLessThanOrEqual(41);
    expect(result.attack.narrowedBelowProtection).toBe(0);
  });
});

describe('rounding and shares together, on random tables', () => {
  it('every logged attacker interval holds the true value, and every sensitive cell keeps its protection level', async () => {
    const year = fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 100 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(year, { minLength: 2, maxLength: 4 }),
        fc.constantFrom(3, 5, 10),
        async (years, base) => {
          const cells = years.map(([spells, share], i): [string, number, number] => [
            `${2020 + i}`,
            spells,
            Math.floor((spells * share) / 100),
          ]);
          const truth = new Map<string, number>();
          for (const [y, spells, toWork] of cells)
            truth.set(`spells|year=${y}`, spells).set(`to_work|year=${y}`, toWork);
          truth
            .set(
              'spells|year=Total',
              cells.reduce((t, c) => t + c[1], 0),
            )
            .set(
              'to_work|year=Total',
              cells.reduce((t, c) => t + c[2], 0),
            );
          let result: ReleaseResult;
          try {
            result = await releaseTables([byYear(cells)], rules({ method: 'base', base }));
          } catch (error) {
            // A table no pattern can protect is refused, never released narrow.
            expect(error).toBeInstanceOf(DataError);
            return;
          }
          expect(result.attack.narrowedBelowProtection).toBe(0);
          for (const entry of result.log) {
            const value = truth.get(`${entry.column}|${entry.cell}`)!;
            expect(entry.intervalLow!).toBeLessThanOrEqual(value + 1e-6);
            if (entry.intervalHigh !== null) expect(entry.intervalHigh).toBeGreaterThanOrEqual(value - 1e-6);
            if (entry.protectionLevel !== null && entry.intervalHigh !== null)
              expect(entry.intervalHigh - entry.intervalLow!).toBeGreaterThanOrEqual(entry.protectionLevel - 1e-6);
          }
        },
      ),
      { numRuns: 25, seed: 2026 },
    );
  });
});
