import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { expect } from 'vitest';
import { type Duck, sqlString } from '../../pipeline/core/duckdb.js';
import { manifest as manifestSchema, type Manifest } from '../../schemas/manifest.js';

/** A line of a JavaScript stack trace ("    at fn (file.js:12:3)"): a steward must never see one. */
export const STACK_LINE = /^\s+at\s.+(:\d+:\d+\)?|\(native\)|<anonymous>)\s*$/m;

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function readManifest(dir: string): Promise<Manifest> {
  return manifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
}

/** What a failed run may leave beside `out`: nothing a later stage could take for an output, and no lock. */
export async function expectNothingLeftBeside(out: string): Promise<void> {
  expect(await exists(join(out, 'manifest.json'))).toBe(false);
  const name = basename(out);
  const leftovers = (await readdir(dirname(out)).catch(() => [] as string[])).filter((e) => e.startsWith(`.${name}.`));
  expect(leftovers).toEqual([]);
}

/** A run refused on a full disk: DISK_FULL said plainly (no stack, no internal error), and no output or leftover. */
export async function expectRefusedForFullDisk(result: { code: number; stderr: string }, out: string): Promise<void> {
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('[DISK_FULL]');
  expect(result.stderr).not.toMatch(STACK_LINE);
  expect(result.stderr).not.toContain('internal error');
  await expectNothingLeftBeside(out);
  expect(await exists(out)).toBe(false);
}

export interface QuarantineRow {
  readonly file: string;
  readonly row: number;
  readonly column: string | null;
  readonly rule: string;
  readonly message: string;
}

export async function readQuarantine(duck: Duck, file: string): Promise<QuarantineRow[]> {
  const rows = await duck.jsonRows<QuarantineRow>(
    `SELECT file, "row"::INTEGER AS "row", "column", rule, message FROM read_csv(${sqlString(file)}, header = true, all_varchar = true, auto_detect = false, columns = {'file': 'VARCHAR', 'row': 'VARCHAR', 'column': 'VARCHAR', 'rule': 'VARCHAR', 'message': 'VARCHAR'})`,
  );
  return rows.map((r) => ({ ...r, row: Number(r.row) }));
}

/** rows_in = rows_out + rows_quarantined per input; the quarantine file and the Parquet outputs hold exactly those rows. */
export async function expectRowsAccountedFor(
  duck: Duck,
  out: string,
  quarantine: readonly QuarantineRow[],
): Promise<Manifest> {
  const manifest = await readManifest(out);
  let rowsOut = 0;
  for (const entry of manifest.accounting) {
    expect(entry.rowsIn, entry.scope).toBe(entry.rowsOut + entry.rowsQuarantined);
    expect(
      Object.values(entry.quarantinedByReason).reduce((s, n) => s + n, 0),
      entry.scope,
    ).toBe(entry.rowsQuarantined);
    expect(quarantine.filter((q) => q.file === entry.scope).length, `quarantine rows of ${entry.scope}`).toBe(
      entry.rowsQuarantined,
    );
    for (const [rule, n] of Object.entries(entry.quarantinedByReason)) {
      expect(quarantine.filter((q) => q.file === entry.scope && q.rule === rule).length, `${entry.scope} ${rule}`).toBe(
        n,
      );
    }
    rowsOut += entry.rowsOut;
  }
  // Every quarantined (file, row) once: a row is never counted twice.
  expect(new Set(quarantine.map((q) => `${q.file}#${q.row}`)).size).toBe(quarantine.length);
  let written = 0;
  for (const file of manifest.outputs.filter((f) => f.path.endsWith('.parquet'))) {
    written += Number(
      await duck.scalar<bigint>(`SELECT count(*) FROM read_parquet(${sqlString(join(out, file.path))})`),
    );
    expect(file.rows).not.toBeNull();
  }
  expect(written).toBe(rowsOut);
  return manifest;
}
