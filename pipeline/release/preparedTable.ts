import { type MeasureRelation, relationsOf, type StructuralCell, structuralCells } from '../../schemas/tables.js';
import { DataError } from '../core/errors.js';
import type { LoadedTable } from './loadedTable.js';
import { MEASURE_DIMENSION } from './measureSystem.js';
import { TableLayout } from './sdc/cellSystem.js';
import { DimensionBuilder, HierarchyShapeError, TOTAL } from './sdc/dimension.js';

/** A metrics table checked and laid out as cells: the form every pass of disclosure control works on. */
export interface PreparedTable {
  readonly loaded: LoadedTable;
  readonly layout: TableLayout;
  readonly dimensionColumns: readonly string[];
  readonly groups: readonly (readonly string[])[];
  /** Column name → value per layout cell (NaN for NULL). */
  readonly data: Map<string, Float64Array>;
  /** Measure column → per layout cell, what its row's dimensions fix it at (undefined: nothing). */
  readonly structural: ReadonlyMap<string, readonly (StructuralCell | undefined)[]>;
}

/** Dimension groups: each hierarchy (chains merged) is one group, placed where its first column stands. */
export function dimensionGroups(
  dimensions: readonly string[],
  hierarchies: readonly (readonly string[])[],
): string[][] {
  const chains: string[][] = [];
  for (const h of hierarchies) {
    const joinAt = chains.find((c) => c[c.length - 1] === h[0]);
    if (joinAt !== undefined) joinAt.push(...h.slice(1));
    else chains.push([...h]);
  }
  const groups: string[][] = [];
  const placed = new Set<string>();
  for (const d of dimensions) {
    if (placed.has(d)) continue;
    const chain = chains.find((c) => c.includes(d));
    const group = chain ?? [d];
    for (const c of group) placed.add(c);
    groups.push(group);
  }
  return groups;
}

/**
 * Check a metrics table against its catalogue entry (hierarchies among its
 * dimensions, relations among its counts, one row per cell, every column
 * present, structural values as declared) and lay it out as the full product
 * of its dimensions' codes. Refuses (DataError) naming file, row and column.
 */
export function prepareTable(loaded: LoadedTable): PreparedTable {
  const spec = loaded.spec;
  for (const h of spec.hierarchies) {
    for (const c of h) {
      if (!spec.dimensions.includes(c))
        throw DataError.single('RELEASE_CATALOGUE', {
          file: loaded.file,
          column: c,
          rule: 'catalogue.hierarchy',
          message: `hierarchy column '${c}' is not among the dimensions of table '${spec.name}'`,
        });
    }
  }
  checkRelations(loaded);
  const groups = dimensionGroups(spec.dimensions, spec.hierarchies);
  const builders = groups.map((g) => new DimensionBuilder(g));
  loaded.rows.forEach((row, i) => {
    groups.forEach((group, d) => {
      const values = group.map((c) => {
        const v = row[c];
        if (v === null || v === undefined)
          throw DataError.single('RELEASE_TABLE', {
            file: loaded.file,
            row: i + 1,
            column: c,
            rule: 'dimension.null',
            message: 'dimension value is NULL (expected a value or Total)',
          });
        return String(v);
      });
      try {
        builders[d]!.add(values);
      } catch (error) {
        if (error instanceof HierarchyShapeError) {
          throw DataError.single('RELEASE_TABLE', {
            file: loaded.file,
            row: i + 1,
            column: group.join('>'),
            rule: 'dimension.hierarchy',
            message: `${error.message}; a hierarchy row must be (parent, child), (parent, Total) or (Total, Total)`,
          });
        }
        throw error;
      }
    });
  });
  const dimensions = builders.map((b) => b.build());
  const layout = new TableLayout(spec.name, dimensions);
  // Codes were renumbered by build(); map every row again by its values.
  const codeIndex = dimensions.map(
    (dimension) => new Map(dimension.codes.map((code, i) => [code.values.join('\u0000'), i])),
  );
  const columnsNeeded = new Set<string>(['persons']);
  for (const m of spec.measures) {
    columnsNeeded.add(m.column);
    if (m.kind === 'count' && m.rate !== undefined) columnsNeeded.add(m.rate.denominator);
    if (m.kind === 'mean') for (const c of [m.contributors, m.sum, m.top1, m.top2]) columnsNeeded.add(c);
  }
  const data = new Map<string, Float64Array>();
  const meanColumns = new Set(spec.measures.filter((m) => m.kind === 'mean').map((m) => m.column));
  for (const c of columnsNeeded) {
    if (c === 'persons' && !loaded.rows.some((r) => 'persons' in r)) continue;
    if (!loaded.rows.every((r) => c in r) && loaded.rows.length > 0) {
      throw DataError.single('RELEASE_TABLE', {
        file: loaded.file,
        column: c,
        rule: 'table.column',
        message: `column '${c}' named in tables.json is missing`,
      });
    }
    // Cells absent from the file are empty cells: 0 for counts and sums, NULL for means.
    data.set(
      c,
      new Float64Array(layout.size).fill(
        meanColumns.has(c) || c.endsWith('top1') || c.endsWith('top2') ? Number.NaN : 0,
      ),
    );
  }
  const seen = new Uint8Array(layout.size);
  loaded.rows.forEach((row, i) => {
    const codes = groups.map((group, d) => codeIndex[d]!.get(group.map((c) => String(row[c])).join('\u0000'))!);
    const local = layout.index(codes);
    if (seen[local] === 1)
      throw DataError.single('RELEASE_TABLE', {
        file: loaded.file,
        row: i + 1,
        rule: 'table.duplicate',
        message: `duplicate row for cell (${layout.describe(local)})`,
      });
    seen[local] = 1;
    for (const [c, values] of data) {
      const v = row[c];
      values[local] = v === null || v === undefined ? Number.NaN : Number(v);
    }
  });
  const prepared = { loaded, layout, dimensionColumns: spec.dimensions, groups, data, structural: new Map() };
  return { ...prepared, structural: structuralOf(prepared) };
}

