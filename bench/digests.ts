import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { DEMO_DEFAULTS, DemoChain, type DemoScale } from '../pipeline/demo/demoChain.js';
import { runStage } from '../pipeline/demo/stageRunner.js';
import { DemoWorkspace } from '../pipeline/demo/workspace.js';
import { KEY_FORMAT, keyFile } from '../schemas/keyFile.js';
import type { KeyRole } from '../schemas/manifest.js';
import { workspaceDigests } from './stageDigests.js';

/**
 * `npm run digests`: the demo's chain (generate → pseudonymize four gemeenten and the holder → link → metrics →
 * release) at the demo's scale and seed, with fixed synthetic keys, and the sha256 of every output file, one
 * `sha256  path` line each. Two builds that print the same lines wrote byte-identical outputs, so a refactor can
 * show it changed no output: run it before and after, and diff.
 *
 * Manifests are hashed without what differs between two runs of the same work (their timestamps, the run's and the
 * checkout's folders, and the checksums of input manifests that hold those); the release's report.html names its
 * input's finishing time, which is replaced by a placeholder before hashing (and its checksum left out of the
 * release manifest). Everything else is hashed as written.
 *
 *   npm run digests [-- --scale tiny] [-- --seed N] [-- --keep DIR]
 */
const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: DEMO_DEFAULTS.scale },
    seed: { type: 'string', default: String(DEMO_DEFAULTS.seed) },
    keep: { type: 'string' },
  },
});
const scale = values.scale as DemoScale;
if (!['tiny', 'small', 'city', 'national'].includes(scale)) throw new Error(`--scale: tiny, small, city or national`);
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0) throw new Error('--seed: a whole number ≥ 0');

const root = values.keep ?? (await mkdtemp(join(tmpdir(), 'boldlink-digests-')));
if (values.keep !== undefined) await rm(root, { recursive: true, force: true });
const ws = new DemoWorkspace(root);
const chain = new DemoChain(ws, { scale, seed, project: DEMO_DEFAULTS.project });

try {
  await writeFixedKey(ws.sourceKey, 'source', 'digests-src');
  await writeFixedKey(ws.ttpKey, 'ttp', 'digests-ttp');
  const step = async ({ label, args }: { label: string; args: string[] }) => {
    const run = await runStage(label, args);
    process.stderr.write(`  ✓ ${label.padEnd(34)} ${run.seconds.toFixed(1).padStart(6)} s\n`);
  };
  await step(chain.generate());
  const twoAtATime = pLimit(2);
  await Promise.all(chain.pseudonymize().map((s) => twoAtATime(() => step(s))));
  await step(chain.link());
  await step(chain.metrics());
  await step(chain.release());

  const lines = await workspaceDigests(ws);
  process.stdout.write(
    `# boldlink digests: scale ${scale}, seed ${seed}, project ${DEMO_DEFAULTS.project}, fixed synthetic keys; ` +
      `manifests without timestamps, report.html without its input's finishing time\n`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  if (values.keep === undefined) await rm(root, { recursive: true, force: true });
}

/**
 * A key file with bytes derived from a fixed label, so every run (and every build) pseudonymizes alike. The
 * bytes are synthetic, made for this check only, and never printed.
 */
async function writeFixedKey(file: string, role: KeyRole, keyId: string): Promise<void> {
  const bytes = createHash('sha256').update(`boldlink/digests/${role}-key/v1`).digest();
  const contents = keyFile.parse({
    format: KEY_FORMAT,
    role,
    keyId,
    created: '2026-01-01T00:00:00.000Z',
    key: bytes.toString('base64'),
  });
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(contents, null, 2)}\n`);
  } finally {
    await handle.close();
  }
}
