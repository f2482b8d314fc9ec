import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../pipeline/core/projectPath.js';
import type { BenchFigure, BenchSuite } from './figure.js';

/**
 * `npm run bench`: every figure the issues ask for, each beside a reference
 * measured in the same run, printed as one table and written to
 * bench/results.json. Suites live in bench/suites/; BOLDLINK_BENCH_ONLY=name,name
 * runs a subset.
 */
const suitesDir = projectPath('dist/bench/suites');
const only = process.env.BOLDLINK_BENCH_ONLY?.split(',').map((s) => s.trim());
const scale = process.env.BOLDLINK_BENCH_SCALE ?? 'city';

const files = (await readdir(suitesDir)).filter((f) => f.endsWith('.js')).sort();
const figures: (BenchFigure & { suite: string; measuredAt: string })[] = [];
const root = await mkdtemp(join(process.env.BOLDLINK_BENCH_TMP ?? tmpdir(), 'boldlink-bench-'));
for (const file of files) {
  const suite = ((await import(join(suitesDir, file))) as { suite: BenchSuite }).suite;
  if (only !== undefined && !only.includes(suite.name)) continue;
  const workDir = join(root, suite.name);
  await mkdir(workDir, { recursive: true });
  process.stderr.write(`bench: ${suite.name}\n`);
  try {
    for (const figure of await suite.run({
      workDir,
      scale,
      say: (m) => process.stderr.write(`  ${suite.name}: ${m}\n`),
    }))
      figures.push({ suite: suite.name, measuredAt: new Date().toISOString(), ...figure });
  } catch (error) {
    process.stderr.write(`bench: ${suite.name} failed: ${(error as Error).message}\n`);
    figures.push({
      suite: suite.name,
      measuredAt: new Date().toISOString(),
      issue: 0,
      name: `${suite.name} failed`,
      value: Number.NaN,
      unit: '',
      note: (error as Error).message,
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
await rm(root, { recursive: true, force: true });

const fmt = (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? '' : Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3);
const rows = figures.map((f) => [
  `#${f.issue}`,
  f.name,
  `${fmt(f.value)} ${f.unit}`.trim(),
  f.reference ? `${f.reference.name}: ${fmt(f.reference.value)}` : '',
  f.ratio === undefined ? '' : `${fmt(f.ratio)}×`,
  f.target ?? '',
  f.met === undefined ? '' : f.met ? 'met' : 'NOT met',
  f.note ?? '',
]);
const header = ['issue', 'figure', 'value', 'reference (same run)', 'ratio', 'target', '', 'note'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) =>
  cells
    .map((c, i) => c.padEnd(widths[i] ?? 0))
    .join('  ')
    .trimEnd();
process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
// A partial run (BOLDLINK_BENCH_ONLY) replaces only the figures it measured again in bench/results.json
// (by suite and name: a chain run at national scale keeps the small and city figures).
const resultsPath = projectPath('bench/results.json');
const ran = new Set(figures.map((f) => `${f.suite}\u0000${f.name}`));
let kept: unknown[] = [];
if (only !== undefined) {
  try {
    const previous = JSON.parse(await readFile(resultsPath, 'utf8')) as {
      figures?: { suite?: string; name?: string }[];
    };
    kept = (previous.figures ?? []).filter((f) => f.suite !== undefined && !ran.has(`${f.suite}\u0000${f.name ?? ''}`));
  } catch {
    kept = [];
  }
}
await writeFile(
  resultsPath,
  `${JSON.stringify({ measuredAt: new Date().toISOString(), scale, figures: [...kept, ...figures] }, null, 2)}\n`,
);
process.stdout.write(`\nwritten to bench/results.json\n`);
