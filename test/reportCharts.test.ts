import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleTable } from '../pipeline/release/bundleTable.js';
import { renderReport } from '../pipeline/release/report.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI !== 'true') {
  process.stderr.write(
    `report chart test skipped: ${CHROMIUM} is missing (install it with 'apt-get install -y chromium'; CI runs it).\n`,
  );
}

/**
 * The release's report.html in Chromium: every chart draws each published value of its measures, as a point inside
 * its plot, and marks each suppressed one. A share whose denominator is suppressed cannot be drawn, so its published
 * numerators get a count chart of their own.
 *
 * The table, by hand: outflows by year (2019, 2020) and municipality (rotterdam, utrecht, Total). `uncensored` is
 * suppressed in every row, so no durable share can be drawn, though `durable` is published in four cells.
 */
const S = 'suppressed';
const P = 'published';
type Row = [string, string, number, string, number | null, string, number | null, string, number | null, string];
const rows: Row[] = [
  // year, municipality, spells, to_work, uncensored, durable (each with its status)
  ['2019', 'rotterdam', 100, P, 60, P, null, S, 30, P],
  ['2019', 'utrecht', 40, P, null, S, null, S, null, S],
  ['2019', 'Total', 140, P, 80, P, null, S, 38, P],
  ['2020', 'rotterdam', 120, P, 66, P, null, S, 33, P],
  ['2020', 'utrecht', 50, P, 25, P, null, S, null, S],
  ['2020', 'Total', 170, P, 91, P, null, S, 40, P],
  ['Total', 'rotterdam', 220, P, 126, P, 200, P, 63, P],
  ['Total', 'utrecht', 90, P, null, S, null, S, null, S],
  ['Total', 'Total', 310, P, 171, P, 280, P, 78, P],
];
const outflows: BundleTable = {
  name: 'outflow_by_year_municipality',
  title: 'Outflow by year and municipality',
  description: 'Hand-made outflows.',
  population: 'outflows',
  columns: [
    { name: 'outflow_year', type: 'VARCHAR', role: 'dimension', description: '' },
    { name: 'municipality', type: 'VARCHAR', role: 'dimension', description: '' },
    ...['spells', 'to_work', 'uncensored', 'durable'].flatMap((c) => [
      { name: c, type: 'BIGINT' as const, role: 'count' as const, description: '' },
      { name: `${c}_status`, type: 'VARCHAR' as const, role: 'status' as const, description: '' },
    ]),
  ],
  rows: rows.map((r) => [r[0], r[1], r[2], 'published', r[4], r[5], r[6], r[7], r[8], r[9]]),
};

/** What each chart must show: its published points by their tooltips, and how many cells it marks suppressed. */
const expected: Record<string, { points: string[]; suppressed: number }> = {
  'Outflow (spells ended) by outflow_year and municipality': {
    points: [
      'rotterdam 2019: 100',
      'rotterdam 2020: 120',
      'utrecht 2019: 40',
      'utrecht 2020: 50',
      'Total 2019: 140',
      'Total 2020: 170',
    ],
    suppressed: 0,
  },
  'Share of outflows to work by outflow_year and municipality': {
    points: ['rotterdam 2019: 60%', 'rotterdam 2020: 55%', 'utrecht 2020: 50%', 'Total 2019: 57%', 'Total 2020: 54%'],
    suppressed: 1,
  },
  'Durable outflow (share of uncensored outflows) by outflow_year and municipality': { points: [], suppressed: 6 },
  'Durable outflows (count) by outflow_year and municipality': {
    points: ['rotterdam 2019: 30', 'rotterdam 2020: 33', 'Total 2019: 38', 'Total 2020: 40'],
    suppressed: 2,
  },
};

describe.skipIf(!available && process.env.CI !== 'true')('the release report in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('draws every published value of each chart inside its plot and marks every suppressed one', async () => {
    const html = renderReport({
      title: 'Release report',
      basedOn: 'a hand-made table',
      tables: [outflows],
      loss: {},
    });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.setContent(html);
    const charts = await page.$$eval('figure', (figures) =>
      figures.map((figure) => {
        const svg = figure.querySelector('svg')!;
        const plot = svg.getBoundingClientRect();
        const inside = (box: {
          width: number;
          height: number;
          left: number;
          right: number;
          top: number;
          bottom: number;
        }) =>
          box.width > 0 &&
          box.height > 0 &&
          box.left >= plot.left &&
          box.right <= plot.right &&
          box.top >= plot.top &&
          box.bottom <= plot.bottom;
        return {
          title: svg.getAttribute('aria-label') ?? '',
          points: [...svg.querySelectorAll('circle')]
            .filter((c) => inside(c.getBoundingClientRect()))
            .map((c) => c.querySelector('title')?.textContent ?? ''),
          suppressed: [...svg.querySelectorAll('.suppressed-cell')].filter((g) => inside(g.getBoundingClientRect()))
            .length,
        };
      }),
    );
    expect(problems).toEqual([]);
    expect(Object.fromEntries(charts.map((c) => [c.title, { points: c.points, suppressed: c.suppressed }]))).toEqual(
      expected,
    );
  });
});
