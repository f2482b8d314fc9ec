import { SolverError } from '../../core/errors.js';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { workerEntry } from '../../core/workerEntry.js';
import type { Highs, Model } from 'highs';
import { createModel, loadSolver, outcome, runModel, type SolveOutcome, type SparseLp } from './solver.js';

/**
 * A second copy of one LP, solved beside the first: the attacker's sweeps
 * push a large group of cells up and down, two LPs of 50–150 ms each per
 * sweep that do not depend on each other, and the machine has two cores.
 *
 * HiGHS runs synchronously, so the twin lives on a worker thread when this
 * module runs compiled (the installed command). Run from the TypeScript
 * sources (the tests) there is no compiled module for a worker to load, and
 * the twin is a second model on this thread. Both apply the same operations
 * to their own model in the same order, so they give the same solutions:
 * where the twin runs changes the time a release takes, never what it
 * suppresses.
 */
export interface TwinModel {
  /** Solve with this cost on every column, in this sense; the twin keeps its basis from its own last solve. */
  solve(cost: Float64Array, sense: 'maximize' | 'minimize'): Promise<TwinSolution>;
  dispose(): void;
}

export interface TwinSolution {
  readonly outcome: SolveOutcome;
  readonly colValue: Float64Array;
  /** Simplex iterations of this solve. */
  readonly iterations: number;
}

export type TwinOptions = Readonly<Record<string, string | number | boolean>>;

export async function openTwin(lp: SparseLp, options: TwinOptions): Promise<TwinModel> {
  const entry = workerEntry(import.meta.url);
  if (entry === undefined) return new LocalTwin(await loadSolver(), lp, options);
  return TwinThread.shared(entry).open(lp, options);
}

/** One model and the cost vector it was last solved with: what both kinds of twin do with an operation. */
class TwinState {
  private readonly cost: Float64Array;
  readonly model: Model;

  constructor(
    private readonly highs: Highs,
    lp: SparseLp,
    options: TwinOptions,
  ) {
    this.model = createModel(highs, lp);
    this.model.options.set(options);
    this.cost = Float64Array.from(lp.colCost);
  }

  solve(cost: Float64Array, sense: 'maximize' | 'minimize'): TwinSolution {
    const changed: number[] = [];
    for (let j = 0; j < cost.length; j++) if (cost[j] !== this.cost[j]) changed.push(j);
    if (changed.length > 0) {
      this.model.changeColsCost(
        { kind: 'set', indices: Int32Array.from(changed) },
        Float64Array.from(changed, (j) => cost[j]!),
      );
      for (const j of changed) this.cost[j] = cost[j]!;
    }
    this.model.changeObjectiveSense(this.highs.constants.objectiveSense[sense]);
    const iterations = runModel(this.model);
    const result = outcome(this.highs, this.model);
    if (result !== 'optimal') return { outcome: result, colValue: new Float64Array(0), iterations };
    return { outcome: result, colValue: Float64Array.from(this.model.getSolution().colValue), iterations };
  }
}

class LocalTwin implements TwinModel {
  private readonly state: TwinState;

  constructor(highs: Highs, lp: SparseLp, options: TwinOptions) {
    this.state = new TwinState(highs, lp, options);
  }

  solve(cost: Float64Array, sense: 'maximize' | 'minimize'): Promise<TwinSolution> {
    return Promise.resolve(this.state.solve(cost, sense));
  }

  dispose(): void {
    this.state.model.dispose();
  }
}

type Request =
  | { readonly op: 'open'; readonly id: number; readonly lp: SparseLp; readonly options: TwinOptions }
  | {
      readonly op: 'solve';
      readonly id: number;
      readonly seq: number;
      readonly cost: Float64Array;
      readonly sense: 'maximize' | 'minimize';
    }
  | { readonly op: 'close'; readonly id: number };

type Reply =
  | { readonly seq: number; readonly solution: TwinSolution }
  | { readonly seq: number; readonly error: string };

const WORKER_KIND = 'boldlink-release-twin';

/**
 * The one worker thread of this process that holds twins. It keeps the
 * process alive only while a solve is outstanding.
 */
class TwinThread {
  private static instance: TwinThread | undefined;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (s: TwinSolution) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private nextSeq = 0;
  private failure: Error | undefined;

  static shared(entry: string): TwinThread {
    TwinThread.instance ??= new TwinThread(entry);
    return TwinThread.instance;
  }

  private constructor(entry: string) {
    this.worker = new Worker(entry, { workerData: { kind: WORKER_KIND } });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.seq);
      if (waiting === undefined) return;
      this.pending.delete(reply.seq);
      if (this.pending.size === 0) this.worker.unref();
      if ('error' in reply) waiting.reject(new SolverError(`The solver's second thread failed: ${reply.error}.`));
      else waiting.resolve(reply.solution);
    });
    const fail = (error: Error): void => {
      this.failure = error;
      if (TwinThread.instance === this) TwinThread.instance = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new SolverError(`The solver's second thread stopped (exit code ${code}).`)));
  }

  open(lp: SparseLp, options: TwinOptions): TwinModel {
    const id = this.nextId++;
    this.post({ op: 'open', id, lp, options });
    return {
      solve: (cost, sense) => {
        const seq = this.nextSeq++;
        return new Promise<TwinSolution>((resolve, reject) => {
          if (this.failure !== undefined) {
            reject(this.failure);
            return;
          }
          this.pending.set(seq, { resolve, reject });
          this.worker.ref();
          this.post({ op: 'solve', id, seq, cost, sense });
        });
      },
      dispose: () => {
        if (this.failure === undefined) this.post({ op: 'close', id });
      },
    };
  }

  private post(request: Request): void {
    this.worker.postMessage(request);
  }
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  const highs = await loadSolver();
  const models = new Map<number, TwinState>();
  parentPort!.on('message', (request: Request) => {
    switch (request.op) {
      case 'open':
        models.set(request.id, new TwinState(highs, request.lp, request.options));
        return;
      case 'close':
        models.get(request.id)?.model.dispose();
        models.delete(request.id);
        return;
      case 'solve': {
        let reply: Reply;
        try {
          const state = models.get(request.id);
          if (state === undefined) throw new Error(`no model ${request.id}`);
          reply = { seq: request.seq, solution: state.solve(request.cost, request.sense) };
        } catch (error) {
          reply = { seq: request.seq, error: error instanceof Error ? error.message : String(error) };
        }
        parentPort!.postMessage(reply);
      }
    }
  });
}
