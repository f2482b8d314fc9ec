import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { manifest as manifestFormat, stageName, type StageName } from '../../schemas/manifest.js';

/**
 * The workspace as the privacy officer finds it on disk: every stage
 * directory (a folder holding `manifest.json`), and the quarantine and
 * disclosure-log folders that stages leave beside their outputs.
 *
 * Manifests are parsed here with the manifest format (schemas/manifest.ts) as a
 * description only: row accounting is re-added by the integrity check rather
 * than trusted to the format's own refinements, so an inconsistent manifest is
 * still read and reported instead of being skipped.
 */

export const MANIFEST_NAME = 'manifest.json';

const accountingEntry = z
  .object({
    scope: z.string(),
    rowsIn: z.number().int().nonnegative(),
    rowsOut: z.number().int().nonnegative(),
    rowsQuarantined: z.number().int().nonnegative(),
    quarantinedByReason: z.record(z.string(), z.number().int().nonnegative()),
  })
  .strict();

export const auditedManifest = manifestFormat.extend({ accounting: z.array(accountingEntry) });
export type AuditedManifest = z.infer<typeof auditedManifest>;

export interface StageDir {
  readonly absDir: string;
  /** Relative to the workspace, '/' separated; '.' when the workspace itself is a stage directory. */
  readonly relDir: string;
  /** The parsed manifest, or null when it is not JSON or does not follow the format. */
  readonly manifest: AuditedManifest | null;
  /** The `stage` field as written, even when the rest of the manifest is unusable. */
  readonly stage: StageName | null;
  /** Why the manifest could not be used (for the integrity finding). */
  readonly manifestProblem: string | null;
  readonly manifestSha256: string;
  /** Every file actually in the directory except the manifest, relative, sorted. */
  readonly files: readonly string[];
}

export interface Workspace {
  readonly root: string;
  readonly stageDirs: readonly StageDir[];
  /** `<out>.quarantine/` folders (raw rows; stay at the source), relative to the workspace. */
  readonly quarantineDirs: readonly string[];
  /** `<out>.disclosure-log/` folders (stay in the secure environment), relative to the workspace. */
  readonly disclosureLogDirs: readonly string[];
}

export async function scanWorkspace(root: string): Promise<Workspace> {
  const stageDirs: StageDir[] = [];
  const quarantineDirs: string[] = [];
  const disclosureLogDirs: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name === MANIFEST_NAME)) {
      stageDirs.push(await readStageDir(root, dir));
      // Anything nested in a stage directory is one of its files (listed or not); the integrity check sees it.
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      // Hidden siblings are StageOutput's temporary and lock folders of unfinished runs: never an output.
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.name.endsWith('.quarantine')) quarantineDirs.push(relPath(root, path));
      else if (entry.name.endsWith('.disclosure-log')) disclosureLogDirs.push(relPath(root, path));
      else await walk(path);
    }
  };
  await walk(root);
  stageDirs.sort((a, b) => a.relDir.localeCompare(b.relDir));
  return { root, stageDirs, quarantineDirs: quarantineDirs.sort(), disclosureLogDirs: disclosureLogDirs.sort() };
}

async function readStageDir(root: string, absDir: string): Promise<StageDir> {
  const bytes = await readFile(join(absDir, MANIFEST_NAME));
  const manifestSha256 = createHash('sha256').update(bytes).digest('hex');
  const files = (await listFiles(absDir)).filter((f) => f !== MANIFEST_NAME);
  const base = { absDir, relDir: relPath(root, absDir), manifestSha256, files };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ...base, manifest: null, stage: null, manifestProblem: 'is not valid JSON (truncated or edited?)' };
  }
  const stageField = z.object({ stage: stageName }).safeParse(json);
  const stage = stageField.success ? stageField.data.stage : null;
  const parsed = auditedManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` at '${issue.path.join('.')}': ${issue.message}`;
    return { ...base, manifest: null, stage, manifestProblem: `does not follow the manifest format${where}` };
  }
  return { ...base, manifest: parsed.data, stage: parsed.data.stage, manifestProblem: null };
}

/** Every file below `dir`, relative with '/' separators, sorted (our own walk: the audit does not reuse the stages' helpers). */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, rel)));
    else files.push(rel);
  }
  return files.sort();
}

export function relPath(root: string, path: string): string {
  const rel = relative(root, path).split(sep).join('/');
  return rel === '' ? '.' : rel;
}

/** A file of a stage directory, as findings name it (relative to the workspace). */
export function workspaceFile(stageDir: StageDir, file: string): string {
  return stageDir.relDir === '.' ? file : `${stageDir.relDir}/${file}`;
}
