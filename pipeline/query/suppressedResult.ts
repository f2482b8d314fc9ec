import type { ApiColumn } from '../../schemas/api.js';

export type Cell = number | string | boolean | null | readonly Cell[] | { readonly [key: string]: Cell };

export interface MarkedResult {
  readonly columns: readonly ApiColumn[];
  readonly rows: readonly (readonly Cell[])[];
  readonly warnings: readonly string[];
}

/**
 * The last step of every query: a cell that is (or holds) NaN depends on a
 * suppressed cell. It becomes NULL, and its column gets a `<col>_status`
 * companion ('suppressed' there, 'published' where a value was computed from
 * published and rounded cells only; NULL where the value is NULL for another
 * reason, such as an outer join). Where the result already has that status
 * column, its cell is forced to 'suppressed'. A warning names each column.
 */
export function markSuppressed(columns: readonly ApiColumn[], rows: readonly (readonly Cell[])[]): MarkedResult {
  const out = rows.map((row) => [...row]);
  const outColumns = [...columns];
  const warnings: string[] = [];
  const names = columns.map((c) => c.name);
  const additions: { after: number; name: string; values: Cell[] }[] = [];
  for (let i = 0; i < columns.length; i++) {
    const name = names[i] ?? '';
    let suppressed = 0;
    const flags = out.map((row) => {
      const hit = holdsNaN(row[i] ?? null);
      if (hit) {
        row[i] = null;
        suppressed++;
      }
      return hit;
    });
    if (suppressed === 0) continue;
    warnings.push(
      `Column '${name}': ${suppressed} of ${out.length} values depend on suppressed cells (disclosure control) and are returned as NULL with ${name}_status = 'suppressed'.`,
    );
    const statusIndex = names.indexOf(`${name}_status`);
    if (statusIndex >= 0) {
      out.forEach((row, r) => {
        if (flags[r] === true) row[statusIndex] = 'suppressed';
      });
    } else {
      additions.push({
        after: i,
        name: `${name}_status`,
        values: out.map((row, r) => (flags[r] === true ? 'suppressed' : row[i] === null ? null : 'published')),
      });
    }
  }
  // Insert added status columns right after their value column, last first so indexes hold.
  for (const addition of additions.reverse()) {
    outColumns.splice(addition.after + 1, 0, { name: addition.name, type: 'VARCHAR', role: 'status' });
    out.forEach((row, r) => row.splice(addition.after + 1, 0, addition.values[r] ?? null));
  }
  return { columns: outColumns, rows: out, warnings };
}

function holdsNaN(value: Cell): boolean {
  if (typeof value === 'number') return Number.isNaN(value);
  if (Array.isArray(value)) return value.some(holdsNaN);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsNaN);
  return false;
}
