import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root, found from this module whether it runs from the sources
 * (tests) or from the compiled `dist/` tree (the installed CLI).
 */
const root = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('boldlink: cannot find the project root (package.json)');
    dir = parent;
  }
  return dir;
})();

export function projectPath(...parts: string[]): string {
  return join(root, ...parts);
}

/**
 * A non-TypeScript file (SQL, JSON reference data, HTML) that lives beside a
 * module in the source tree. Compiled modules run from `dist/`, which holds no
 * copies, so the path is mapped back to the source tree.
 */
export function besideModule(moduleUrl: string, name: string): string {
  const moduleDir = dirname(fileURLToPath(moduleUrl));
  const fromRoot = relative(root, moduleDir).split(sep);
  if (fromRoot[0] === 'dist') fromRoot.shift();
  return join(root, ...fromRoot, name);
}
