import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../pipeline/core/projectPath.js';
import { ALL_ERROR_CODES } from '../pipeline/core/errorCodes.js';

/**
 * Every error code is listed once in docs/errors.md with what it means and what to do, and the page lists no code
 * boldlink does not give (the type of every error class's `code` is the list in pipeline/core/errorCodes.ts).
 */
describe('the error codes and their documentation', () => {
  it('docs/errors.md explains exactly the codes of pipeline/core/errorCodes.ts, each once', async () => {
    const page = await readFile(projectPath('docs/errors.md'), 'utf8');
    const rows = [...page.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \| ([^|]+) \|$/gm)];
    const documented = rows.map((m) => m[1]);
    expect([...documented].sort()).toEqual([...ALL_ERROR_CODES].sort());
    for (const [, code, meaning, action] of rows) {
      expect(meaning?.trim().length, `${code}: meaning`).toBeGreaterThan(10);
      expect(action?.trim().length, `${code}: what to do`).toBeGreaterThan(10);
    }
  });
});
