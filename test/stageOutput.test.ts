import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockError, ManifestError } from '../pipeline/core/errors.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { StageInput } from '../pipeline/core/stageInput.js';
import { StageOutput } from '../pipeline/core/stageOutput.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-stage-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeSmallStage(outDir: string, label = 'first') {
  const output = await StageOutput.create({
    stage: 'metrics',
    outDir,
    parameters: { label },
    definitions: [{ name: 'spells', version: 'v1' }],
  });
  const duck = await Duck.open({ threads: 1 });
  try {
    await duck.run(
      `COPY (SELECT range AS n, 'x' || range AS label FROM range(25)) TO ${sqlString(await output.file('tables/numbers.parquet'))} (FORMAT parquet)`,
    );
  } finally {
    duck.close();
  }
  await writeFile(await output.file('notes.csv'), 'a,b\n1,2\n3,4\n');
  output.addKey({ role: 'source', keyId: 'test', fingerprint: '0123456789abcdef', use: 'pseudonymize' });
  output.addAccounting({
    scope: 'notes.csv',
    rowsIn: 3,
    rowsOut: 2,
    rowsQuarantined: 1,
    quarantinedByReason: { 'bsn.elfproef': 1 },
  });
  output.setSummary('label', label);
  return output.commit();
}

describe('a stage output and its manifest', () => {
  it('round-trips: what commit wrote, StageInput reads back with checksums and row counts', async () => {
    const outDir = join(root, 'metrics');
    const written = await writeSmallStage(outDir);
    const input = await StageInput.open(outDir, { stage: 'metrics' });
    expect(input.manifest).toEqual(written);
    expect(input.manifest.outputs.map((f) => [f.path, f.rows])).toEqual([
      ['notes.csv', 2],
      ['tables/numbers.parquet', 25],
    ]);
    expect(input.manifest.keys[0]?.fingerprint).toBe('0123456789abcdef');
    expect(input.path('tables/numbers.parquet')).toBe(join(outDir, 'tables/numbers.parquet'));
    // Nothing but the output and no leftovers beside it.
    expect((await readdir(root)).sort()).toEqual(['metrics']);
  });

  it('refuses an input whose file had one byte changed, naming the file', async () => {
    const outDir = join(root, 'metrics');
    await writeSmallStage(outDir);
    const file = join(outDir, 'notes.csv');
    const bytes = await readFile(file);
    bytes[5] = bytes[5] === 0x31 ? 0x32 : 0x31;
    await writeFile(file, bytes);
    const error = await StageInput.open(outDir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).code).toBe('MANIFEST_MISMATCH');
    expect((error as ManifestError).message).toContain('notes.csv');
  });

  it('refuses a truncated data file and a file added after the stage ran', async () => {
    const outDir = join(root, 'metrics');
    await writeSmallStage(outDir);
    await truncate(join(outDir, 'tables/numbers.parquet'), 10);
    await expect(StageInput.open(outDir)).rejects.toThrow(/numbers\.parquet has 10 bytes/);
    await writeSmallStage(outDir);
    await writeFile(join(outDir, 'extra.csv'), 'planted\n');
    await expect(StageInput.open(outDir)).rejects.toThrow(/extra\.csv is not listed/);
  });

  it('refuses a truncated manifest and a missing one', async () => {
    const outDir = join(root, 'metrics');
    await writeSmallStage(outDir);
    const manifestPath = join(outDir, 'manifest.json');
    const text = await readFile(manifestPath, 'utf8');
    await writeFile(manifestPath, text.slice(0, text.length / 2));
    const error = await StageInput.open(outDir).catch((e: unknown) => e);
    expect((error as ManifestError).code).toBe('MANIFEST_INVALID');
    expect((error as ManifestError).message).toContain('manifest.json');
    await rm(manifestPath);
    await expect(StageInput.open(outDir)).rejects.toMatchObject({ code: 'MANIFEST_MISSING' });
  });

  it('refuses a manifest whose row accounting does not add up', async () => {
    const outDir = join(root, 'metrics');
    await writeSmallStage(outDir);
    const manifestPath = join(outDir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    manifest.accounting[0].rowsOut = 3;
    await writeFile(manifestPath, JSON.stringify(manifest));
    await expect(StageInput.open(outDir)).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
  });

  it('refuses an input of the wrong stage', async () => {
    const outDir = join(root, 'metrics');
    await writeSmallStage(outDir);
    await expect(StageInput.open(outDir, { stage: 'link' })).rejects.toMatchObject({ code: 'MANIFEST_STAGE' });
  });

  it('replaces a previous output only when the new one is complete', async () => {
    const outDir = join(root, 'metrics');
    await writeSmallStage(outDir, 'first');
    const output = await StageOutput.create({ stage: 'metrics', outDir, parameters: {} });
    await writeFile(await output.file('half.csv'), 'a\n');
    // Until commit, the previous complete output is what a reader sees.
    expect((await StageInput.open(outDir)).manifest.summary.label).toBe('first');
    await output.abandon();
    expect((await StageInput.open(outDir)).manifest.summary.label).toBe('first');
    await writeSmallStage(outDir, 'second');
    expect((await StageInput.open(outDir)).manifest.summary.label).toBe('second');
    expect((await readdir(root)).sort()).toEqual(['metrics']);
  });

  it('does not delete a folder of someone else’s files', async () => {
    const home = join(root, 'home');
    await mkdir(home);
    await writeFile(join(home, 'precious.txt'), 'x');
    await expect(StageOutput.create({ stage: 'metrics', outDir: home, parameters: {} })).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
    });
    expect(await readFile(join(home, 'precious.txt'), 'utf8')).toBe('x');
  });

  it('lets only one run write an output at a time', async () => {
    const outDir = join(root, 'metrics');
    const first = await StageOutput.create({ stage: 'metrics', outDir, parameters: {} });
    await expect(StageOutput.create({ stage: 'metrics', outDir, parameters: {} })).rejects.toBeInstanceOf(LockError);
    await first.abandon();
    const second = await StageOutput.create({ stage: 'metrics', outDir, parameters: {} });
    await second.abandon();
  });
});

