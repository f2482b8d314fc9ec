import { SolverError } from '../../core/errors.js';
import type { Highs, Model } from 'highs';
import { type AttackOptions, attackIntervals } from './attack.js';
import { LpTally } from './lpTally.js';
import { createModel, loadSolver, outcome, runModel } from './solver.js';
import { floorOf, type Protection, type SuppressionProblem, type Witness } from './problem.js';

/** No pattern of suppressions can give this cell the interval it needs (e.g. bounds published elsewhere pin it). */
export class UnprotectableCellError extends Error {
  constructor(
    readonly cell: number,
    readonly why: string,
  ) {
    super(why);
  }
}

export interface SecondaryResult {
  /** 1 where the cell is suppressed (primary or secondary). */
  readonly suppressed: Uint8Array;
  readonly secondary: readonly number[];
  readonly lpSolves: number;
  /** Every alternative table the protection LPs found: the final check starts from them. */
  readonly witnesses: readonly Witness[];
  /** The attacker's LPs asked along the way. */
  readonly tally: LpTally;
}

const FLOW_EPSILON = 1e-7;

/**
 * Moving an already suppressed cell costs nothing in the pattern's loss, but
 * at cost 0 the LP is free to route the movement through hundreds of
 * suppressed cells, and the simplex wanders among those equal-cost routes. A
 * thousandth of the cell's weight makes it prefer short routes: on the small
 * demo's to_work problem (4,186 cells) it halved the simplex iterations
 * (243k → 133k) and the time of the whole-system LPs (36 → 19 s), for 8,260
 * suppressed values instead of 8,245.
 */
const SUPPRESSED_COST = 1e-3;

/**
 * Up to this many cells the protection LP is solved on the whole system
 * straight away: measured on the metrics tables (about 600 linked cells), a
 * cell's neighbourhood finds no pattern in four cases of ten (its linked
 * margins are pinned by the other tables), so trying it first cost more LPs
 * than it saved, and the whole system finds cheaper patterns.
 */
const WHOLE_SYSTEM_CELLS = 1_500;

/**
 * Neighbourhood proofs are given this many tries, then kept only while one
 * in this many proves its cell. On the benchmark table two in three do; on
 * the metrics' to_work problem (4,186 cells over nine linked tables and two
 * row relations) 11 in 1,089 did, for 7.1 of its 29 s.
 */
const PROOF_TRIAL = 50;
const PROOF_YIELD = 10;

/**
 * A whole-system proof is asked again once this many cells have been
 * suppressed since the last: on the tiny demo's to_work problem, 8 such
 * proofs showed 632 primary cells protected (5.6 s), where each would have
 * cost a whole-system protection LP of about 30 ms.
 */
const WHOLE_PROOF_EVERY = 20;

/**
 * Secondary suppression by protection LPs (the Fischetti–Salazar heuristic,
 * as tau-ARGUS' "modular"/"optimal" methods build on): for each primary cell
 * in turn, find the cheapest alternative table that moves the cell by its
 * protection width while leaving every published cell unchanged, where moving
 * an already suppressed cell is free and moving a published one costs its
 * weight; every cell the alternative moves is suppressed. The alternative is
 * itself the proof that the attacker's interval is at least that wide, and
 * suppressing more later only widens it.
 *
 * In large systems each LP is first solved on the cell's neighbourhood (its
 * siblings and parents in every dimension), which is exact as a proof and
 * small; only if no pattern exists there is the whole system used. Small
 * systems are solved whole at once. Before a cell gets its LP, the
 * attacker's own LP is asked whether the pattern so far already protects it:
 * on the benchmark table two cells in three are, and skip their LP. Every
 * alternative table found is kept as a witness of the cells it moves, and
 * before an LP on the whole system the attacker is asked about the whole
 * system: in linked tables with row relations most primary cells are shown
 * protected these two ways.
 */
