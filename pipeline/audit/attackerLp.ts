import type { Highs, Model } from 'highs';
import { log } from '../core/log.js';

/**
 * The attacker's linear programmes (docs/design.md, "Disclosure control"): with
 * every published cell fixed and every additive relation of the released
 * tables as an equation, how low and how high can a suppressed cell be? The
 * cell is protected when that interval is at least its protection level wide.
 * Solved with HiGHS, here, from the released values alone, so the verdict
 * does not depend on the release stage's own suppression code.
 */

/** What the attacker knows of a cell: an exact value (published), an interval (rounded), or only ≥ 0 (suppressed). */
export interface CellBounds {
  readonly lower: number;
  /** Infinity when unbounded above. */
  readonly upper: number;
}

/** Σ coefficient · cell = 0, e.g. a margin: the inner cells minus their Total. */
export interface Equation {
  readonly terms: readonly { readonly key: string; readonly coefficient: number }[];
  /** Where the equation came from, for findings about inconsistent margins. */
  readonly origin: string;
}

export type Interval = { readonly min: number; readonly max: number };

export interface LpOutcome {
  /** Feasible interval per target cell; absent for cells in a system with no solution. */
  readonly intervals: ReadonlyMap<string, Interval>;
  /** Equations that published values alone already violate, and target cells whose system of equations has no solution. */
  readonly inconsistent: readonly { readonly origin: string; readonly cells: readonly string[] }[];
  readonly programmesSolved: number;
}

const TOLERANCE = 1e-6;

/**
 * At most this many rounds of probes per system, and only while each settles
 * at least one open target in twenty.
 */
const PROBE_ROUNDS = 12;
const PROBE_GAIN = 0.95;

let loaded: Promise<Highs> | undefined;
async function loadHighs(): Promise<Highs> {
  // highs ships its types as CommonJS, but Node loads its ES module build, whose default export is the loader.
  loaded ??= import('highs').then((m) => (m.default as unknown as () => Promise<Highs>)());
  return loaded;
}

/**
 * `enough`: a width that settles a cell as protected. Every solution HiGHS
 * finds is a table the attacker cannot rule out, so once the values a cell
 * took across those solutions span `enough`, its own two programmes are
 * skipped and its interval is reported as that (narrower, still sufficient)
 * span. To find such solutions early, each system first gets probes (all
 * targets up, all down, then mixed directions), and a target that a direction of the equations lets
 * grow without limit is reported as [lowest seen, ∞) without programmes of its
 * own. A target whose span stays below `enough` always gets its exact minimum
 * and maximum, so every finding's width is exact. Without `enough`, every
 * target's interval is exact.
 */
