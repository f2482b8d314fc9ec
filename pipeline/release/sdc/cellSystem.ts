import { neighbourhood, neighbourhoodAnchor, TOTAL, type Dimension } from './dimension.js';

/** One table's cells: the full product of its dimensions' codes (margins included). */
export class TableLayout {
  readonly size: number;
  private readonly strides: number[];

  constructor(
    readonly name: string,
    readonly dimensions: readonly Dimension[],
  ) {
    this.strides = [];
    let size = 1;
    for (let d = dimensions.length - 1; d >= 0; d--) {
      this.strides[d] = size;
      size *= dimensions[d]!.codes.length;
    }
    this.size = size;
  }

  get columns(): string[] {
    return this.dimensions.flatMap((d) => d.columns);
  }

  index(codes: readonly number[]): number {
    let index = 0;
    for (let d = 0; d < codes.length; d++) index += codes[d]! * this.strides[d]!;
    return index;
  }

  codesOf(index: number): number[] {
    return this.dimensions.map((dimension, d) => Math.floor(index / this.strides[d]!) % dimension.codes.length);
  }

  /** The cell's value in every dimension column, in `columns` order. */
  valuesOf(index: number): string[] {
    const codes = this.codesOf(index);
    return this.dimensions.flatMap((dimension, d) => dimension.codes[codes[d]!]!.values);
  }

  /** Human-readable cell name for errors and the disclosure log: `year=2021, district=Noord`. */
  describe(index: number): string {
    const columns = this.columns;
    const values = this.valuesOf(index);
    return columns.map((c, i) => `${c}=${values[i]}`).join(', ');
  }

  /**
   * What the cell counts, independent of the table it sits in: its non-Total
   * (column, value) pairs. Two tables of one population that share this key
   * publish the same number (a linked cell).
   */
  linkKey(index: number): string {
    const columns = this.columns;
    const values = this.valuesOf(index);
    return columns
      .map((c, i) => [c, values[i]!] as const)
      .filter(([, v]) => v !== TOTAL)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([c, v]) => `${c}=${v}`)
      .join('\u0000');
  }

  /** Every additivity relation: for each non-leaf code of a dimension and each combination of the other codes, parent − Σ children = 0. */
  *relations(): Generator<number[]> {
    const counts = this.dimensions.map((d) => d.codes.length);
    for (let d = 0; d < this.dimensions.length; d++) {
      const dimension = this.dimensions[d]!;
      const others = counts.map((c, i) => (i === d ? 1 : c));
      const total = others.reduce((a, b) => a * b, 1);
      for (let combo = 0; combo < total; combo++) {
        const codes: number[] = [];
        let rest = combo;
        for (let i = others.length - 1; i >= 0; i--) {
          codes[i] = rest % others[i]!;
          rest = Math.floor(rest / others[i]!);
        }
        for (let k = 0; k < dimension.codes.length; k++) {
          const code = dimension.codes[k]!;
          if (code.children.length === 0) continue;
          codes[d] = k;
          const relation = [this.index(codes)];
          for (const child of code.children) {
            codes[d] = child;
            relation.push(this.index(codes));
          }
          yield relation;
        }
      }
    }
  }
}

/**
 * The cells of one or more linked tables (same population, same measure) as
 * one system of additivity relations `parent − Σ children = 0`: what an
 * attacker knows besides the published values. Shared cells become one cell.
 */
export class CellSystem {
  readonly cellCount: number;
  /** For each table, the system cell of each of its cells. */
  readonly cellOf: readonly Int32Array[];
  /** Relation r covers relationCells[relationStarts[r] .. relationStarts[r+1]); coefficient +1 for the first (the parent), −1 for the rest. */
  readonly relationStarts: Int32Array;
  readonly relationCells: Int32Array;
  readonly relationCoefs: Int8Array;
  /** Relations of cell c: cellRelations[cellStarts[c] .. cellStarts[c+1]) with the cell's coefficient in cellCoefs. */
  readonly cellStarts: Int32Array;
  readonly cellRelations: Int32Array;
  readonly cellCoefs: Int8Array;
  /** Where each system cell sits: its first (table, local index). */
  readonly home: readonly (readonly [number, number])[];
  private readonly occurrences: readonly (readonly [number, number])[][];
  private readonly regions = new Map<string, Int32Array>();