export async function secondarySuppression(problem: SuppressionProblem): Promise<SecondaryResult> {
  const highs = await loadSolver();
  const tally = new LpTally();
  const n = problem.system.cellCount;
  const suppressed = new Uint8Array(n);
  for (const cell of problem.primary.keys()) suppressed[cell] = 1;
  const order = [...problem.primary.entries()].sort(
    ([a, pa], [b, pb]) => pb.width - pa.width || problem.value[a]! - problem.value[b]! || a - b,
  );
  const secondary: number[] = [];
  const models = new ModelCache(highs, problem);
  const wholeFirst = n <= WHOLE_SYSTEM_CELLS;
  const witnessed = new WitnessedRanges(problem);
  let lpSolves = 0;
  try {
    // Primary cells already shown protected: by the range earlier alternative tables moved them across, or by the
    // attacker's own LPs on the current pattern. Either proof stays valid while suppression only grows.
    const proven = new Set<number>();
    // Most primary cells are protected by the other primary cells around them, or by what an earlier pattern
    // suppressed: a sweep or two of the attacker's LP shows that for many at once, where each would otherwise cost
    // a protection LP of its own that finds nothing to add. In a large system the attacker is asked about the
    // target's neighbourhood only, knowing every cell outside it: a stronger attacker, so still a proof, and a
    // smaller LP. It is asked again only after a suppression inside that neighbourhood.
    const looked = new Map<string, { readonly inside: Uint8Array | undefined; seen: number }>();
    const proveAround = async (region: Int32Array | undefined): Promise<void> => {
      const key = regionKey(region);
      let state = looked.get(key);
      let touching: Set<number> | undefined;
      if (state === undefined) {
        state = { inside: region === undefined ? undefined : membership(n, region), seen: 0 };
        looked.set(key, state);
      } else {
        const inside = state.inside;
        touching = new Set(secondary.slice(state.seen).filter((c) => inside === undefined || inside[c] === 1));
      }
      state.seen = secondary.length;
      if (touching !== undefined && touching.size === 0) return;
      const pending = new Set<number>();
      for (const [cell, protection] of order) {
        if (protection.width > 0 && !proven.has(cell) && (state.inside === undefined || state.inside[cell] === 1))
          pending.add(cell);
      }
      if (pending.size === 0) return;
      const shown = await attackIntervals(problem, suppressed, pending, {
        tally,
        proveOnly: true,
        ...(state.inside === undefined ? {} : { within: state.inside }),
        ...(touching === undefined ? {} : { touching }),
      });
      for (const cell of shown.keys()) proven.add(cell);
    };
    // Whether asking the attacker about a neighbourhood still pays: in a system of many linked tables and row
    // relations its stronger attacker (every cell outside known) narrows nearly every cell, and the question
    // costs more than the few protection LPs it saves.
    const nearProofs = { asked: 0, proved: 0 };
    let wholeProofAt = -1;
    for (const [cell, protection] of order) {
      if (protection.width <= 0 || proven.has(cell)) continue;
      const near = wholeFirst ? undefined : problem.system.region(cell);
      if (near === undefined || nearProofs.asked < PROOF_TRIAL || nearProofs.proved * PROOF_YIELD >= nearProofs.asked) {
        await proveAround(near);
        if (near !== undefined) {
          nearProofs.asked++;
          if (proven.has(cell)) nearProofs.proved++;
        }
      }
      if (proven.has(cell)) continue;
      const plans = plansFor(problem, cell, protection);
      if (plans.length === 0) {
        throw new UnprotectableCellError(
          cell,
          `its value ${problem.value[cell]} cannot move ${protection.width} within [${floorOf(problem, cell)}, ${problem.upper[cell]}]`,
        );
      }
      let protectedNow = false;
      for (const plan of plans) {
        if (plan.length === 1 && protectedByHypercube(problem, cell, plan[0]!.direction, plan[0]!.amount, suppressed)) {
          protectedNow = true;
          break;
        }
        let planWorks = true;
        for (const step of plan) {
          let added: number[] | undefined;
          for (const region of near === undefined ? [undefined] : [near, undefined]) {
            if (region === undefined && near !== undefined && secondary.length - wholeProofAt >= WHOLE_PROOF_EVERY) {
              // The neighbourhood had no pattern: before an LP on the whole system, ask the attacker about the
              // whole system, for every primary cell still open at once (again only once the pattern has grown).
              wholeProofAt = secondary.length;
              await proveAround(undefined);
              if (proven.has(cell)) {
                added = [];
                break;
              }
            }
            lpSolves++;
            added = models.get(region).solve(suppressed, cell, step.direction, step.amount, witnessed, proven);
            if (added !== undefined || region === undefined || region.length === n) break;
          }
          if (added === undefined) {
            planWorks = false;
            break;
          }
          for (const c of added) {
            suppressed[c] = 1;
            secondary.push(c);
          }
        }
        if (planWorks) {
          protectedNow = true;
          break;
        }
      }
      if (!protectedNow) {
        throw new UnprotectableCellError(
          cell,
          `no set of extra suppressions lets it move by ${protection.width} while the published cells stay consistent`,
        );
      }
    }
  } finally {
    models.dispose();
  }
  const kept = await removeRedundant(problem, suppressed, secondary, witnessed.tables, tally);
  return { suppressed, secondary: kept, lpSolves, witnesses: witnessed.tables, tally };
}