export async function attackerIntervals(
  bounds: ReadonlyMap<string, CellBounds>,
  equations: readonly Equation[],
  targets: readonly string[],
  enough = Infinity,
): Promise<LpOutcome> {
  const isFixed = (key: string) => {
    const b = bounds.get(key);
    return b !== undefined && b.upper - b.lower <= TOLERANCE;
  };
  const inconsistent: { origin: string; cells: string[] }[] = [];
  // Published cells move to the right-hand side; an equation with nothing left to vary must already hold.
  const reduced: { vars: { key: string; coefficient: number }[]; rhs: number; origin: string }[] = [];
  for (const eq of equations) {
    let rhs = 0;
    const vars: { key: string; coefficient: number }[] = [];
    for (const t of eq.terms) {
      if (isFixed(t.key)) rhs -= t.coefficient * (bounds.get(t.key)?.lower ?? 0);
      else vars.push(t);
    }
    if (vars.length === 0) {
      if (Math.abs(rhs) > TOLERANCE) inconsistent.push({ origin: eq.origin, cells: eq.terms.map((t) => t.key) });
    } else {
      reduced.push({ vars, rhs, origin: eq.origin });
    }
  }

  // Cells only constrain each other within a connected system of equations; solve each system on its own.
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root) ?? root;
    parent.set(k, root);
    return root;
  };
  for (const eq of reduced) {
    const first = eq.vars[0];
    if (first === undefined) continue;
    for (const v of eq.vars) {
      const a = find(first.key);
      const b = find(v.key);
      if (a !== b) parent.set(b, a);
    }
  }
  const systemOf = new Map<string, typeof reduced>();
  for (const eq of reduced) {
    const root = find(eq.vars[0]?.key ?? '');
    const list = systemOf.get(root) ?? [];
    list.push(eq);
    systemOf.set(root, list);
  }

  const highs = await loadHighs();
  const intervals = new Map<string, Interval>();
  let programmesSolved = 0;
  const targetsBySystem = new Map<string, string[]>();
  for (const target of targets) {
    if (!parent.has(target)) {
      // In no equation (or published elsewhere, hence fixed): the attacker knows exactly its own bounds.
      const own = bounds.get(target) ?? { lower: 0, upper: Infinity };
      intervals.set(target, { min: own.lower, max: own.upper });
      continue;
    }
    const root = find(target);
    const list = targetsBySystem.get(root) ?? [];
    list.push(target);
    targetsBySystem.set(root, list);
  }
  for (const [root, systemTargets] of targetsBySystem) {
    // The solver is synchronous: between systems, let other work of the audit (DuckDB results) proceed.
    await new Promise((resolve) => setImmediate(resolve));
    const system = systemOf.get(root) ?? [];
    const started = performance.now();
    const solved = solveSystem(highs, system, bounds, systemTargets, enough);
    programmesSolved += solved.programmes;
    log().debug(
      {
        equations: system.length,
        targets: systemTargets.length,
        programmes: solved.programmes,
        ms: Math.round(performance.now() - started),
      },
      'audit: attacker system solved',
    );
    if (solved.intervals === null) {
      inconsistent.push({ origin: system[0]?.origin ?? 'released table', cells: systemTargets });
      continue;
    }
    for (const [key, interval] of solved.intervals) intervals.set(key, interval);
  }
  return { intervals, inconsistent, programmesSolved };
}

/**
 * Min and max of every target in one system, on one HiGHS model: only the
 * objective changes between programmes, so each solve starts from the last
 * basis instead of re-reading the model. Null when the system has no solution.
 */