  private constructor(
    readonly tables: readonly TableLayout[],
    cellOf: Int32Array[],
    occurrences: [number, number][][],
    relations: number[][],
    /**
     * Per table, the other tables that are views of the same table over
     * other measures (its relations crossed with its dimensions): they share
     * every dimension but the last, and a pattern near a cell usually has to
     * balance them too.
     */
    private readonly companions: readonly (readonly number[])[],
    /** 1 for a cell tied by a relation that is not a margin of a table (an equality): no table shape proves it alone. */
    private readonly equalities?: Uint8Array,
  ) {
    this.cellOf = cellOf;
    this.cellCount = occurrences.length;
    this.occurrences = occurrences;
    this.home = occurrences.map((o) => o[0]!);
    const starts = new Int32Array(relations.length + 1);
    let nnz = 0;
    relations.forEach((r, i) => {
      nnz += r.length;
      starts[i + 1] = nnz;
    });
    const cells = new Int32Array(nnz);
    const coefs = new Int8Array(nnz);
    relations.forEach((r, i) => {
      r.forEach((c, j) => {
        cells[starts[i]! + j] = c;
        coefs[starts[i]! + j] = j === 0 ? 1 : -1;
      });
    });
    this.relationStarts = starts;
    this.relationCells = cells;
    this.relationCoefs = coefs;
    const degree = new Int32Array(this.cellCount + 1);
    for (const c of cells) degree[c + 1]!++;
    for (let c = 0; c < this.cellCount; c++) degree[c + 1]! += degree[c]!;
    this.cellStarts = degree;
    const fill = degree.slice(0, this.cellCount);
    this.cellRelations = new Int32Array(nnz);
    this.cellCoefs = new Int8Array(nnz);
    for (let r = 0; r < relations.length; r++) {
      for (let k = starts[r]!; k < starts[r + 1]!; k++) {
        const c = cells[k]!;
        const at = fill[c]!++;
        this.cellRelations[at] = r;
        this.cellCoefs[at] = coefs[k]!;
      }
    }
  }

  get relationCount(): number {
    return this.relationStarts.length - 1;
  }

  /**
   * The same cells with more relations: `a − b = 0` for each pair, where the
   * attacker knows two cells hold one number (a structural value equal to
   * another column of its row).
   */
  withEqualities(pairs: readonly (readonly [number, number])[]): CellSystem {
    if (pairs.length === 0) return this;
    const relations: number[][] = [];
    for (let r = 0; r < this.relationCount; r++)
      relations.push(Array.from(this.relationCells.subarray(this.relationStarts[r]!, this.relationStarts[r + 1]!)));
    const equalities = this.equalities?.slice() ?? new Uint8Array(this.cellCount);
    for (const [a, b] of pairs) {
      relations.push([a, b]);
      equalities[a] = 1;
      equalities[b] = 1;
    }
    return new CellSystem(
      this.tables,
      this.cellOf.map((m) => m.slice()),
      this.occurrences.map((o) => o.map(([t, local]) => [t, local] as [number, number])),
      relations,
      this.companions,
      equalities,
    );
  }

  /** Per cell, in how many dimensions it is a Total (the most over the tables holding it): 0 for an inner cell. */
  marginLevels(): Uint8Array {
    const levels = new Uint8Array(this.cellCount);
    this.tables.forEach((table, t) => {
      const cellOf = this.cellOf[t]!;
      for (let local = 0; local < table.size; local++) {
        let level = 0;
        for (const v of table.valuesOf(local)) if (v === TOTAL) level++;
        const cell = cellOf[local]!;
        if (level > levels[cell]!) levels[cell] = level;
      }
    });
    return levels;
  }

  /** Whether the cell is tied by an equality beyond its tables' margins (see withEqualities). */
  inEquality(cell: number): boolean {
    return this.equalities?.[cell] === 1;
  }

