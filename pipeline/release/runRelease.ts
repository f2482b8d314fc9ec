import { Duck } from '../core/duckdb.js';
import { log } from '../core/log.js';
import { StageInput } from '../core/stageInput.js';
import { bundleFromAggregate, bundleFromEffects } from './bundleTable.js';
import { type LoadedMetrics, loadMetrics } from './loadMetrics.js';
import { loadRules } from './loadRules.js';
import { publishBundle } from './publishBundle.js';
import { releaseEffects } from './releaseEffects.js';
import { AttackTally, type DisclosureLogEntry } from './disclosureLog.js';
import { releaseTables } from './releaseTables.js';
import { LpTally } from './sdc/lpTally.js';
import { describeUtility, overallUtility, publicUtility, publishedShare, type TableUtility } from './releaseUtility.js';
import { roundSeconds } from '../core/elapsed.js';

export interface ReleaseOptions {
  readonly input: string;
  readonly out: string;
  readonly rules?: string;
}

/** Disclosure control over a metrics output, then the release bundle and the internal disclosure log beside it. */
export async function runRelease(options: ReleaseOptions): Promise<{ outDir: string; logDir: string }> {
  const started = Date.now();
  const { rules, file: rulesFile } = await loadRules(options.rules);
  const input = await StageInput.open(options.input, { stage: 'metrics' });
  const duck = await Duck.open({ threads: 1 });
  let metrics: LoadedMetrics;
  try {
    metrics = await loadMetrics(input, duck);
  } finally {
    duck.close();
  }
  const result = await releaseTables(metrics.tables, rules);
  const logEntries: DisclosureLogEntry[] = [...result.log];
  const effects = [];
  let lpSolves = result.lpSolves;
  const attack = new AttackTally();
  attack.addAll(result.attack);
  const lps = new LpTally();
  lps.add(result.lps);
  const utility: Record<string, TableUtility> = Object.fromEntries(
    Object.entries(result.loss).map(([name, loss]) => [name, publicUtility(loss)]),
  );
  const loss: Record<string, unknown> = { ...result.loss };
  for (const e of metrics.effects) {
    const before = logEntries.length;
    const released = await releaseEffects(e, result.tables, rules, logEntries);
    effects.push(released.effects);
    lpSolves += released.lpSolves;
    attack.addAll(released.attack);
    lps.add(released.lps);
    utility[e.spec.name] = released.utility;
    const entries = logEntries.slice(before);
    loss[e.spec.name] = {
      ...released.utility,
      primaryValues: entries.filter((x) => x.suppression === 'primary').length,
      secondaryValues: entries.filter((x) => x.suppression === 'secondary').length,
    };
  }
  const tables = [...result.tables.map(bundleFromAggregate), ...effects.map(bundleFromEffects)];
  const written = await publishBundle({
    stage: 'release',
    outDir: options.out,
    parameters: { rules: rulesFile },
    rules,
    rulesFile,
    tables,
    utility,
    loss,
    log: logEntries,
    attack: attack.summary(),
    lpSolves,
    boundsRelaxed: result.boundsRelaxed,
    stageInput: input,
    title: 'boldlink release: outflow, durable outflow and job quality',
  });
  const overall = overallUtility(utility);
  log().info(
    {
      tables: tables.length,
      suppressedValues: overall.suppressed,
      publishedShare: Math.round(publishedShare(overall) * 1000) / 1000,
      lpSolves,
      attackLps: lps.attack,
      simplexIterations: lps.simplexIterations,
      seconds: roundSeconds((Date.now() - started) / 1000),
    },
    'release written',
  );
  process.stdout.write(
    `Released ${tables.length} tables to ${written.outDir}: ${describeUtility(overall)}; every suppressed cell passed the interval attack.\nDisclosure log (stays in the secure environment): ${written.logDir}\n`,
  );
  return written;
}