function solveSystem(
  highs: Highs,
  system: readonly { vars: { key: string; coefficient: number }[]; rhs: number }[],
  bounds: ReadonlyMap<string, CellBounds>,
  targets: readonly string[],
  enough: number,
): { intervals: Map<string, Interval> | null; programmes: number } {
  const { model, columns } = systemModel(highs, system, bounds);
  let programmes = 0;
  try {
    // Only the objective changes between programmes: the last basis stays feasible, so primal simplex restarts from it
    // (dual simplex would first have to repair dual feasibility, which costs as much as a fresh solve on large systems).
    model.options.set({ output_flag: false, simplex_strategy: 4 });
    const { minimize, maximize } = highs.constants.objectiveSense;
    const status = highs.constants.modelStatus;
    const intervals = new Map<string, Interval>();
    const colOf = new Map<string, number>();
    for (const target of targets) {
      const col = columns.get(target);
      if (col !== undefined) colOf.set(target, col);
    }
    // The lowest and highest value each target took in any solution found so far.
    const seen = new Map<number, { low: number; high: number }>();
    const remember = () => {
      const values = model.getSolution().colValue;
      for (const col of colOf.values()) {
        const v = values[col];
        if (v === undefined) continue;
        const range = seen.get(col);
        if (range === undefined) seen.set(col, { low: v, high: v });
        else {
          range.low = Math.min(range.low, v);
          range.high = Math.max(range.high, v);
        }
      }
    };
    let unboundedAbove = new Set<string>();
    if (Number.isFinite(enough) && colOf.size > 1) {
      const settled = (col: number): boolean => {
        const range = seen.get(col);
        return range !== undefined && range.high - range.low >= enough;
      };
      const probed = probe(highs, model, system, bounds, columns, [...colOf.values()], enough, remember, settled);
      programmes += probed.programmes;
      // A ray only proves a target unbounded once the system is known to have a solution at all.
      if (seen.size > 0 && probed.ceilingReached) {
        unboundedAbove = targetsUnboundedAbove(highs, system, bounds, targets);
        programmes++;
      }
    }
    let previous: number | undefined;
    for (const target of targets) {
      const col = colOf.get(target);
      if (col === undefined) continue;
      const known = seen.get(col);
      if (known !== undefined && unboundedAbove.has(target)) {
        intervals.set(target, { min: known.low, max: Infinity });
        continue;
      }
      if (known !== undefined && known.high - known.low >= enough) {
        intervals.set(target, { min: known.low, max: known.high });
        continue;
      }
      if (previous !== undefined) model.changeColCost(previous, 0);
      model.changeColCost(col, 1);
      previous = col;
      const extreme = (sense: typeof minimize): number | 'infeasible' => {
        model.changeObjectiveSense(sense);
        model.run();
        programmes++;
        const code = model.getModelStatus();
        if (code === status.optimal) {
          remember();
          return model.getObjectiveValue();
        }
        if (code === status.infeasible) return 'infeasible';
        if (code === status.unbounded) return sense === maximize ? Infinity : -Infinity;
        // Presolve could not tell infeasible from unbounded, or stopped early: settle it with a fresh solve without presolve.
        const { text, names } = lpText(system, bounds);
        return solveOnce(
          highs,
          `${sense === maximize ? 'Maximize' : 'Minimize'}\n obj: ${names.get(target) ?? 'x0'}\n${text.slice(text.indexOf('Subject To'))}`,
        );
      };
      if (known !== undefined) {
        // The probes have pushed every target down already; the top is what is still unknown.
        const max = extreme(maximize);
        if (max === 'infeasible') return { intervals: null, programmes };
        const low = seen.get(col)?.low ?? known.low;
        if (max - low >= enough) {
          intervals.set(target, { min: low, max });
          continue;
        }
        const min = extreme(minimize);
        if (min === 'infeasible') return { intervals: null, programmes };
        intervals.set(target, { min, max });
        continue;
      }
      const min = extreme(minimize);
      if (min === 'infeasible') return { intervals: null, programmes };
      const reached = seen.get(col);
      if (reached !== undefined && reached.high - min >= enough) {
        intervals.set(target, { min, max: reached.high });
        continue;
      }
      const max = extreme(maximize);
      if (max === 'infeasible') return { intervals: null, programmes };
      intervals.set(target, { min, max });
    }
    return { intervals, programmes };
  } finally {
    model.dispose();
  }
}

/**
 * Programmes over all targets at once, before any target's own: push them all
 * up, then all down, then — while each mixed round still settles at least
 * one open target in twenty — push half of the open ones up and half down (and the
 * reverse), a different half each round. Where a published total fixes the
 * sum of its suppressed parts, pushing them all one way moves none of them;
 * mixed directions do. On the small demo's largest system (3,101 targets) the
 * first pair left 2,586 open. Cells without an upper bound get a temporary
 * finite ceiling for these, so that the programmes have optimal solutions: a
 * ceiling only shrinks the attacker's feasible set, so every solution found
 * is still a table the attacker cannot rule out. The model's bounds and costs
 * are restored afterwards.
 *
 * `ceilingReached`: whether pushing all targets up stopped at a ceiling. If no
 * cell reached one, no target can grow without limit (a direction raising one
 * would have raised the sum further), so there is no need to look for one.
 */
