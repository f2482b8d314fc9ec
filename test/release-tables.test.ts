import { describe, expect, it } from 'vitest';
import { DataError } from '../pipeline/core/errors.js';
import type { LoadedTable } from '../pipeline/release/loadedTable.js';
import { releaseTables } from '../pipeline/release/releaseTables.js';
import { countColumn, outflowTable, testRules } from './support/releaseFixtures.js';

const rules = testRules;

/** outflows by sex × year, with margins; `to_work` is a share of `spells`. */
function table(cells: [string, string, number, number][]): LoadedTable {
  const rows = new Map<string, { sex: string; year: string; spells: number; to_work: number }>();
  for (const [sex, year, spells, toWork] of cells) {
    for (const s of [sex, 'Total']) {
      for (const y of [year, 'Total']) {
        const row = rows.get(`${s}|${y}`) ?? { sex: s, year: y, spells: 0, to_work: 0 };
        row.spells += spells;
        row.to_work += toWork;
        rows.set(`${s}|${y}`, row);
      }
    }
  }
  return outflowTable(
    'outflow_by_sex_year',
    ['sex', 'year'],
    [...rows.values()],
    [countColumn('spells'), countColumn('to_work', 'spells')],
  );
}

const status = (
  t: Awaited<ReturnType<typeof releaseTables>>['tables'][number],
  column: string,
  sex: string,
  year: string,
) => {
  const at = t.dimensionValues.findIndex((v) => v[0] === sex && v[1] === year);
  const c = t.columns.find((x) => x.name === column)!;
  return { value: c.values[at], status: c.status[at] };
};

describe('releaseTables', () => {
  it('protects a 100% share by its complement and leaves the counts published', async () => {
    const result = await releaseTables(
      [
        table([
          ['F', '2021', 30, 30],
          ['F', '2022', 40, 15],
          ['M', '2021', 35, 14],
          ['M', '2022', 45, 20],
        ]),
      ],
      rules(),
    );
    const [t] = result.tables;
    expect(status(t!, 'to_work', 'F', '2021').status).toBe('suppressed'); // 30 of 30: the whole group went to work
    expect(status(t!, 'spells', 'F', '2021')).toEqual({ value: 30, status: 'published' });
    expect(result.log.find((e) => e.column === 'to_work' && e.cell === 'sex=F, year=2021')).toMatchObject({
      suppression: 'primary',
      rule: 'rate.complement',
    });
    // 3 more to_work cells go with it, and the attacker interval of the 100% cell is at least 10 wide.
    expect(
      t!.columns.find((c) => c.name === 'to_work')!.status.filter((s) => s === 'suppressed').length,
    ).toBeGreaterThanOrEqual(4);
    const entry = result.log.find((e) => e.cell === 'sex=F, year=2021' && e.column === 'to_work')!;
    expect(entry.intervalHigh! - entry.intervalLow!).toBeGreaterThanOrEqual(10);
    expect(entry.intervalHigh!).toBeLessThanOrEqual(30); // bounded by the published denominator
  });

  it('rounds published counts to base 5 with status rounded, and still suppresses small cells', async () => {
    const result = await releaseTables(
      [
        table([
          ['F', '2021', 4, 1],
          ['F', '2022', 41, 15],
          ['M', '2021', 36, 14],
          ['M', '2022', 47, 21],
        ]),
      ],
      rules({ method: 'base', base: 5 }),
    );
    const [t] = result.tables;
    expect(status(t!, 'spells', 'F', '2021').status).toBe('suppressed');
    expect(status(t!, 'spells', 'Total', '2022')).toEqual({ value: 90, status: 'rounded' }); // 41 + 47 = 88
    for (const c of t!.columns) {
      c.values.forEach((v, i) => {
        if (c.status[i] === 'rounded') expect(v! % 5).toBe(0);
        if (c.status[i] === 'suppressed') expect(v).toBeNull();
      });
    }
    expect(result.attack.narrowedBelowProtection).toBe(0);
  });

  it('refuses two tables of one population that disagree on a shared cell', async () => {
    const a = table([
      ['F', '2021', 30, 12],
      ['M', '2021', 35, 14],
    ]);
    const b = table([
      ['F', '2021', 31, 12],
      ['M', '2021', 35, 14],
    ]);
    const renamed: LoadedTable = { ...b, file: 'other.parquet', spec: { ...b.spec, name: 'other' } };
    await expect(releaseTables([a, renamed], rules())).rejects.toThrow(DataError);
    await expect(releaseTables([a, renamed], rules())).rejects.toThrow(/must agree on shared cells/);
  });
});
