import highsModule, { type Highs, type InitOptions, type Model } from 'highs';

// The package's types describe its CommonJS build; under ESM its default export is the loader itself.
const loadHighs = highsModule as unknown as (options?: InitOptions) => Promise<Highs>;

/**
 * The LP/MIP solver (HiGHS compiled to WebAssembly). Loaded once per process:
 * instantiating the Wasm module costs far more than one of our small LPs.
 */
let loading: Promise<Highs> | undefined;

export function loadSolver(): Promise<Highs> {
  loading ??= loadHighs();
  return loading;
}

/** A sparse linear system `rowLower ≤ A·x ≤ rowUpper` with column bounds and costs, built column by column. */
export interface SparseLp {
  readonly numCols: number;
  readonly numRows: number;
  readonly colCost: Float64Array;
  readonly colLower: Float64Array;
  readonly colUpper: Float64Array;
  readonly rowLower: Float64Array;
  readonly rowUpper: Float64Array;
  /** CSC: column j's entries are indices/values[starts[j]..starts[j+1]). */
  readonly starts: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float64Array;
  readonly integrality?: Int32Array;
  readonly maximize?: boolean;
}

export function createModel(highs: Highs, lp: SparseLp): Model {
  const model = highs.createModel({
    numCols: lp.numCols,
    numRows: lp.numRows,
    sense: lp.maximize === true ? highs.constants.objectiveSense.maximize : highs.constants.objectiveSense.minimize,
    colCost: lp.colCost,
    colLower: lp.colLower,
    colUpper: lp.colUpper,
    rowLower: lp.rowLower,
    rowUpper: lp.rowUpper,
    matrix: {
      format: 'csc',
      numRows: lp.numRows,
      numCols: lp.numCols,
      starts: lp.starts,
      indices: lp.indices,
      values: lp.values,
    },
    ...(lp.integrality === undefined ? {} : { integrality: lp.integrality }),
  });
  model.options.set({ output_flag: false, solver: 'simplex' });
  return model;
}

export type SolveOutcome = 'optimal' | 'infeasible' | 'unbounded' | 'other';

export function outcome(highs: Highs, model: Model): SolveOutcome {
  const status = model.getModelStatus();
  const codes = highs.constants.modelStatus;
  if (status === codes.optimal) return 'optimal';
  if (status === codes.infeasible) return 'infeasible';
  if (status === codes.unbounded || status === codes.unboundedOrInfeasible) return 'unbounded';
  return 'other';
}

/**
 * Solve, and return the simplex iterations it took: the solver's work, which
 * unlike its time does not change with the load on a shared machine.
 */
export function runModel(model: Model): number {
  model.run();
  const count = Number(model.info.get('simplex_iteration_count'));
  return Number.isFinite(count) && count > 0 ? count : 0;
}
