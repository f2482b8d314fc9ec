import type { ApiColumn } from '../../schemas/api.js';

export type Cell = number | string | boolean | null | readonly Cell[] | { readonly [key: string]: Cell };

export interface MarkedResult {
  readonly columns: readonly ApiColumn[];
  readonly rows: readonly (readonly Cell[])[];
  readonly warnings: readonly string[];
}

/** One row of a marked query's answer, before marking. */
export interface TaintedRow {
  readonly values: readonly Cell[];
  /** Per column: the value depends on a suppressed cell. */
  readonly taints: readonly boolean[];
  /** Whether the row is in the answer (or where) depends on a suppressed cell. */
  readonly uncertain: boolean;
}

/**
 * The last step of every query (see markedQuery.ts for where taints come
 * from): a value that depends on a suppressed cell becomes NULL, and its
 * column gets a `<col>_status` companion ('suppressed' there, 'published'
 * where a value was computed from published and rounded cells only; NULL
 * where the value is NULL for another reason, such as an outer join). Where
 * the answer already has that status column, its cell is set to
 * 'suppressed'; a status column's own tainted cell reads 'suppressed'. In a
 * row whose presence or place depends on a suppressed cell, every value is
 * marked so. Warnings say which columns and how many rows.
 */
export function markSuppressed(columns: readonly ApiColumn[], rows: readonly TaintedRow[]): MarkedResult {
  const names = columns.map((c) => c.name);
  const out = rows.map((row) => [...row.values]);
  const warnings: string[] = [];
  const uncertainRows = rows.filter((r) => r.uncertain).length;
  if (uncertainRows > 0)
    warnings.push(
      `${uncertainRows} of ${rows.length} rows depend on suppressed cells for whether (or where) they appear in the answer: a filter, ordering or LIMIT read a suppressed cell. Every value in them is NULL with status 'suppressed'. To use published cells only, add x_status <> 'suppressed' to the WHERE clause.`,
    );
  const additions: { after: number; name: string; values: Cell[] }[] = [];
  for (let i = 0; i < columns.length; i++) {
    const name = names[i] ?? '';
    const flags = rows.map((row) => row.uncertain || row.taints[i] === true);
    const valueTaints = rows.filter((row) => !row.uncertain && row.taints[i] === true).length;
    if (!flags.includes(true)) continue;
    if (valueTaints > 0)
      warnings.push(
        `Column '${name}': ${valueTaints} of ${rows.length} values depend on suppressed cells (disclosure control) and are returned as NULL with ${name}_status = 'suppressed'.`,
      );
    // A status column marks itself: its tainted cell reads 'suppressed'.
    if (name.endsWith('_status')) {
      out.forEach((row, r) => {
        if (flags[r] === true) row[i] = 'suppressed';
      });
      continue;
    }
    const statusIndex = names.indexOf(`${name}_status`);
    const before = out.map((row) => row[i] ?? null);
    out.forEach((row, r) => {
      if (flags[r] === true) row[i] = null;
    });
    if (statusIndex >= 0) {
      out.forEach((row, r) => {
        if (flags[r] === true) row[statusIndex] = 'suppressed';
      });
    } else {
      additions.push({
        after: i,
        name: `${name}_status`,
        values: before.map((value, r) => (flags[r] === true ? 'suppressed' : value === null ? null : 'published')),
      });
    }
  }
  const outColumns = [...columns];
  // Insert added status columns right after their value column, last first so indexes hold.
  for (const addition of additions.reverse()) {
    outColumns.splice(addition.after + 1, 0, { name: addition.name, type: 'VARCHAR', role: 'status' });
    out.forEach((row, r) => {
      row.splice(addition.after + 1, 0, addition.values[r] ?? null);
    });
  }
  return { columns: outColumns, rows: out, warnings };
}