describe('a writer killed with SIGKILL', () => {
  const script = projectPath('dist/test/support/writeStageSlowly.js');

  function runUntil(outDir: string, label: string, killAtLine: string | undefined): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script, outDir, label, '40'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const lines: string[] = [];
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          if (line === killAtLine) child.kill('SIGKILL');
        }
      });
      child.on('error', reject);
      child.on('close', () => resolve(lines));
    });
  }

  // Kill points from early writing to the middle of commit (checksumming, fsync, rename).
  it.each(['step 1', 'step 20', 'step 40', 'committing'])(
    'at "%s" leaves the previous complete output, and a rerun succeeds',
    async (killAt) => {
      const outDir = join(root, 'metrics');
      await runUntil(outDir, 'previous', undefined);
      expect((await StageInput.open(outDir)).manifest.parameters.label).toBe('previous');

      await runUntil(outDir, 'killed', killAt);
      // Whatever moment the kill hit: the previous complete output, or the new complete one — never a partial one.
      const input = await StageInput.open(outDir).catch((e: unknown) => e);
      if (input instanceof StageInput) {
        expect(['previous', 'killed']).toContain(input.manifest.parameters.label);
        if (input.manifest.parameters.label === 'killed') expect(input.rows('data.csv')).toBe(40);
      } else {
        expect(input).toBeInstanceOf(ManifestError);
      }

      // The stale lock and temporary directory do not stop a rerun.
      const lines = await runUntil(outDir, 'rerun', undefined);
      expect(lines).toContain('committed');
      expect((await StageInput.open(outDir)).manifest.parameters.label).toBe('rerun');
      expect((await readdir(root)).sort()).toEqual(['metrics']);
    },
  );

  it('with no previous output leaves none that a stage would accept', async () => {
    const outDir = join(root, 'metrics');
    await runUntil(outDir, 'killed', 'step 10');
    await expect(StageInput.open(outDir)).rejects.toBeInstanceOf(ManifestError);
  });
});