/**
 * The range each primary cell takes across the alternative tables found so
 * far, and the true table. Every one of them stays a table the attacker
 * cannot rule out (suppression only grows), so a range as wide as the cell's
 * protection proves it: one table may move it 6 up, another 5 down.
 */
class WitnessedRanges {
  readonly tables: Witness[] = [];
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;

  constructor(private readonly problem: SuppressionProblem) {
    this.lo = Float64Array.from(problem.value);
    this.hi = Float64Array.from(problem.value);
  }

  /** Keep one alternative table; returns the primary cells it proves protected. */
  add(cells: readonly number[], deltas: readonly number[]): number[] {
    this.tables.push({ cells: Int32Array.from(cells), deltas: Float64Array.from(deltas) });
    const proved: number[] = [];
    cells.forEach((cell, k) => {
      const need = this.problem.primary.get(cell)?.width;
      if (need === undefined || need <= 0) return;
      const v = this.problem.value[cell]! + deltas[k]!;
      if (v < this.lo[cell]!) this.lo[cell] = v;
      if (v > this.hi[cell]!) this.hi[cell] = v;
      if (this.hi[cell]! - this.lo[cell]! >= need - 1e-9) proved.push(cell);
    });
    return proved;
  }
}

const regionKeys = new WeakMap<Int32Array, string>();

function regionKey(region: Int32Array | undefined): string {
  if (region === undefined) return 'all';
  let key = regionKeys.get(region);
  if (key === undefined) {
    key = region.join(',');
    regionKeys.set(region, key);
  }
  return key;
}

function membership(n: number, cells: Int32Array): Uint8Array {
  const inside = new Uint8Array(n);
  for (const c of cells) inside[c] = 1;
  return inside;
}

/**
 * How much solver work (simplex iterations × LP columns, LpTally.work) the
 * cleanup may spend per problem: deterministic, so that the same input gives
 * the same pattern on any machine. The benchmark table's whole cleanup takes
 * 5.3e7 (350 secondary cells, 72 published again); the small demo's to_work
 * problem (4,186 linked cells, 739 secondary) would take about 4e9 for 119,
 * so there the heaviest cells are tried first and the rest stay suppressed.
 */
const CLEANUP_WORK = 1e8;

/**
 * The greedy pass can leave suppressions that a later pattern made
 * unnecessary. Try to publish each secondary cell again, most informative
 * (heaviest) first, and keep it published when every primary cell still has
 * its protection by the interval attack. Publishing a cell changes only the
 * attacker's group that held it: the others keep their proofs, so only that
 * group is asked again; the alternative tables found so far that leave the
 * cell as it is still hold and prove most primary cells without an LP.
 */
async function removeRedundant(
  problem: SuppressionProblem,
  suppressed: Uint8Array,
  secondary: readonly number[],
  witnesses: readonly Witness[],
  tally: LpTally,
): Promise<number[]> {
  const primaries = new Set([...problem.primary.entries()].filter(([, p]) => p.width > 0).map(([c]) => c));
  if (secondary.length === 0) return [...secondary];
  const { system } = problem;
  const kept = new Set(secondary);
  const budget = tally.work + CLEANUP_WORK;
  for (const cell of [...secondary].sort((a, b) => problem.weight[b]! - problem.weight[a]! || a - b)) {
    if (tally.work > budget) break;
    suppressed[cell] = 0;
    // The attacker's groups that held the cell: those of its suppressed neighbours.
    const touching = new Set<number>();
    for (let k = system.cellStarts[cell]!; k < system.cellStarts[cell + 1]!; k++) {
      const r = system.cellRelations[k]!;
      for (let j = system.relationStarts[r]!; j < system.relationStarts[r + 1]!; j++) {
        const other = system.relationCells[j]!;
        if (suppressed[other] === 1) touching.add(other);
      }
    }
    const protects = (intervals: ReadonlyMap<number, { lo: number; hi: number }>, p: number) => {
      const interval = intervals.get(p);
      return interval !== undefined && interval.hi - interval.lo + 1e-6 >= problem.primary.get(p)!.width;
    };
    // Primaries of the touched groups: first what the witnesses show; then, since a cell is most often needed by
    // the primary cells it shares a relation with, those exactly (most candidates fail there, and cheaply); then
    // the rest by sweeps, and what the sweeps leave exactly.
    const touched = new Set(await groupsOf(problem, suppressed, primaries, touching));
    const unproved = async (cells: Set<number>, options: AttackOptions): Promise<Set<number>> => {
      if (cells.size === 0) return cells;
      const shown = await attackIntervals(problem, suppressed, cells, { tally, witnesses, ...options });
      return new Set([...cells].filter((p) => !protects(shown, p)));
    };
    let open = await unproved(touched, { proveOnly: true, witnessesOnly: true });
    const near = new Set([...open].filter((p) => touching.has(p)));
    let safe = (await unproved(near, {})).size === 0;
    if (safe) {
      open = await unproved(new Set([...open].filter((p) => !near.has(p))), { proveOnly: true });
      safe = (await unproved(open, {})).size === 0;
    }
    if (safe) kept.delete(cell);
    else suppressed[cell] = 1;
  }
  return secondary.filter((c) => kept.has(c));
}

