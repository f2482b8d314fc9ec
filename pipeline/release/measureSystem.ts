import { CellSystem, TableLayout } from './sdc/cellSystem.js';
import type { Dimension } from './sdc/dimension.js';
import type { MeasureRelation } from '../../schemas/tables.js';

/** The column name the measure dimension carries in cell names (`year=2021, measure=censored`). */
export const MEASURE_DIMENSION = 'measure';

/** One table of a population as it enters a joint problem: its own layout, the measures of the problem it holds, and its declared relations. */
export interface MeasureTable {
  readonly layout: TableLayout;
  /** The problem's measure columns this table carries. */
  readonly measures: readonly string[];
  /** The table's relations among those measures. */
  readonly relations: readonly MeasureRelation[];
}

/** Where a system cell sits: table (index into the problem's tables), measure column and the table's own cell. */
export interface MeasurePlacement {
  readonly table: number;
  readonly column: string;
  readonly local: number;
}

/**
 * One measure, or several counts tied by relations (total = Σ parts in every
 * row), over the linked tables of one population as one cell system.
 *
 * A relation is additive like a margin, so it is modelled as one: an extra
 * dimension `measure` whose root is the total and whose leaves are the parts,
 * crossed with the table's own dimensions. Two relations that share a total
 * (to_work = lasted known + censored = the four wage bands) are two such
 * layouts of the table that share the total's cells, exactly as two linked
 * tables share a margin; a chain (a part that is itself a total) links the
 * same way. The measure's name stays in every cell's link key (it is the
 * root's value, not `Total`), so cells of different measures never merge,
 * while the same measure's cell in another table or relation does.
 *
 * A single measure without relations keeps the table's own layout: its cells,
 * names and patterns are the same as without this type.
 */
export class MeasureSystem {
  private constructor(
    readonly system: CellSystem,
    /** Per system layout: its table and the measure of each measure code (one entry: no measure dimension). */
    private readonly slots: readonly { readonly table: number; readonly columns: readonly string[] }[],
    private readonly cells: ReadonlyMap<string, Int32Array>,
  ) {}

  static build(tables: readonly MeasureTable[]): MeasureSystem {
    const layouts: TableLayout[] = [];
    const slots: { table: number; columns: string[] }[] = [];
    const plain = tables.every((t) => t.relations.length === 0 && t.measures.length === 1);
    tables.forEach((table, t) => {
      if (plain) {
        layouts.push(table.layout);
        slots.push({ table: t, columns: [...table.measures] });
        return;
      }
      const covered = new Set<string>();
      for (const relation of table.relations) {
        layouts.push(
          new TableLayout(table.layout.name, [
            ...table.layout.dimensions,
            measureDimension(relation.total, relation.parts),
          ]),
        );
        slots.push({ table: t, columns: [relation.total, ...relation.parts] });
        covered.add(relation.total);
        relation.parts.forEach((p) => covered.add(p));
      }
      // A measure of the problem this table declares no relation for: still the same cell as in the tables that do.
      for (const column of table.measures) {
        if (covered.has(column)) continue;
        layouts.push(new TableLayout(table.layout.name, [...table.layout.dimensions, measureDimension(column, [])]));
        slots.push({ table: t, columns: [column] });
      }
    });
    // Views of one table (one per relation) share their neighbourhoods: a region around a cell spans all of them.
    const companions = slots.map((slot, s) =>
      plain ? [] : slots.flatMap((other, o) => (o !== s && other.table === slot.table ? [o] : [])),
    );
    const system = CellSystem.link(layouts, companions);
    const cells = new Map<string, Int32Array>();
    slots.forEach((slot, s) => {
      const size = tables[slot.table]!.layout.size;
      const stride = slot.columns.length;
      slot.columns.forEach((column, code) => {
        const key = cellsKey(slot.table, column);
        if (cells.has(key)) return;
        const map = new Int32Array(size);
        for (let local = 0; local < size; local++) map[local] = system.cellOf[s]![local * stride + code]!;
        cells.set(key, map);
      });
    });
    return new MeasureSystem(system, slots, cells);
  }

  /** The same cells and relations, and `a = b` for each pair (see CellSystem.withEqualities). */
  withEqualities(pairs: readonly (readonly [number, number])[]): MeasureSystem {
    return pairs.length === 0 ? this : new MeasureSystem(this.system.withEqualities(pairs), this.slots, this.cells);
  }

  /** The system cell of each of the table's own cells for one measure; undefined when the table does not carry it. */
  cellsOf(table: number, column: string): Int32Array | undefined {
    return this.cells.get(cellsKey(table, column));
  }

  /** Every relation of every row as system cells: the total and its parts. */
  *rowRelations(): Generator<{ readonly total: number; readonly parts: readonly number[] }> {
    for (let s = 0; s < this.slots.length; s++) {
      const stride = this.slots[s]!.columns.length;
      if (stride < 2) continue;
      const cellOf = this.system.cellOf[s]!;
      for (let at = 0; at < cellOf.length; at += stride)
        yield { total: cellOf[at]!, parts: Array.from({ length: stride - 1 }, (_, k) => cellOf[at + k + 1]!) };
    }
  }

  placement(cell: number): MeasurePlacement {
    const [s, index] = this.system.home[cell]!;
    const slot = this.slots[s]!;
    const stride = slot.columns.length;
    return { table: slot.table, column: slot.columns[index % stride]!, local: Math.floor(index / stride) };
  }
}

/** A relation as a dimension: the total at the root, its parts as leaves (no parts: a single measure). */
export function measureDimension(total: string, parts: readonly string[]): Dimension {
  return {
    columns: [MEASURE_DIMENSION],
    codes: [
      { values: [total], parent: -1, children: parts.map((_, i) => i + 1) },
      ...parts.map((part) => ({ values: [part], parent: 0, children: [] })),
    ],
  };
}

function cellsKey(table: number, column: string): string {
  return `${table}\u0000${column}`;
}
