import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Duck } from '../core/duckdb.js';
import { finding, type CheckResult, type Finding } from './finding.js';
import { rowsOfFile } from '../core/fileRows.js';
import { MANIFEST_NAME, workspaceFile, type StageDir, type Workspace } from './workspace.js';

/**
 * Integrity: every manifest's checksums, sizes and row counts recomputed from
 * the files themselves (own sha256, own DuckDB count), no unlisted or missing
 * files, row accounting that adds up, and each stage's inputs present in the
 * workspace exactly as they were consumed (by manifest checksum).
 */
export async function checkIntegrity(workspace: Workspace, duck: Duck): Promise<CheckResult> {
  const findings: Finding[] = [];
  let filesChecked = 0;
  let rowsRecounted = 0;
  const outside = { checked: 0 };
  if (workspace.stageDirs.length === 0) {
    findings.push(
      finding(
        'integrity',
        'integrity.no-stage-directories',
        '.',
        'No stage directory (a folder with manifest.json) was found in the workspace: there is nothing to vouch for. Check --workspace.',
      ),
    );
  }
  for (const dir of workspace.stageDirs) {
    if (dir.manifest === null) {
      findings.push(
        finding(
          'integrity',
          'integrity.manifest-invalid',
          workspaceFile(dir, MANIFEST_NAME),
          `The manifest ${dir.manifestProblem ?? 'cannot be read'}; nothing in this directory can be vouched for.`,
        ),
      );
      continue;
    }
    const listed = new Set(dir.manifest.outputs.map((f) => f.path));
    for (const output of dir.manifest.outputs) {
      const where = workspaceFile(dir, output.path);
      const path = join(dir.absDir, output.path);
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch {
        findings.push(finding('integrity', 'integrity.missing-file', where, 'Listed in the manifest but missing.'));
        continue;
      }
      filesChecked++;
      if (size !== output.bytes)
        findings.push(
          finding(
            'integrity',
            'integrity.size',
            where,
            `Has ${size} bytes; the manifest says ${output.bytes} (changed after the stage ran).`,
          ),
        );
      // Hashing (this thread) and counting (DuckDB's threads) read the same file side by side.
      const [sha256, counted] = await Promise.all([
        sha256Of(path),
        output.rows === null ? null : countRows(duck, path),
      ]);
      if (sha256 !== output.sha256)
        findings.push(
          finding(
            'integrity',
            'integrity.sha256',
            where,
            'Does not match its sha256 in the manifest (changed after the stage ran).',
          ),
        );
      if (output.rows !== null) {
        if (counted !== null) {
          rowsRecounted++;
          if (counted !== output.rows)
            findings.push(
              finding(
                'integrity',
                'integrity.rows',
                where,
                `Holds ${counted} rows; the manifest says ${output.rows}.`,
                { count: Math.abs(counted - output.rows) },
              ),
            );
        }
      }
    }
    for (const file of dir.files) {
      if (!listed.has(file))
        findings.push(
          finding(
            'integrity',
            'integrity.unlisted-file',
            workspaceFile(dir, file),
            'Present in the stage directory but not listed in its manifest (added after the stage ran).',
          ),
        );
    }
    findings.push(...accountingFindings(dir));
    findings.push(...(await inputChainFindings(workspace, dir, outside)));
  }
  return {
    findings,
    summary: {
      check: 'integrity',
      title: 'Integrity of the stage directories',
      covered: [
        `${workspace.stageDirs.length} stage directories (${stageCounts(workspace)})`,
        `${filesChecked} files checksummed (sha256, size) against their manifests`,
        `${rowsRecounted} row counts recounted (docs/contracts.md, "Rows of a file")`,
        ...(outside.checked > 0
          ? [`${outside.checked} input stage directories outside the workspace found by their manifest checksums`]
          : []),
      ],
    },
  };
}

