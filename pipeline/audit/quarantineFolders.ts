import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duck } from '../core/duckdb.js';
import { finding, type Finding } from './finding.js';
import { sqlString } from '../core/duckdb.js';
import { countRows } from './integrity.js';
import type { Workspace } from './workspace.js';

/**
 * The quarantine folders the sources keep beside their outputs (raw rows, so
 * mode 0600 and never passed on): readable only by their owner, and holding
 * exactly as many rows as the source's manifest says it quarantined.
 */
export async function checkQuarantineFolders(workspace: Workspace, duck: Duck): Promise<Finding[]> {
  const found: Finding[] = [];
  for (const rel of workspace.quarantineDirs) {
    const dir = join(workspace.root, rel);
    const owner = workspace.stageDirs.find((d) => `${d.relDir}.quarantine` === rel);
    let rows = 0;
    let countable = true;
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const info = await stat(path);
      if (!info.isFile()) continue;
      if ((info.mode & 0o077) !== 0) {
        found.push(
          finding(
            'leak',
            'leak.quarantine-permissions',
            `${rel}/${name}`,
            `A quarantine file (raw source rows, possibly with BSNs) has permissions ${(info.mode & 0o777).toString(8).padStart(3, '0')}: readable by group or others. It must be 0600.`,
          ),
        );
      }
      const counted = name.endsWith('.csv') ? await quarantinedRows(duck, path) : null;
      if (counted === null) countable = false;
      else rows += counted;
    }
    if (owner?.manifest !== undefined && owner.manifest !== null && countable) {
      const declared = owner.manifest.accounting.reduce((s, a) => s + a.rowsQuarantined, 0);
      if (declared !== rows) {
        found.push(
          finding(
            'integrity',
            'integrity.quarantine-count',
            rel,
            `Holds ${rows} quarantined rows; the manifest of ${owner.relDir} accounts for ${declared}.`,
            { count: Math.abs(declared - rows) },
          ),
        );
      }
    }
  }
  return found;
}

/** Quarantined source rows: one per (file, row), since a row that broke two rules is listed twice. */
async function quarantinedRows(duck: Duck, path: string): Promise<number | null> {
  try {
    return Number(
      await duck.scalar<bigint>(
        `SELECT count(*) FROM (SELECT DISTINCT "file", "row" FROM read_csv(${sqlString(path)}, header = true, all_varchar = true))`,
      ),
    );
  } catch {
    return countRows(duck, path);
  }
}
