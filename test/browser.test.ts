import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../pipeline/serve/server.js';
import { type SampleServer, startSampleServer } from './support/sampleServer.js';

const CHROMIUM = '/usr/bin/chromium';
/** The machine is shared: give the page time, never a timed assertion. */
const POLL = { timeout: 30_000, interval: 100 };
const available = existsSync(CHROMIUM);
if (!available && process.env.CI !== 'true') {
  process.stderr.write(
    `browser test skipped: ${CHROMIUM} is missing (install it with 'apt-get install -y chromium'; CI installs it and runs this test).\n`,
  );
}

/** Debian's Chromium through playwright-core; under CI it must run. */
describe.skipIf(!available && process.env.CI !== 'true')('web page in Chromium', () => {
  let sample: SampleServer;
  let server: RunningServer;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    sample = await startSampleServer('browser');
    ({ server, token } = sample);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-gpu',
        '--no-first-run',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sample?.close();
  });

  it('signs in, filters a table, draws a chart with suppressed cells marked, and saves a screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      // The deliberate wrong sign-in below is the one expected 401.
      if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // Nothing may leave loopback.
    await page.route(/^(?!http:\/\/127\.0\.0\.1)/, (route) => {
      problems.push(`blocked request to ${route.request().url()}`);
      return route.abort();
    });

    await page.goto(server.url);
    await page.getByLabel('Access token').fill('bl_wrongwrongwrongwrongwrongwrongwrongwrongwro');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#login-error').textContent(), POLL).toMatch(/not accepted/);

    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as Ada Researcher').waitFor();
    // The overview draws one chart per table.
    await expect
      .poll(() => page.evaluate<number>("document.querySelectorAll('#overview-cards canvas').length"), POLL)
      .toBe(3);

    await page.getByRole('link', { name: 'Outflow from social assistance by year and municipality' }).first().click();
    await page.locator('#table-title').getByText('Outflow from social assistance').waitFor();
    await page.getByLabel('Indicator in chart', { exact: true }).selectOption('durable');
    await page.getByLabel('Outflow year', { exact: true }).selectOption('2021');
    await expect.poll(() => page.locator('#data-table tbody tr').count(), POLL).toBe(5);

    // The chart exists and has pixels; the two suppressed cells are drawn as placeholders.
    // Evaluated in the page (a string: this file is compiled without DOM types).
    const chart = await page.evaluate<{ exists: boolean; painted: number; suppressed: number }>(`(() => {
      const canvas = document.getElementById('table-chart');
      const instance = window.Chart.getChart(canvas);
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
      return { exists: instance !== undefined, painted, suppressed: instance ? instance.data.datasets.flatMap((d) => d.suppressed).filter(Boolean).length : 0 };
    })()`);
    expect(chart.exists).toBe(true);
    expect(chart.painted).toBeGreaterThan(1000);
    expect(chart.suppressed).toBe(2); // durable 2021: den_haag and utrecht
    // In the data table a suppressed cell says so and shows no number.
    const utrecht = page.locator('#data-table tbody tr', { hasText: 'Utrecht' });
    await expect.poll(() => utrecht.locator('td.suppressed').count(), POLL).toBe(2);

    // Sorting by a column heading.
    await page.getByRole('button', { name: 'Spells' }).click();
    await expect.poll(() => page.locator('#data-table th[aria-sort="ascending"]').count(), POLL).toBe(1);

    // A download in every format goes through the API with the token.
    for (const format of ['CSV', 'JSON', 'Arrow']) {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: format, exact: true }).first().click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^outflow_by_year_municipality\.(csv|json|arrows)$/);
    }

    // The effects chart shows intervals.
    await page.getByRole('link', { name: 'Effect on leaving the benefit within 12 months' }).first().click();
    await expect.poll(() => page.locator('#chart-caption').textContent(), POLL).toMatch(/confidence interval/);

    await page.getByRole('link', { name: 'Outflow from social assistance by year and municipality' }).first().click();
    await page.getByLabel('Indicator in chart', { exact: true }).selectOption('durable');
    await page.getByLabel('Outflow year', { exact: true }).selectOption('2021');
    await expect.poll(() => page.locator('#data-table tbody tr').count(), POLL).toBe(5);
    await expect.poll(() => page.locator('#status').textContent(), POLL).toMatch(/2 suppressed cells in the chart/);
    const screenshot = join(tmpdir(), 'boldlink-serve-table.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    process.stderr.write(`browser test: screenshot saved to ${screenshot}\n`);
    expect(problems).toEqual([]);
  }, 90_000);
});