function accountingFindings(dir: StageDir): Finding[] {
  const manifest = dir.manifest;
  if (manifest === null) return [];
  const where = workspaceFile(dir, MANIFEST_NAME);
  const found: Finding[] = [];
  for (const entry of manifest.accounting) {
    if (entry.rowsIn !== entry.rowsOut + entry.rowsQuarantined) {
      found.push(
        finding(
          'integrity',
          'integrity.row-accounting',
          where,
          `Accounting for '${entry.scope}': ${entry.rowsIn} rows in but ${entry.rowsOut} out + ${entry.rowsQuarantined} quarantined.`,
          { count: Math.abs(entry.rowsIn - entry.rowsOut - entry.rowsQuarantined) },
        ),
      );
    }
    const byReason = Object.values(entry.quarantinedByReason).reduce((s, n) => s + n, 0);
    if (byReason !== entry.rowsQuarantined) {
      found.push(
        finding(
          'integrity',
          'integrity.row-accounting',
          where,
          `Accounting for '${entry.scope}': quarantine reasons add up to ${byReason}, not ${entry.rowsQuarantined}.`,
          { count: Math.abs(byReason - entry.rowsQuarantined) },
        ),
      );
    }
  }
  if (manifest.stage === 'pseudonymize' && manifest.accounting.length > 0) {
    // Every row a source delivered either reached a table or the quarantine.
    const rowsOut = manifest.accounting.reduce((s, e) => s + e.rowsOut, 0);
    const written = manifest.outputs.filter((f) => f.path.endsWith('.parquet')).reduce((s, f) => s + (f.rows ?? 0), 0);
    if (rowsOut !== written) {
      found.push(
        finding(
          'integrity',
          'integrity.row-accounting',
          where,
          `The accounting says ${rowsOut} rows went out, but the output tables hold ${written}.`,
          { count: Math.abs(rowsOut - written) },
        ),
      );
    }
  }
  return found;
}

/**
 * Every stage directory this one read is either in the workspace with the manifest checksum the stage recorded,
 * or, when it lies outside the folder being audited (one stage folder of a run named on its own), at the path the
 * stage read it from with that checksum. An input inside the folder must be found there.
 */
async function inputChainFindings(
  workspace: Workspace,
  dir: StageDir,
  outside: { checked: number },
): Promise<Finding[]> {
  const manifest = dir.manifest;
  if (manifest === null) return [];
  const known = new Set(workspace.stageDirs.map((d) => d.manifestSha256));
  const found: Finding[] = [];
  for (const input of manifest.inputs) {
    if (input.manifestSha256 === undefined || known.has(input.manifestSha256)) continue;
    const inputDir = resolve(input.path);
    const inside = relative(resolve(workspace.root), inputDir);
    if (isAbsolute(input.path) && (inside.startsWith('..') || isAbsolute(inside))) {
      const recorded = await sha256Of(join(inputDir, MANIFEST_NAME)).catch(() => null);
      if (recorded === input.manifestSha256) {
        outside.checked++;
        continue;
      }
    }
    found.push(
      finding(
        'integrity',
        'integrity.input-chain',
        workspaceFile(dir, MANIFEST_NAME),
        `Input '${input.path}' (a ${input.stage ?? 'stage'} output) is not in the workspace as this stage read it: no manifest here has the checksum it recorded (missing, or changed afterwards).`,
      ),
    );
  }
  return found;
}

function stageCounts(workspace: Workspace): string {
  const counts = new Map<string, number>();
  for (const d of workspace.stageDirs)
    counts.set(d.stage ?? 'unreadable', (counts.get(d.stage ?? 'unreadable') ?? 0) + 1);
  return [...counts].map(([stage, n]) => `${n} ${stage}`).join(', ') || 'none';
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The rows of a file as every stage counts them (core/fileRows.ts); null when it is not a table or cannot be read. */
export async function countRows(duck: Duck, path: string): Promise<number | null> {
  try {
    return await rowsOfFile(duck, path);
  } catch {
    return null;
  }
}