/** The primary cells in the attacker's groups that hold one of `touching` (cells linked through unknown cells). */
async function groupsOf(
  problem: SuppressionProblem,
  suppressed: Uint8Array,
  primaries: ReadonlySet<number>,
  touching: ReadonlySet<number>,
): Promise<number[]> {
  const { system } = problem;
  const seen = new Uint8Array(system.cellCount);
  const stack = [...touching];
  for (const c of stack) seen[c] = 1;
  const found: number[] = [];
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (primaries.has(c)) found.push(c);
    for (let k = system.cellStarts[c]!; k < system.cellStarts[c + 1]!; k++) {
      const r = system.cellRelations[k]!;
      for (let j = system.relationStarts[r]!; j < system.relationStarts[r + 1]!; j++) {
        const other = system.relationCells[j]!;
        if (seen[other] === 1 || suppressed[other] !== 1) continue;
        seen[other] = 1;
        stack.push(other);
      }
    }
  }
  return found;
}

interface Step {
  readonly direction: 'up' | 'down';
  readonly amount: number;
}

/**
 * Ways to give a cell an interval of the protection width: all of it
 * upwards or downwards (preferred order first), or — when a bound such as a
 * published denominator leaves too little room on either side — part up and
 * the rest down, each proved by its own alternative table.
 */
function plansFor(problem: SuppressionProblem, cell: number, protection: Protection): Step[][] {
  const width = protection.width;
  const room = { up: problem.upper[cell]! - problem.value[cell]!, down: problem.value[cell]! - floorOf(problem, cell) };
  const order: ('up' | 'down')[] = protection.prefer === 'up' ? ['up', 'down'] : ['down', 'up'];
  const plans: Step[][] = order.filter((d) => room[d] >= width).map((d) => [{ direction: d, amount: width }]);
  if (plans.length === 0 && room.up + room.down >= width) {
    const up = Math.min(room.up, width);
    plans.push(
      up >= width
        ? [{ direction: 'up', amount: width }]
        : ([
            { direction: 'up', amount: up },
            { direction: 'down', amount: width - up },
          ].filter((s) => s.amount > 0) as Step[]),
    );
  }
  return plans;
}

/**
 * A cheap proof that a cell is already protected, tried before any LP: a
 * fully suppressed box around it. In each dimension the cell is paired with a
 * sibling (moving opposite ways) or with its whole chain of parents (moving
 * together); every corner of the product moves by ±width, which keeps every
 * relation balanced. Only leaf codes, and only cells that sit in one table
 * (a linked cell's other tables would have to balance too).
 */