function probe(
  highs: Highs,
  model: Model,
  system: readonly { vars: { key: string; coefficient: number }[]; rhs: number }[],
  bounds: ReadonlyMap<string, CellBounds>,
  columns: ReadonlyMap<string, number>,
  targetCols: readonly number[],
  enough: number,
  remember: () => void,
  settled: (col: number) => boolean,
): { programmes: number; ceilingReached: boolean } {
  let largest = 0;
  for (const eq of system) largest = Math.max(largest, Math.abs(eq.rhs));
  for (const key of columns.keys()) {
    const b = bounds.get(key);
    if (b !== undefined)
      largest = Math.max(largest, Math.abs(b.lower), Number.isFinite(b.upper) ? Math.abs(b.upper) : 0);
  }
  const ceiling = 2 * largest + 4 * enough + 100;
  const unbounded: { col: number; lower: number; ceiling: number }[] = [];
  for (const [key, col] of columns) {
    const b = bounds.get(key) ?? { lower: 0, upper: Infinity };
    if (Number.isFinite(b.upper)) continue;
    const own = Math.max(ceiling, b.lower + 2 * enough);
    model.changeColBounds(col, b.lower, own);
    unbounded.push({ col, lower: b.lower, ceiling: own });
  }
  const { minimize, maximize } = highs.constants.objectiveSense;
  let programmes = 0;
  // Unknown (so assumed reached) unless the upward push ends at an optimum below every ceiling.
  let ceilingReached = true;
  try {
    let open = [...targetCols];
    for (let round = 0; round < PROBE_ROUNDS && open.length > 1; round++) {
      for (const col of open) model.changeColCost(col, probeDirection(round, col));
      for (const sense of [maximize, minimize]) {
        model.changeObjectiveSense(sense);
        model.run();
        programmes++;
        if (model.getModelStatus() !== highs.constants.modelStatus.optimal) continue;
        remember();
        if (round === 0 && sense === maximize) {
          const values = model.getSolution().colValue;
          ceilingReached = unbounded.some(
            ({ col, ceiling: top }) => (values[col] ?? top) >= top - 1e-3 * Math.max(1, top),
          );
        }
      }
      for (const col of open) model.changeColCost(col, 0);
      const before = open.length;
      open = open.filter((col) => !settled(col));
      // Pushing all one way can move nothing at all (a published grand total fixes their sum): the first mixed
      // round is always tried.
      if (round > 0 && open.length > PROBE_GAIN * before) break;
    }
  } finally {
    for (const col of targetCols) model.changeColCost(col, 0);
    for (const { col, lower } of unbounded) model.changeColBounds(col, lower, Infinity);
  }
  return { programmes, ceilingReached };
}

/**
 * The targets that can grow without limit, by one programme over directions
 * rather than tables: a direction d with every equation still holding (Σ
 * coefficient · d = 0), d ≥ 0 on cells without an upper bound and d = 0 on
 * cells with one can be added to any solution any number of times. Directions
 * add up, so one programme (maximise Σ min(d_t, 1)) finds a direction that
 * raises every target that has one. Valid only for a system with a solution.
 */
function targetsUnboundedAbove(
  highs: Highs,
  system: readonly { vars: { key: string; coefficient: number }[]; rhs: number }[],
  bounds: ReadonlyMap<string, CellBounds>,
  targets: readonly string[],
): Set<string> {
  const names = new Map<string, string>();
  const name = (key: string) => {
    let n = names.get(key);
    if (n === undefined) {
      n = `d${names.size}`;
      names.set(key, n);
    }
    return n;
  };
  const rows = system.map(
    (eq, i) =>
      ` c${i}: ${eq.vars.map((v, j) => `${v.coefficient < 0 ? '-' : j === 0 ? '' : '+'} ${Math.abs(v.coefficient)} ${name(v.key)}`).join(' ')} = 0`,
  );
  const inSystem = targets.filter((t) => names.has(t));
  inSystem.forEach((t, i) => rows.push(` r${i}: z${i} - ${name(t)} <= 0`));
  const boundLines = [...names].map(([key, n]) =>
    Number.isFinite(bounds.get(key)?.upper ?? Infinity) ? ` ${n} = 0` : ` ${n} >= 0`,
  );
  inSystem.forEach((_, i) => boundLines.push(` 0 <= z${i} <= 1`));
  const text = `Maximize\n obj: ${inSystem.map((_, i) => `z${i}`).join(' + ') || '0 d0'}\nSubject To\n${rows.join('\n')}\nBounds\n${boundLines.join('\n')}\nEnd\n`;
  const found = new Set<string>();
  const model = highs.createModel({ format: 'lp', data: text });
  try {
    model.options.set({ output_flag: false });
    model.run();
    if (model.getModelStatus() !== highs.constants.modelStatus.optimal) return found;
    const values = model.getSolution().colValue;
    inSystem.forEach((t, i) => {
      // z_t > 0 needs d_t > 0; half a unit leaves the solver's tolerances far behind.
      if ((values[model.getColByName(`z${i}`)] ?? 0) > 0.5) found.add(t);
    });
  } finally {
    model.dispose();
  }
  return found;
}

