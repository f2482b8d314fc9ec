import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { attackerIntervals, type CellBounds, type Equation, type LpOutcome } from './attackerLp.js';

/**
 * The attacker's programmes on a thread of their own. HiGHS is synchronous:
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

export async function attackerIntervalsOnThread(bounds: ReadonlyMap<string, CellBounds>, equations: readonly Equation[], targets: readonly string[], enough: number): Promise<LpOutcome> {
  // Run from the TypeScript sources (the tests), there is no compiled module for a worker to load: solve here.
  if (!import.meta.url.endsWith('.js')) return attackerIntervals(bounds, equations, targets, enough);
  const job: AttackerJob = { kind: 'boldlink-audit-attacker', bounds, equations, targets, enough };
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: job });
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

if (!isMainThread && (workerData as Partial<AttackerJob> | null)?.kind === 'boldlink-audit-attacker') {
  const job = workerData as AttackerJob;
  const outcome = await attackerIntervals(job.bounds, job.equations, job.targets, job.enough);
  parentPort!.postMessage(outcome);
}
