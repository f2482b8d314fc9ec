import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { workerEntry } from '../core/workerEntry.js';
import { attackerIntervals, type CellBounds, type Equation, type Interval, type LpOutcome } from './attackerLp.js';

/**
 * The attacker's programmes on threads of their own. HiGHS is synchronous:
 * on the main thread one large system (the small demo's outflow counts, 3,101
 * cells, about 7 s) holds up every DuckDB result the identifier scan waits
 * for, and the two checks that were meant to share the machine's two cores
 * run one after the other.
 */
interface AttackerJob {
  readonly kind: 'boldlink-audit-attacker';
  readonly bounds: ReadonlyMap<string, CellBounds>;
  readonly equations: readonly Equation[];
  readonly targets: readonly string[];
  readonly enough: number;
}

export async function attackerIntervalsOnThread(
  bounds: ReadonlyMap<string, CellBounds>,
  equations: readonly Equation[],
  targets: readonly string[],
  enough: number,
): Promise<LpOutcome> {
  const entry = workerEntry(import.meta.url);
  if (entry === undefined) return attackerIntervals(bounds, equations, targets, enough);
  // Two threads, each with every system but half the targets (every other one): the largest system's own
  // programmes per target are about half its time, and the machine has two cores. Which thread settles a target
  // changes only how wide a settled target is shown to be (it is at least `enough` either way); a target that
  // is not settled gets its exact interval on either.
  const shards = [0, 1].map((shard) => targets.filter((_, i) => i % 2 === shard));
  const outcomes = await Promise.all(
    shards.map((shard) =>
      onWorker(entry, { kind: 'boldlink-audit-attacker', bounds, equations, targets: shard, enough }),
    ),
  );
  return mergeOutcomes(outcomes);
}

function onWorker(entry: string, job: AttackerJob): Promise<LpOutcome> {
  const worker = new Worker(entry, { workerData: job });
  return new Promise<LpOutcome>((resolve, reject) => {
    let outcome: LpOutcome | undefined;
    worker.once('message', (message: LpOutcome) => {
      outcome = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (outcome !== undefined) resolve(outcome);
      else reject(new Error(`the attacker's programmes stopped without a result (worker exit code ${code})`));
    });
  });
}

/** One outcome from the shards': each equation or system found inconsistent once, with the cells of every shard. */
function mergeOutcomes(outcomes: readonly LpOutcome[]): LpOutcome {
  const intervals = new Map<string, Interval>();
  const inconsistent = new Map<string, Set<string>>();
  let programmesSolved = 0;
  for (const outcome of outcomes) {
    for (const [key, interval] of outcome.intervals) intervals.set(key, interval);
    for (const bad of outcome.inconsistent) {
      const cells = inconsistent.get(bad.origin) ?? new Set<string>();
      for (const cell of bad.cells) cells.add(cell);
      inconsistent.set(bad.origin, cells);
    }
    programmesSolved += outcome.programmesSolved;
  }
  return {
    intervals,
    inconsistent: [...inconsistent].map(([origin, cells]) => ({ origin, cells: [...cells] })),
    programmesSolved,
  };
}

if (!isMainThread && (workerData as Partial<AttackerJob> | null)?.kind === 'boldlink-audit-attacker') {
  const job = workerData as AttackerJob;
  const outcome = await attackerIntervals(job.bounds, job.equations, job.targets, job.enough);
  parentPort!.postMessage(outcome);
}