/**
 * One system as a HiGHS model, passed as arrays (no LP text to write and
 * parse): a column per cell in order of first appearance, a row per equation
 * fixed to its right-hand side, every cost zero until a programme sets one.
 */
function systemModel(
  highs: Highs,
  system: readonly { vars: { key: string; coefficient: number }[]; rhs: number }[],
  bounds: ReadonlyMap<string, CellBounds>,
): { model: Model; columns: Map<string, number> } {
  const columns = new Map<string, number>();
  const starts = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const eq of system) {
    // A cell named twice in one equation is one column with the coefficients added (as an LP file reads it).
    const row = new Map<number, number>();
    for (const v of eq.vars) {
      let col = columns.get(v.key);
      if (col === undefined) {
        col = columns.size;
        columns.set(v.key, col);
      }
      row.set(col, (row.get(col) ?? 0) + v.coefficient);
    }
    for (const [col, coefficient] of row) {
      indices.push(col);
      values.push(coefficient);
    }
    starts.push(indices.length);
  }
  const colLower: number[] = [];
  const colUpper: number[] = [];
  for (const key of columns.keys()) {
    const b = bounds.get(key) ?? { lower: 0, upper: Infinity };
    colLower.push(b.lower);
    colUpper.push(Number.isFinite(b.upper) ? b.upper : highs.infinity);
  }
  const rhs = system.map((eq) => eq.rhs);
  const model = highs.createModel({
    numCols: columns.size,
    numRows: system.length,
    colCost: new Array<number>(columns.size).fill(0),
    colLower,
    colUpper,
    rowLower: rhs,
    rowUpper: rhs,
    matrix: { format: 'csr', numRows: system.length, numCols: columns.size, starts, indices, values },
  });
  return { model, columns };
}

function lpText(
  system: readonly { vars: { key: string; coefficient: number }[]; rhs: number }[],
  bounds: ReadonlyMap<string, CellBounds>,
): { text: string; names: Map<string, string> } {
  const names = new Map<string, string>();
  const name = (key: string) => {
    let n = names.get(key);
    if (n === undefined) {
      n = `x${names.size}`;
      names.set(key, n);
    }
    return n;
  };
  const rows = system.map(
    (eq, i) =>
      ` c${i}: ${eq.vars.map((v, j) => `${v.coefficient < 0 ? '-' : j === 0 ? '' : '+'} ${Math.abs(v.coefficient)} ${name(v.key)}`).join(' ')} = ${eq.rhs}`,
  );
  const boundLines = [...names].map(([key, n]) => {
    const b = bounds.get(key) ?? { lower: 0, upper: Infinity };
    return Number.isFinite(b.upper) ? ` ${b.lower} <= ${n} <= ${b.upper}` : ` ${n} >= ${b.lower}`;
  });
  // The objective is set per programme; the file needs one, so it starts at zero weight.
  const text = `Minimize\n obj: 0 x0\nSubject To\n${rows.join('\n')}\nBounds\n${boundLines.join('\n')}\nEnd\n`;
  return { text, names };
}

function solveOnce(highs: Highs, lp: string): number | 'infeasible' {
  const maximize = lp.startsWith('Maximize');
  const result = highs.solve(lp, { output_flag: false, presolve: 'off' });
  switch (result.Status) {
    case 'Optimal':
      return result.ObjectiveValue;
    case 'Unbounded':
      return maximize ? Infinity : -Infinity;
    case 'Infeasible':
      return 'infeasible';
    default:
      throw new Error(`the LP solver stopped with status '${result.Status}' on an attacker's programme`);
  }
}

/**
 * Which way a probe round pushes a target column: every target up in the
 * first round; later rounds a pseudo-random half up and half down, different
 * per round and the same in every run (a hash of column and round).
 */
function probeDirection(round: number, col: number): 1 | -1 {
  if (round === 0) return 1;
  let h = (col + 1) * 0x2545f491 + round * 0x6c8e9cf5;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return (h & 1) === 0 ? 1 : -1;
}