  /** `companions[t]`: tables that share all of table t's dimensions but the last (see the constructor). */
  static link(tables: readonly TableLayout[], companions: readonly (readonly number[])[] = []): CellSystem {
    const byKey = new Map<string, number>();
    const occurrences: [number, number][][] = [];
    const cellOf = tables.map((table, t) => {
      const map = new Int32Array(table.size);
      for (let local = 0; local < table.size; local++) {
        const key = table.linkKey(local);
        let cell = byKey.get(key);
        if (cell === undefined) {
          cell = occurrences.length;
          byKey.set(key, cell);
          occurrences.push([]);
        }
        occurrences[cell]!.push([t, local]);
        map[local] = cell;
      }
      return map;
    });
    const seen = new Set<string>();
    const relations: number[][] = [];
    tables.forEach((table, t) => {
      for (const relation of table.relations()) {
        const cells = relation.map((local) => cellOf[t]![local]!);
        const key = cells.join(',');
        if (seen.has(key)) continue;
        seen.add(key);
        relations.push(cells);
      }
    });
    return new CellSystem(tables, cellOf, occurrences, relations, companions);
  }

  /** In how many tables the cell appears (more than one: a linked cell). */
  occurrenceCount(cell: number): number {
    return this.occurrences[cell]!.length;
  }

  describe(cell: number): string {
    const [t, local] = this.home[cell]!;
    const table = this.tables[t]!;
    return `table '${table.name}', cell (${table.describe(local)})`;
  }

  /**
   * The cells a protection pattern for `cell` is first looked for in: in
   * every table holding the cell, the product of each dimension's
   * neighbourhood of the cell's code (siblings and parent of a leaf, the
   * whole dimension for a margin). All leaf cells of one municipality share
   * it, so its LP can be kept and re-solved.
   */
  region(cell: number): Int32Array {
    // Cells with the same neighbourhood in every dimension (all leaves under one parent) share one region.
    const key = this.occurrences[cell]!.map(([t, local]) => {
      const table = this.tables[t]!;
      const codes = table.codesOf(local);
      return `${t}:${table.dimensions.map((d, i) => neighbourhoodAnchor(d, codes[i]!)).join('.')}`;
    }).join('|');
    const known = this.regions.get(key);
    if (known !== undefined) return known;
    const found = new Set<number>();
    for (const [t, local] of this.occurrences[cell]!) {
      const table = this.tables[t]!;
      const codes = table.codesOf(local);
      const sets = table.dimensions.map((d, i) => neighbourhood(d, codes[i]!));
      const walk = (u: number, sets: readonly (readonly number[])[], d: number, acc: number[]): void => {
        if (d === sets.length) {
          found.add(this.cellOf[u]![this.tables[u]!.index(acc)]!);
          return;
        }
        for (const code of sets[d]!) {
          acc[d] = code;
          walk(u, sets, d + 1, acc);
        }
      };
      walk(t, sets, 0, []);
      // The same neighbourhood in the table's other views, over the whole of their last dimension.
      for (const u of this.companions[t] ?? []) {
        const last = this.tables[u]!.dimensions.length - 1;
        walk(
          u,
          sets.map((set, i) => (i === last ? [...this.tables[u]!.dimensions[last]!.codes.keys()] : set)),
          0,
          [],
        );
      }
    }
    const region = Int32Array.from([...found].sort((a, b) => a - b));
    this.regions.set(key, region);
    return region;
  }

  /** The first relation whose published values do not add up, or undefined. */
  firstNonAdditive(values: Float64Array, tolerance = 1e-6): { relation: number; excess: number } | undefined {
    for (let r = 0; r < this.relationCount; r++) {
      let sum = 0;
      let scale = 0;
      for (let k = this.relationStarts[r]!; k < this.relationStarts[r + 1]!; k++) {
        const v = values[this.relationCells[k]!]!;
        sum += this.relationCoefs[k]! * v;
        scale = Math.max(scale, Math.abs(v));
      }
      if (Math.abs(sum) > tolerance * Math.max(1, scale)) return { relation: r, excess: sum };
    }
    return undefined;
  }

  relationParent(relation: number): number {
    return this.relationCells[this.relationStarts[relation]!]!;
  }
}
