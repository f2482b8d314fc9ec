import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { DemoChain, type DemoScale } from '../../pipeline/demo/demoChain.js';
import { DemoWorkspace } from '../../pipeline/demo/workspace.js';
import { attackIntervals } from '../../pipeline/release/sdc/attack.js';
import { BENCHMARK_GROUPS, benchmarkInnerCells } from '../../pipeline/release/sdc/benchmarkTable.js';
import { CellSystem } from '../../pipeline/release/sdc/cellSystem.js';
import { TOTAL } from '../../pipeline/release/sdc/dimension.js';
import { tableFromInnerCells } from '../../pipeline/release/sdc/innerTable.js';
import { optimalSuppression, patternLoss } from '../../pipeline/release/sdc/optimum.js';
import type { SuppressionProblem } from '../../pipeline/release/sdc/problem.js';
import { type PrimaryFinding, protectCells } from '../../pipeline/release/sdc/protect.js';
import { suppressionCost } from '../../pipeline/release/sdc/suppressionCost.js';
import type { TableUtility } from '../../pipeline/release/releaseUtility.js';
import type { BenchFigure, BenchSuite } from '../figure.js';
import { measureBoldlink } from '../measure.js';
import { checkRelease } from '../releaseCheck.js';

const ISSUE = 19;
const THRESHOLD = 10;

/**
 * Statistics Norway's GaussSuppression on the benchmark table, where R cannot
 * run it: version 1.2.3 (maxN 9, the same table) measured on this project's
 * machine, 2026-12-08, beside boldlink in one run.
 */
const GAUSS_RECORDED = { cells: 1270, persons: 10438, seconds: 8.0, narrowedIntoSmall: Number.NaN };

/**
 * Issue #19: what a release publishes and what it protects. The benchmark
 * table (4,800 inner cells) through `boldlink protect` beside GaussSuppression
 * (maxN 9) in the same run where Rscript finds the package (R_LIBS), and the
 * attack on both patterns; the release of the demo's chain at small and city
 * scale (BOLDLINK_BENCH_RELEASE_SCALES): values published, suppressed against
 * primary, margin counts of 100+ suppressed, zeros suppressed that no rule
 * makes primary, the programme effects of large cohorts, and the time.
 */
export const suite: BenchSuite = {
  name: 'release',
  async run({ workDir, say }) {
    const figures: BenchFigure[] = [];
    figures.push(...(await benchmarkTable(workDir, say)));
    figures.push(await lossAgainstOptimum(say));
    const scales = (process.env.BOLDLINK_BENCH_RELEASE_SCALES ?? 'small,city').split(',').map((s) => s.trim());
    for (const scale of scales) figures.push(...(await releaseAt(scale as DemoScale, join(workDir, scale), say)));
    return figures;
  },
};

