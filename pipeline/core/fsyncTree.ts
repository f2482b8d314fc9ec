import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Flush a file or directory entry to disk, so a rename after it cannot expose unwritten data. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every file under `dir`, relative to it with '/' separators, sorted. */
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

/** fsync every file and directory below `dir`, then `dir` itself. */
export async function fsyncTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(path);
    else await fsyncPath(path);
  }
  await fsyncPath(dir);
}