function protectedByHypercube(
  problem: SuppressionProblem,
  target: number,
  direction: 'up' | 'down',
  width: number,
  suppressed: Uint8Array,
): boolean {
  const { system } = problem;
  if (system.occurrenceCount(target) !== 1 || system.inEquality(target)) return false;
  const [t, local] = system.home[target]!;
  const table = system.tables[t]!;
  const cellOf = system.cellOf[t]!;
  const codes = table.codesOf(local);
  const options: { codes: number[]; signs: number[] }[][] = [];
  for (let d = 0; d < codes.length; d++) {
    const dimension = table.dimensions[d]!;
    const own = dimension.codes[codes[d]!]!;
    if (own.children.length > 0) return false;
    const axis = (code: number) => {
      const moved = [...codes];
      moved[d] = code;
      return cellOf[table.index(moved)]!;
    };
    const choices: { codes: number[]; signs: number[] }[] = [];
    const chain = [codes[d]!];
    for (let c = own.parent; c !== -1; c = dimension.codes[c]!.parent) chain.push(c);
    if (chain.slice(1).every((c) => suppressed[axis(c)] === 1))
      choices.push({ codes: chain, signs: chain.map(() => 1) });
    for (const sibling of own.parent === -1 ? [] : dimension.codes[own.parent]!.children) {
      if (sibling !== codes[d] && suppressed[axis(sibling)] === 1)
        choices.push({ codes: [codes[d]!, sibling], signs: [1, -1] });
    }
    if (choices.length === 0) return false;
    options.push(choices);
  }
  const sign = direction === 'up' ? 1 : -1;
  const cornerOk = (corners: number[], cornerSign: number): boolean => {
    const cell = cellOf[table.index(corners)]!;
    if (suppressed[cell] !== 1 || system.occurrenceCount(cell) !== 1 || system.inEquality(cell)) return false;
    const move = sign * cornerSign * width;
    return move > 0
      ? problem.upper[cell]! - problem.value[cell]! >= move
      : problem.value[cell]! - floorOf(problem, cell) >= -move;
  };
  const tryChoice = (d: number, chosen: { codes: number[]; signs: number[] }[]): boolean => {
    if (d === options.length) {
      const walk = (e: number, acc: number[], s: number): boolean => {
        if (e === chosen.length) return cornerOk(acc, s);
        const choice = chosen[e]!;
        for (let i = 0; i < choice.codes.length; i++) {
          acc[e] = choice.codes[i]!;
          if (!walk(e + 1, acc, s * choice.signs[i]!)) return false;
        }
        return true;
      };
      return walk(0, [], 1);
    }
    for (const choice of options[d]!) {
      chosen.push(choice);
      if (tryChoice(d + 1, chosen)) return true;
      chosen.pop();
    }
    return false;
  };
  return tryChoice(0, []);
}

/**
 * Protection LPs over one set of cells, kept alive between primary cells:
 * the leaf cells of one municipality share the same neighbourhood, so their
 * LPs differ only in the target's bounds and in the costs of cells
 * suppressed meanwhile, and HiGHS re-solves from the previous basis.
 */
class ModelCache {
  private readonly models = new Map<string, ProtectionModel>();
  private static readonly LIMIT = 12;

  constructor(
    private readonly highs: Highs,
    private readonly problem: SuppressionProblem,
  ) {}

  get(region: Int32Array | undefined): ProtectionModel {
    const cells = region ?? Int32Array.from({ length: this.problem.system.cellCount }, (_, i) => i);
    const key = regionKey(region);
    let model = this.models.get(key);
    if (model !== undefined) {
      // Most recently used last.
      this.models.delete(key);
      this.models.set(key, model);
      return model;
    }
    if (this.models.size >= ModelCache.LIMIT) {
      const [oldestKey, oldest] = this.models.entries().next().value as [string, ProtectionModel];
      oldest.dispose();
      this.models.delete(oldestKey);
    }
    model = new ProtectionModel(this.highs, this.problem, cells);
    this.models.set(key, model);
    return model;
  }

  dispose(): void {
    for (const model of this.models.values()) model.dispose();
    this.models.clear();
  }
}

class ProtectionModel {
  private readonly model: Model;
  private readonly local = new Map<number, number>();
  /** Cells already at their suppressed cost in the model (suppressed when last solved). */
  private readonly free: Uint8Array;

