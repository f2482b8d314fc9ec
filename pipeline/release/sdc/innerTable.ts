import { TableLayout } from './cellSystem.js';
import { DimensionBuilder } from './dimension.js';

export interface InnerCell {
  /** One value per column, in the order of the flattened dimension groups. */
  readonly values: readonly string[];
  readonly count: number;
}

export interface BuiltTable {
  readonly layout: TableLayout;
  /** Every cell's value, margins included (the sum of the inner cells below it). */
  readonly value: Float64Array;
}

/**
 * A table with all its margins from inner cells only (what `protect` gets):
 * each dimension group is one plain dimension (`['age']`) or one hierarchy
 * (`['municipality', 'district']`). Duplicate inner cells add up.
 */
export function tableFromInnerCells(
  name: string,
  groups: readonly (readonly string[])[],
  cells: readonly InnerCell[],
): BuiltTable {
  const builders = groups.map((columns) => new DimensionBuilder(columns));
  const spans = spansOf(groups);
  for (const cell of cells) {
    groups.forEach((_, d) => {
      const [from, to] = spans[d]!;
      builders[d]!.add(cell.values.slice(from, to));
    });
  }
  const dimensions = builders.map((b) => b.build());
  const layout = new TableLayout(name, dimensions);
  const value = new Float64Array(layout.size);
  // Code index per dimension for each inner cell, then add the count to every ancestor combination.
  const codeIndex = dimensions.map((dimension) => {
    const map = new Map<string, number>();
    dimension.codes.forEach((code, i) => map.set(code.values.join('\u0000'), i));
    return map;
  });
  for (const cell of cells) {
    const chains = dimensions.map((dimension, d) => {
      const [from, to] = spans[d]!;
      let code = codeIndex[d]!.get(cell.values.slice(from, to).join('\u0000'))!;
      const chain = [code];
      while (dimension.codes[code]!.parent !== -1) {
        code = dimension.codes[code]!.parent;
        chain.push(code);
      }
      return chain;
    });
    const walk = (d: number, acc: number[]): void => {
      if (d === chains.length) {
        value[layout.index(acc)]! += cell.count;
        return;
      }
      for (const code of chains[d]!) {
        acc[d] = code;
        walk(d + 1, acc);
      }
    };
    walk(0, []);
  }
  return { layout, value };
}

function spansOf(groups: readonly (readonly string[])[]): [number, number][] {
  let at = 0;
  return groups.map((g) => {
    const span: [number, number] = [at, at + g.length];
    at += g.length;
    return span;
  });
}