/**
 * Per count measure with structural ranges, what each cell's row fixes it at
 * (schemas/tables.ts); a cell whose value contradicts what the catalogue
 * declares is refused, since publishing it as known would then publish a
 * wrong claim.
 */
function structuralOf(table: PreparedTable): Map<string, (StructuralCell | undefined)[]> {
  const out = new Map<string, (StructuralCell | undefined)[]>();
  const { spec } = table.loaded;
  const columns = table.layout.columns;
  const rows = Array.from({ length: table.layout.size }, (_, local) => {
    const values = table.layout.valuesOf(local);
    return Object.fromEntries(columns.map((c, i) => [c, values[i]!]));
  });
  for (const m of spec.measures) {
    if (m.kind !== 'count' || m.structural === undefined || m.structural.length === 0) continue;
    for (const s of m.structural) {
      if (typeof s.equals === 'string' && !table.data.has(s.equals)) {
        throw DataError.single('RELEASE_CATALOGUE', {
          file: table.loaded.file,
          column: m.column,
          rule: 'catalogue.structural',
          message: `measure '${m.column}' is declared equal to '${s.equals}', which table '${spec.name}' does not hold`,
        });
      }
    }
    const cells = structuralCells(m, rows);
    const own = table.data.get(m.column)!;
    cells.forEach((cell, local) => {
      if (cell === undefined) return;
      const expected = cell.equals === 0 ? 0 : table.data.get(cell.equals)![local]!;
      if (own[local]! === expected) return;
      const why = m.structural!.find((s) => s.equals === cell.equals)?.why ?? '';
      throw DataError.single('RELEASE_TABLE', {
        file: table.loaded.file,
        column: m.column,
        rule: 'table.structural',
        message: `cell (${table.layout.describe(local)}) is ${own[local]}, but tables.json declares it equal to ${cell.equals === 0 ? '0' : `'${cell.equals}' (${expected})`} there: ${why}`,
      });
    });
    out.set(m.column, cells);
  }
  return out;
}

/** Relations tie counts of the table itself, each part named once and never its own total. */
function checkRelations(loaded: LoadedTable): void {
  const spec = loaded.spec;
  const relations: readonly MeasureRelation[] = relationsOf(spec);
  if (relations.length === 0) return;
  const refuse = (column: string, message: string) =>
    DataError.single('RELEASE_CATALOGUE', { file: loaded.file, column, rule: 'catalogue.relations', message });
  if (spec.dimensions.includes(MEASURE_DIMENSION))
    throw refuse(
      MEASURE_DIMENSION,
      `table '${spec.name}' has relations and a dimension named '${MEASURE_DIMENSION}', the name release gives the relations' own dimension; rename the dimension`,
    );
  for (const r of relations) {
    for (const c of [r.total, ...r.parts]) {
      if (!spec.measures.some((m) => m.column === c && m.kind === 'count'))
        throw refuse(
          c,
          `relation ${r.total} = ${r.parts.join(' + ')} of table '${spec.name}' names '${c}', which is not a count measure of the table`,
        );
    }
    if (new Set(r.parts).size !== r.parts.length || r.parts.includes(r.total))
      throw refuse(
        r.total,
        `relation ${r.total} = ${r.parts.join(' + ')} of table '${spec.name}' names a measure twice`,
      );
  }
}

/** A cell's dimension values in catalogue order (a column outside the layout's groups is Total). */
export function dimensionValuesInOrder(table: PreparedTable, local: number): string[] {
  const byColumn = new Map<string, string>();
  const values = table.layout.valuesOf(local);
  table.layout.columns.forEach((c, i) => {
    byColumn.set(c, values[i]!);
  });
  return table.dimensionColumns.map((c) => byColumn.get(c) ?? TOTAL);
}

/** Whether a cell is a margin: Total in some dimension. */
export function isMargin(table: PreparedTable, local: number): boolean {
  return table.layout.valuesOf(local).includes(TOTAL);
}