async function benchmarkTable(workDir: string, say: (m: string) => void): Promise<BenchFigure[]> {
  const cells = benchmarkInnerCells();
  const csv = join(workDir, 'benchmark.csv');
  await writeFile(
    csv,
    `municipality,district,year,age_band,n\n${cells.map((c) => `${c.values.join(',')},${c.count}`).join('\n')}\n`,
  );
  say(
    `benchmark table: ${cells.length} inner cells, ${cells.filter((c) => c.count >= 1 && c.count < THRESHOLD).length} from 1 to 9`,
  );
  const out = join(workDir, 'protected');
  const run = await measureBoldlink([
    'protect',
    '--input',
    csv,
    '--dimensions',
    'municipality,district,year,age_band',
    '--count',
    'n',
    '--hierarchy',
    'municipality>district',
    '--out',
    out,
  ]);
  if (run.exitCode !== 0) throw new Error(`boldlink protect failed: ${run.stderr.slice(0, 500)}`);
  const summary = JSON.parse(await readFile(`${out}.disclosure-log/summary.json`, 'utf8')) as {
    loss: Record<string, TableUtility & { primaryValues: number }>;
    attack: { suppressedCells: number; exactlyRecoverable: number; narrowedBelowProtection: number };
  };
  const loss = Object.values(summary.loss)[0]!;
  const gauss = (await runGaussSuppression(csv, join(workDir, 'gauss.csv'), cells)) ?? GAUSS_RECORDED;
  const gaussName = Number.isNaN(gauss.narrowedIntoSmall)
    ? 'GaussSuppression 1.2.3 (maxN 9), recorded: no R here'
    : 'GaussSuppression (maxN 9), same run';
  say(
    `boldlink ${loss.suppressed} cells, ${loss.personsSuppressed} persons, ${run.seconds.toFixed(1)} s; GaussSuppression ${gauss.cells} cells, ${gauss.persons} persons, ${gauss.seconds.toFixed(1)} s`,
  );
  return [
    {
      issue: ISSUE,
      name: 'benchmark table (6,545 cells): cells suppressed',
      value: loss.suppressed,
      unit: 'cells',
      reference: { name: gaussName, value: gauss.cells },
      ratio: loss.suppressed / gauss.cells,
      target: '≤ 1× GaussSuppression',
      met: loss.suppressed <= gauss.cells,
      note: `${loss.primaryValues} primary`,
    },
    {
      issue: ISSUE,
      name: 'benchmark table: persons in suppressed inner cells',
      value: loss.personsSuppressed,
      unit: 'persons',
      reference: { name: gaussName, value: gauss.persons },
      ratio: loss.personsSuppressed / gauss.persons,
      target: '≤ 1.1× GaussSuppression',
      met: loss.personsSuppressed <= 1.1 * gauss.persons,
    },
    {
      issue: ISSUE,
      name: 'benchmark table: wall time',
      value: run.seconds,
      unit: 's',
      reference: { name: gaussName, value: gauss.seconds },
      ratio: run.seconds / gauss.seconds,
      note: `peak ${run.peakMiB.toFixed(0)} MiB`,
    },
    {
      issue: ISSUE,
      name: 'benchmark table: suppressed cells an attacker narrows below 10 (boldlink)',
      value: summary.attack.narrowedBelowProtection + summary.attack.exactlyRecoverable,
      unit: 'cells',
      ...(Number.isNaN(gauss.narrowedIntoSmall)
        ? {}
        : { reference: { name: `${gaussName}, the same attack`, value: gauss.narrowedIntoSmall } }),
      target: '0',
      met: summary.attack.narrowedBelowProtection + summary.attack.exactlyRecoverable === 0,
      note: `of ${summary.attack.suppressedCells} suppressed`,
    },
  ];
}

/**
 * GaussSuppression on the same inner cells, where `Rscript` loads it (R_LIBS
 * names its library): its suppressed cells, the persons in its suppressed
 * inner cells, its own time, and how many of its suppressed cells the
 * interval attack narrows to less than 10 wide. Undefined without R.
 */