  constructor(
    private readonly highs: Highs,
    private readonly problem: SuppressionProblem,
    private readonly cells: Int32Array,
  ) {
    const { system, value, upper, weight } = problem;
    const m = cells.length;
    this.free = new Uint8Array(m);
    const rowOf = new Map<number, number>();
    cells.forEach((c, i) => {
      this.local.set(c, i);
      for (let k = system.cellStarts[c]!; k < system.cellStarts[c + 1]!; k++) {
        const r = system.cellRelations[k]!;
        if (!rowOf.has(r)) rowOf.set(r, rowOf.size);
      }
    });
    // Columns 0..m-1 move a cell up, m..2m-1 move it down; every relation touching the region stays balanced.
    let nnz = 0;
    for (const c of cells) nnz += system.cellStarts[c + 1]! - system.cellStarts[c]!;
    const starts = new Int32Array(2 * m + 1);
    const indices = new Int32Array(2 * nnz);
    const values = new Float64Array(2 * nnz);
    let at = 0;
    for (let side = 0; side < 2; side++) {
      const sign = side === 0 ? 1 : -1;
      for (let i = 0; i < m; i++) {
        const c = cells[i]!;
        for (let k = system.cellStarts[c]!; k < system.cellStarts[c + 1]!; k++) {
          indices[at] = rowOf.get(system.cellRelations[k]!)!;
          values[at] = sign * system.cellCoefs[k]!;
          at++;
        }
        starts[side * m + i + 1] = at;
      }
    }
    const cost = new Float64Array(2 * m);
    const up = new Float64Array(2 * m);
    for (let i = 0; i < m; i++) {
      const c = cells[i]!;
      // Per unit of movement; a pattern moves each of its cells by about the protection width, so only ratios matter.
      cost[i] = weight[c]!;
      cost[m + i] = weight[c]!;
      const headroom = upper[c]! - value[c]!;
      // A cell that may not be suppressed may not move either: the pattern has to be found around it.
      const movable = problem.fixed?.[c] !== 1;
      up[i] = !movable ? 0 : Number.isFinite(headroom) ? Math.max(0, headroom) : highs.infinity;
      up[m + i] = !movable ? 0 : Math.max(0, value[c]! - floorOf(problem, c));
    }
    const zeros = new Float64Array(rowOf.size);
    this.model = createModel(highs, {
      numCols: 2 * m,
      numRows: rowOf.size,
      colCost: cost,
      colLower: new Float64Array(2 * m),
      colUpper: up,
      rowLower: zeros,
      rowUpper: zeros,
      starts,
      indices,
      values,
    });
    // Between solves only the target's bounds and a few costs change: simplex restarts from the last basis. Presolve
    // would first rebuild a reduced model and lose that basis; without it the small demo's to_work problem (4,186
    // cells) took 28 s instead of 30 s, with 969 secondary suppressions instead of 996.
    this.model.options.set({ presolve: 'off' });
  }

  /** Cells (not yet suppressed) that the cheapest pattern moving `target` by `width` needs, or undefined when none exists here. */
  solve(
    suppressed: Uint8Array,
    target: number,
    direction: 'up' | 'down',
    width: number,
    witnessed: WitnessedRanges,
    proven: Set<number>,
  ): number[] | undefined {
    const { value, upper } = this.problem;
    const m = this.cells.length;
    for (let i = 0; i < m; i++) {
      if (this.free[i] === 0 && suppressed[this.cells[i]!] === 1) {
        this.free[i] = 1;
        const cost = SUPPRESSED_COST * this.problem.weight[this.cells[i]!]!;
        this.model.changeColCost(i, cost);
        this.model.changeColCost(m + i, cost);
      }
    }
    const t = this.local.get(target)!;
    const headroom = upper[target]! - value[target]!;
    const upUpper = Number.isFinite(headroom) ? Math.max(0, headroom) : this.highs.infinity;
    const downUpper = Math.max(0, value[target]! - floorOf(this.problem, target));
    if (direction === 'up') {
      this.model.changeColBounds(t, width, width);
      this.model.changeColBounds(m + t, 0, 0);
    } else {
      this.model.changeColBounds(t, 0, 0);
      this.model.changeColBounds(m + t, width, width);
    }
    try {
      runModel(this.model);
      const result = outcome(this.highs, this.model);
      if (result === 'infeasible') return undefined;
      if (result !== 'optimal')
        throw new SolverError(
          `The protection LP for ${this.problem.system.describe(target)} ended with solver status ${result}.`,
        );
      const flow = this.model.getSolution().colValue;
      const added: number[] = [];
      const moved: number[] = [];
      const deltas: number[] = [];
      for (let i = 0; i < m; i++) {
        const c = this.cells[i]!;
        if (flow[i]! + flow[m + i]! <= FLOW_EPSILON * Math.max(1, width)) continue;
        if (suppressed[c] !== 1) added.push(c);
        moved.push(c);
        deltas.push(flow[i]! - flow[m + i]!);
      }
      // The alternative table is one the attacker cannot rule out once `added` is suppressed: a witness.
      for (const c of witnessed.add(moved, deltas)) proven.add(c);
      return added;
    } finally {
      this.model.changeColBounds(t, 0, upUpper);
      this.model.changeColBounds(m + t, 0, downUpper);
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
