import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listFiles } from '../../pipeline/core/fsyncTree.js';

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
 */
export async function comparableManifest(dir: string, root: string): Promise<unknown> {
  const text = (await readFile(join(dir, 'manifest.json'), 'utf8')).split(root).join('<root>');
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
  return manifest;
}