async function runGaussSuppression(
  csv: string,
  out: string,
  cells: ReturnType<typeof benchmarkInnerCells>,
): Promise<typeof GAUSS_RECORDED | undefined> {
  const script = `suppressMessages(library(GaussSuppression))
d <- read.csv(${JSON.stringify(csv)}, colClasses = c("character", "character", "character", "character", "integer"))
t0 <- proc.time()
o <- SuppressSmallCounts(data = d, dimVar = c("municipality", "district", "year", "age_band"), freqVar = "n", maxN = 9, printInc = FALSE)
cat(sprintf("seconds %.3f\\n", (proc.time() - t0)[["elapsed"]]))
write.csv(o[, c("district", "year", "age_band", "suppressed")], ${JSON.stringify(out)}, row.names = FALSE)`;
  const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = spawn('Rscript', ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on('error', () => resolve({ code: -1, stdout }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
  });
  const seconds = /seconds ([0-9.]+)/.exec(result.stdout);
  if (result.code !== 0 || seconds === null) return undefined;
  // GaussSuppression names a municipality's cells by the municipality in its district column.
  const municipalityOf = new Map(cells.map((c) => [c.values[1]!, c.values[0]!]));
  const table = tableFromInnerCells('benchmark', BENCHMARK_GROUPS, cells);
  const system = CellSystem.link([table.layout]);
  const localOf = new Map<string, number>();
  for (let local = 0; local < table.layout.size; local++) {
    const [municipality, district, year, age] = table.layout.valuesOf(local);
    const place = district !== TOTAL ? district : municipality;
    localOf.set(`${place}|${year}|${age}`, local);
  }
  const suppressed = new Uint8Array(system.cellCount);
  let persons = 0;
  let count = 0;
  for (const line of (await readFile(out, 'utf8')).trim().split('\n').slice(1)) {
    const [place, year, age, flag] = line.split(',').map((f) => f.replaceAll('"', ''));
    if (flag !== 'TRUE') continue;
    const local = localOf.get(`${place}|${year}|${age}`);
    if (local === undefined) continue;
    suppressed[system.cellOf[0]![local]!] = 1;
    count++;
    if (municipalityOf.has(place!) && year !== TOTAL && age !== TOTAL) persons += table.value[local]!;
  }
  const primary = new Map<number, PrimaryFinding>();
  table.value.forEach((v, c) => {
    if (v > 0 && v < THRESHOLD) primary.set(c, { width: THRESHOLD, prefer: 'up', rule: 'frequency', reason: '' });
  });
  const problem: SuppressionProblem = {
    system,
    value: table.value,
    upper: new Float64Array(system.cellCount).fill(Number.POSITIVE_INFINITY),
    weight: suppressionCost(table.value, system.marginLevels()),
    primary,
  };
  const intervals = await attackIntervals(problem, suppressed, undefined, {});
  let narrowed = 0;
  for (const interval of intervals.values()) if (interval.hi - interval.lo + 1e-6 < THRESHOLD) narrowed++;
  return { cells: count, persons, seconds: Number(seconds[1]), narrowedIntoSmall: narrowed };
}

/** Heuristic loss over exact MIP loss on small random 3-way tables (the same generator as the tests). */
async function lossAgainstOptimum(say: (m: string) => void): Promise<BenchFigure> {
  const tables = fc.sample(
    fc.record({
      rows: fc.integer({ min: 2, max: 4 }),
      cols: fc.integer({ min: 2, max: 3 }),
      layers: fc.integer({ min: 1, max: 2 }),
      values: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 24, maxLength: 24 }),
    }),
    { numRuns: 20, seed: 2026 },
  );
  let heuristicTotal = 0;
  let optimumTotal = 0;
  let solved = 0;
  for (const { rows, cols, layers, values } of tables) {
    const inner = [];
    let k = 0;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++)
        for (let l = 0; l < layers; l++)
          inner.push({ values: [`r${r}`, `c${c}`, `l${l}`], count: values[k++ % values.length]! });
    const table = tableFromInnerCells('small', [['row'], ['col'], ['layer']], inner);
    const system = CellSystem.link([table.layout]);
    const primary = new Map<number, PrimaryFinding>();
    table.value.forEach((v, c) => {
      if (v > 0 && v < THRESHOLD) primary.set(c, { width: THRESHOLD, prefer: 'up', rule: 'frequency', reason: '' });
    });
    if (primary.size === 0) continue;
    const problem: SuppressionProblem = {
      system,
      value: table.value,
      upper: new Float64Array(system.cellCount).fill(Number.POSITIVE_INFINITY),
      weight: suppressionCost(table.value, system.marginLevels()),
      primary,
    };
    const heuristic = await protectCells(problem);
    const optimum = await optimalSuppression(problem);
    heuristicTotal += patternLoss(problem, heuristic.suppressed);
    optimumTotal += optimum.loss;
    solved++;
  }
  const ratio = optimumTotal === 0 ? 1 : heuristicTotal / optimumTotal;
  say(`loss vs MIP optimum on ${solved} small tables: ${ratio.toFixed(3)}`);
  return {
    issue: ISSUE,
    name: `cost of the suppressions vs exact MIP optimum (${solved} small tables)`,
    value: heuristicTotal,
    unit: 'cost',
    reference: { name: 'HiGHS MIP optimum, same run', value: optimumTotal },
    ratio,
    target: '≤ 1.2×',
    met: ratio <= 1.2,
    note: 'cost = Σ suppressionCost over suppressed cells',
  };
}

