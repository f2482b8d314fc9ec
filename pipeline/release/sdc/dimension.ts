/**
 * A dimension of a released table as the attacker sees it: a tree of codes
 * whose root is the grand `Total`. A plain dimension (age band) is a root with
 * one leaf per value; a hierarchy (municipality > district) is one dimension
 * spread over several columns, where a district row carries its municipality
 * and `Total` in the columns below its level.
 */
export const TOTAL = 'Total';

export interface DimensionCode {
  /** One value per column of the dimension; `Total` below the code's level. */
  readonly values: readonly string[];
  /** Index of the parent code; -1 for the root. */
  readonly parent: number;
  readonly children: readonly number[];
}

export interface Dimension {
  readonly columns: readonly string[];
  /** codes[0] is the root (`Total` in every column). */
  readonly codes: readonly DimensionCode[];
}

export class DimensionBuilder {
  private readonly codes: { values: string[]; parent: number; children: number[] }[];
  private readonly byKey = new Map<string, number>();

  constructor(readonly columns: readonly string[]) {
    this.codes = [{ values: columns.map(() => TOTAL), parent: -1, children: [] }];
    this.byKey.set(keyOf(this.codes[0]!.values), 0);
  }

  /**
   * Register the code of one row's values in this dimension's columns (e.g.
   * ['rotterdam', 'Noord']) with all its ancestors; returns its index. Values
   * must be a prefix of real values followed by `Total`s.
   */
  add(values: readonly string[]): number {
    const existing = this.byKey.get(keyOf(values));
    if (existing !== undefined) return existing;
    const level = values.indexOf(TOTAL);
    const depth = level === -1 ? values.length : level;
    if (values.slice(depth).some((v) => v !== TOTAL)) {
      throw new HierarchyShapeError(this.columns, values);
    }
    const parentValues = values.map((v, i) => (i >= depth - 1 ? TOTAL : v));
    const parent = this.add(parentValues);
    const index = this.codes.length;
    this.codes.push({ values: [...values], parent, children: [] });
    this.codes[parent]!.children.push(index);
    this.byKey.set(keyOf(values), index);
    return index;
  }

  lookup(values: readonly string[]): number | undefined {
    return this.byKey.get(keyOf(values));
  }

  build(): Dimension {
    // Children in a stable order so that outputs and LPs do not depend on row order.
    const order = [...this.codes.keys()].sort((a, b) =>
      a === 0 ? -1 : b === 0 ? 1 : compareValues(this.codes[a]!.values, this.codes[b]!.values),
    );
    const remap = new Int32Array(order.length);
    order.forEach((old, i) => (remap[old] = i));
    const codes = order.map((old) => {
      const code = this.codes[old]!;
      return {
        values: code.values,
        parent: code.parent === -1 ? -1 : remap[code.parent]!,
        children: code.children.map((c) => remap[c]!).sort((a, b) => a - b),
      };
    });
    return { columns: this.columns, codes };
  }
}

export class HierarchyShapeError extends Error {
  constructor(
    readonly columns: readonly string[],
    readonly values: readonly string[],
  ) {
    super(`values (${values.join(', ')}) of columns (${columns.join(', ')}) have a real value below a 'Total'`);
  }
}

function keyOf(values: readonly string[]): string {
  return values.join('\u0000');
}

function compareValues(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x === TOTAL) return -1;
    if (y === TOTAL) return 1;
    return x.localeCompare(y, 'en', { numeric: true });
  }
  return 0;
}

/**
 * Codes an alternative table may change together with `code` when the
 * protection LP looks for a pattern near a cell: its siblings and parent for a
 * leaf, the whole dimension for a margin (whose change must flow down).
 */
export function neighbourhood(dimension: Dimension, code: number): number[] {
  const own = dimension.codes[code]!;
  if (own.children.length > 0 || own.parent === -1) return [...dimension.codes.keys()];
  const parent = dimension.codes[own.parent]!;
  return [own.parent, ...parent.children];
}

/** What a code's neighbourhood depends on: its parent for a leaf, nothing (−1: the whole dimension) otherwise. */
export function neighbourhoodAnchor(dimension: Dimension, code: number): number {
  const own = dimension.codes[code]!;
  return own.children.length > 0 || own.parent === -1 ? -1 : own.parent;
}
