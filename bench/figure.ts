/**
 * One row of the benchmark table: a measured figure, the reference it is
 * compared to (measured in the same run, on the same machine), and the ratio.
 */
export interface BenchFigure {
  /** The issue that asks for this figure. */
  readonly issue: number;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: { readonly name: string; readonly value: number };
  /** value / reference (or reference / value when `higherIsBetter`), as the target is phrased. */
  readonly ratio?: number;
  /** The target as the issue phrases it, e.g. '≥ 4×' or '≤ 1.2×'. */
  readonly target?: string;
  readonly met?: boolean;
  readonly note?: string;
}

export interface BenchContext {
  /** Scratch directory for this suite; removed afterwards. */
  readonly workDir: string;
  /** `BOLDLINK_BENCH_SCALE`, default 'city'; suites may run smaller scales as well. */
  readonly scale: string;
  /** Print a progress line. */
  say(message: string): void;
}

export interface BenchSuite {
  readonly name: string;
  run(context: BenchContext): Promise<BenchFigure[]>;
}
