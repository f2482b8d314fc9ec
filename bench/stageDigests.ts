import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { listFiles } from '../pipeline/core/fsyncTree.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import type { DemoWorkspace } from '../pipeline/demo/workspace.js';
import { HOLDER_SOURCE, MUNICIPALITIES } from '../pipeline/demo/workspace.js';

/** sha256 of every file in a stage directory but its manifest, by relative path. */
export async function dataFileDigests(dir: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const file of (await listFiles(dir)).sort()) {
    if (file === 'manifest.json') continue;
    digests[file] = createHash('sha256')
      .update(await readFile(join(dir, file)))
      .digest('hex');
  }
  return digests;
}

/**
 * A manifest with what may differ between two runs of the same work taken
 * out: the timestamps, and the run's own folder in paths (replaced by `<root>`).
 * `project` names the checkout's folder too (replaced by `<project>`), so two
 * checkouts of the project compare alike; `hashedApart` lists outputs whose
 * checksum the caller compares in its own way (a file that names a time).
 */
export async function comparableManifest(
  dir: string,
  root: string,
  options: { readonly project?: string; readonly hashedApart?: readonly string[] } = {},
): Promise<unknown> {
  let text = (await readFile(join(dir, 'manifest.json'), 'utf8')).split(root).join('<root>');
  if (options.project !== undefined) text = text.split(options.project).join('<project>');
  const manifest = JSON.parse(text) as Record<string, unknown>;
  delete manifest.startedAt;
  delete manifest.finishedAt;
  // An input stage directory is pinned by its manifest's checksum, which covers that run's timestamps and folder.
  for (const input of (manifest.inputs as Record<string, unknown>[] | undefined) ?? []) {
    if (input.stage !== undefined) {
      delete input.sha256;
      delete input.bytes;
      delete input.manifestSha256;
    }
  }
  for (const output of (manifest.outputs as Record<string, unknown>[] | undefined) ?? []) {
    if (options.hashedApart?.includes(output.path as string) === true) delete output.sha256;
  }
  return manifest;
}

/**
 * `sha256  path` of every output of the demo chain in a workspace, sorted by path: each stage directory's data
 * files, the folders the stages leave beside them (quarantines, the disclosure log), and each manifest as
 * {@link comparableManifest} gives it. The release's report.html names its input's finishing time, which is
 * replaced by a placeholder before hashing.
 */
export async function workspaceDigests(ws: DemoWorkspace): Promise<string[]> {
  const sources = [...MUNICIPALITIES, HOLDER_SOURCE];
  const stageDirs = [ws.raw, ...sources.map((s) => ws.pseudonymized(s)), ws.linked, ws.metrics, ws.release];
  const foldersBeside = [
    ...sources.map((s) => `${ws.pseudonymized(s)}.quarantine`),
    `${ws.metrics}.quarantine`,
    `${ws.release}.disclosure-log`,
  ];
  const report = join(ws.release, 'report.html');
  const digests = new Map<string, string>();
  for (const dir of [...stageDirs, ...foldersBeside])
    for (const [file, sha256] of Object.entries(await dataFileDigests(dir).catch(absentIsEmpty)))
      digests.set(join(dir, file), sha256);
  for (const dir of stageDirs) {
    const manifest = await comparableManifest(dir, ws.root, {
      project: projectPath('.'),
      hashedApart: ['report.html'],
    });
    digests.set(join(dir, 'manifest.json'), sha256Of(JSON.stringify(manifest)));
  }
  const metricsFinished = (
    JSON.parse(await readFile(join(ws.metrics, 'manifest.json'), 'utf8')) as { finishedAt: string }
  ).finishedAt;
  digests.set(report, sha256Of((await readFile(report, 'utf8')).split(metricsFinished).join('<metrics finishedAt>')));
  return [...digests]
    .map(([file, sha256]) => [relative(ws.root, file), sha256] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, sha256]) => `${sha256}  ${file}`);
}

function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A folder a stage writes only when it has something to put there (the metrics quarantine) may be absent. */
function absentIsEmpty(error: NodeJS.ErrnoException): Record<string, string> {
  if (error.code === 'ENOENT') return {};
  throw error;
}
