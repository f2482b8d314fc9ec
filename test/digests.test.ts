import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceDigests } from '../bench/stageDigests.js';
import { listFiles } from '../pipeline/core/fsyncTree.js';
import { DemoWorkspace } from '../pipeline/demo/workspace.js';
import { type ChainRun, runChain } from './support/tinyChain.js';

/**
 * `npm run digests` shows a change kept every output byte-identical. That holds only if its digests are the same
 * for two runs of the same work (in different folders), cover every output file, and change when an output does.
 */
describe('the output digests of the demo chain', { timeout: 120_000 }, () => {
  let root: string;
  let first: ChainRun;
  let second: ChainRun;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-digests-test-'));
    first = await runChain({ root: join(root, 'first'), persons: 150, logLevel: 'warn' });
    second = await runChain({
      root: join(root, 'second'),
      persons: 150,
      logLevel: 'warn',
      keys: { source: first.sourceKey, ttp: first.ttpKey },
    });
  }, 240_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('are the same for the same work run again in another folder, at another time', async () => {
    const a = await workspaceDigests(new DemoWorkspace(first.root));
    expect(a.length).toBeGreaterThan(50);
    const firstReport = await readFile(join(first.release, 'report.html'), 'utf8');
    expect(await readFile(join(second.release, 'report.html'), 'utf8')).not.toEqual(firstReport);
    expect(await workspaceDigests(new DemoWorkspace(second.root))).toEqual(a);
  });

  it('list every file the stages wrote, each once', async () => {
    const listed = (await workspaceDigests(new DemoWorkspace(first.root))).map((l) => l.slice(66));
    const written = [
      ...(await listFiles(first.raw)).map((f) => relative(first.root, join(first.raw, f))),
      ...(await listFiles(join(first.root, 'workspace'))).map((f) => join('workspace', f)),
    ].sort();
    expect(listed).toEqual(written);
  });

  it('change for exactly the output that changed', async () => {
    const ws = new DemoWorkspace(second.root);
    const before = await workspaceDigests(ws);
    const quarantine = join(second.pseudonymized.rotterdam!, '..', 'pseudonymized.quarantine', 'quarantine.csv');
    await appendFile(quarantine, '\n');
    const report = join(second.release, 'report.html');
    await writeFile(report, `${await readFile(report, 'utf8')} `);
    const after = await workspaceDigests(ws);
    const changed = after.filter((line) => !before.includes(line)).map((l) => l.slice(66));
    expect(changed).toEqual([
      'workspace/release/report.html',
      'workspace/sources/rotterdam/pseudonymized.quarantine/quarantine.csv',
    ]);
  });
});