/** The demo's chain at one scale up to metrics, then the release timed and held against its metrics output. */
async function releaseAt(scale: DemoScale, root: string, say: (m: string) => void): Promise<BenchFigure[]> {
  const ws = new DemoWorkspace(root);
  const chain = new DemoChain(ws, { scale, seed: 20260101, project: 'bench' });
  const run = async (step: { label: string; args: string[] }) => {
    say(`${scale}: ${step.label}`);
    const m = await measureBoldlink([...step.args, '--log-level', 'warn']);
    if (m.exitCode !== 0)
      throw new Error(`${step.label} at ${scale} failed (exit ${m.exitCode}): ${m.stderr.slice(-600)}`);
    return m;
  };
  await mkdir(dirname(ws.sourceKey), { recursive: true, mode: 0o700 });
  await mkdir(dirname(ws.ttpKey), { recursive: true, mode: 0o700 });
  await run(chain.sourceKey());
  await run(chain.ttpKey());
  await run(chain.generate());
  for (const step of chain.pseudonymize()) await run(step);
  await run(chain.link());
  await run(chain.metrics());
  const release = await run(chain.release());
  const manifest = JSON.parse(await readFile(join(ws.release, 'manifest.json'), 'utf8')) as {
    summary: { disclosure: { utility: { overall: TableUtility } } };
  };
  const overall = manifest.summary.disclosure.utility.overall;
  const check = await checkRelease(ws.metrics, ws.release, `${ws.release}.disclosure-log`);
  const logSummary = JSON.parse(await readFile(`${ws.release}.disclosure-log/summary.json`, 'utf8')) as {
    attack: { suppressedCells: number; exactlyRecoverable: number; narrowedBelowProtection: number };
  };
  const published = (overall.published + overall.rounded) / (overall.values - overall.empty);
  const ratio = check.suppressed / check.primary;
  say(
    `${scale}: ${(100 * published).toFixed(1)}% published; 12 tables ${check.suppressed} suppressed / ${check.primary} primary; ${release.seconds.toFixed(1)} s`,
  );
  return [
    {
      issue: ISSUE,
      name: `${scale} release: values published`,
      value: 100 * published,
      unit: '%',
      note: `${overall.suppressed} of ${overall.values - overall.empty} suppressed, ${overall.empty} empty; every table of the bundle`,
    },
    {
      issue: ISSUE,
      name: `${scale} release: suppressed values of the 12 tables`,
      value: check.suppressed,
      unit: 'values',
      reference: { name: 'primary by the rules (disclosure log)', value: check.primary },
      ratio,
      target: '≤ 1.5×',
      met: ratio <= 1.5,
      note: `of ${check.values} values (${((100 * check.suppressed) / check.values).toFixed(1)}% suppressed, ${((100 * check.primary) / check.values).toFixed(1)}% primary)`,
    },
    {
      issue: ISSUE,
      name: `${scale} release: margin counts of 100+ suppressed`,
      value: check.largeMarginsSuppressed,
      unit: 'values',
      reference: { name: 'margin counts of 100+', value: check.largeMargins },
      ratio: check.largeMarginsSuppressed / check.largeMargins,
      target: '≤ 2%',
      met: check.largeMarginsSuppressed <= 0.02 * check.largeMargins,
    },
    {
      issue: ISSUE,
      name: `${scale} release: suppressed zeros no rule makes primary`,
      value: check.zerosSuppressedWithoutRule,
      unit: 'values',
      target: '0',
      met: check.zerosSuppressedWithoutRule === 0,
      note: `${check.zerosSuppressed} zeros suppressed in all: 0% shares, and zero parts of a primary zero total`,
    },
    {
      issue: ISSUE,
      name: `${scale} release: programme cohorts of 100+ per arm with shares, difference and CI published`,
      value: check.largeCohortsPublished,
      unit: 'rows',
      reference: { name: 'such cohorts', value: check.largeCohorts },
      target: 'all',
      met: check.largeCohortsPublished === check.largeCohorts,
    },
    {
      issue: ISSUE,
      name: `${scale} release: wall time`,
      value: release.seconds,
      unit: 's',
      note: `peak ${release.peakMiB.toFixed(0)} MiB`,
    },
    {
      issue: ISSUE,
      name: `${scale} release: suppressed cells an attacker recovers or narrows below protection`,
      value: logSummary.attack.exactlyRecoverable + logSummary.attack.narrowedBelowProtection,
      unit: 'cells',
      target: '0',
      met: logSummary.attack.exactlyRecoverable + logSummary.attack.narrowedBelowProtection === 0,
      note: `of ${logSummary.attack.suppressedCells} suppressed`,
    },
  ];
}
