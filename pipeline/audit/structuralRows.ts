import { type CountMeasure, structuralCells, structuralValue, type StructuralCell } from '../../schemas/tables.js';
import type { MeasureDescription, ReleasedTable } from './releasedTables.js';

/**
 * What the catalogue says a measure's rows are fixed at (0, or another
 * column of the row), read through the same definition the release uses
 * (schemas/tables.ts): one reading of the declaration, so that a cell the
 * release publishes as known the audit checks as known. Entries that do not
 * parse are ignored: the audit then judges those rows as any other.
 */
export function structuralRows(
  table: ReleasedTable,
  measure: MeasureDescription | undefined,
): (StructuralCell | undefined)[] | undefined {
  const entries = (measure?.structural ?? []).flatMap((s) => {
    const parsed = structuralValue.safeParse(s);
    return parsed.success ? [parsed.data] : [];
  });
  if (measure === undefined || entries.length === 0) return undefined;
  const declared = { column: measure.column, kind: 'count', nature: 'timing', structural: entries } as CountMeasure;
  return structuralCells(
    declared,
    table.rows.map((r) => r.dims),
  );
}
