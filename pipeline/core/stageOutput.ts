import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import {
  MANIFEST_FORMAT,
  manifest as manifestSchema,
  type Manifest,
  type ManifestFile,
  type ManifestInput,
  type ManifestKey,
  type RowAccounting,
  type StageName,
} from '../../schemas/manifest.js';
import { Duck } from './duckdb.js';
import { rowsOfFile } from './fileRows.js';
import { OutputError, outputErrorFrom } from './errors.js';
import { digestFile, type FileDigest } from './fileDigest.js';
import { fsyncPath, fsyncTree, listFiles } from './fsyncTree.js';
import { log } from './log.js';
import { OutputLock } from './outputLock.js';
import type { StageInput } from './stageInput.js';
import { toolVersion } from './toolVersion.js';

export const MANIFEST_NAME = 'manifest.json';

export interface StageOutputOptions {
  readonly stage: StageName;
  readonly outDir: string;
  readonly parameters: Record<string, unknown>;
  readonly definitions?: readonly { name: string; version: string }[];
}

const open = new Set<StageOutput>();

/**
 * The one way a stage writes its output directory (docs/design.md, "Stages and
 * their outputs"): files go into a temporary sibling; `commit()` checksums
 * them, writes `manifest.json`, fsyncs everything and renames the directory
 * into place. Until that rename, `outDir` holds the previous complete output
 * (or nothing), never a half-written one that a later stage would accept.
 */
export class StageOutput {
  private readonly inputs: ManifestInput[] = [];
  private readonly keys: ManifestKey[] = [];
  private readonly accounting: RowAccounting[] = [];
  private readonly summary: Record<string, unknown> = {};
  private readonly startedAt = new Date();
  private finished = false;

  private constructor(
    private readonly options: StageOutputOptions,
    readonly outDir: string,
    /** Where the stage writes its files until commit. */
    readonly workDir: string,
    /** Scratch space outside the output (DuckDB spill files, intermediates); removed at the end. */
    readonly scratchDir: string,
    private readonly lock: OutputLock,
  ) {}

  static async create(options: StageOutputOptions): Promise<StageOutput> {
    const outDir = resolve(options.outDir);
    const parent = dirname(outDir);
    const name = basename(outDir);
    try {
      await mkdir(parent, { recursive: true });
    } catch (error) {
      throw outputErrorFrom(error, parent);
    }
    const lock = await OutputLock.acquire(join(parent, `.${name}.lock`), outDir);
    try {
      await refuseForeignDirectory(outDir);
      await removeLeftovers(parent, name);
      const tag = `${process.pid}-${Date.now().toString(36)}`;
      const workDir = join(parent, `.${name}.tmp-${tag}`);
      const scratchDir = join(parent, `.${name}.scratch-${tag}`);
      await mkdir(workDir);
      await mkdir(scratchDir);
      const output = new StageOutput(options, outDir, workDir, scratchDir, lock);
      open.add(output);
      return output;
    } catch (error) {
      await lock.release();
      throw outputErrorFrom(error, outDir);
    }
  }

  /** Absolute path of a file in the output, creating its parent folders. */
  async file(relativePath: string): Promise<string> {
    const path = join(this.workDir, relativePath);
    await mkdir(dirname(path), { recursive: true });
    return path;
  }

  /** Record a raw input file (not a stage directory) with its checksum (`digest`: one already under way, started while the stage read the file). */
  async addInputFile(path: string, rows: number | null = null, started?: Promise<FileDigest>): Promise<void> {
    this.refuseInputInsideOutput(path);
    const digest = await (started ?? digestFile(path));
    this.inputs.push({ path, sha256: digest.sha256, bytes: digest.bytes, rows });
  }

  /** Record an input stage directory by its manifest's checksum. */
  addStageInput(input: StageInput): void {
    this.refuseInputInsideOutput(input.dir);
    const rows = input.manifest.outputs.reduce((sum, f) => sum + (f.rows ?? 0), 0);
    this.inputs.push({
      path: input.dir,
      sha256: input.manifestSha256,
      bytes: input.manifestBytes,
      rows,
      stage: input.manifest.stage,
      manifestSha256: input.manifestSha256,
    });
  }

  addKey(key: ManifestKey): void {
    this.keys.push(key);
  }

  addAccounting(entry: RowAccounting): void {
    this.accounting.push(entry);
  }

  setSummary(name: string, value: unknown): void {
    this.summary[name] = value;
  }

  async commit(): Promise<Manifest> {
    if (this.finished) throw new Error('StageOutput already finished');
    try {
      for (const input of this.inputs) this.refuseInputInsideOutput(input.path);
      const outputs = await this.describeOutputs();
      const manifest: Manifest = manifestSchema.parse({
        format: MANIFEST_FORMAT,
        stage: this.options.stage,
        toolVersion: toolVersion(),
        parameters: this.options.parameters,
        definitions: [...(this.options.definitions ?? [])],
        inputs: this.inputs,
        outputs,
        keys: this.keys,
        accounting: this.accounting,
        summary: this.summary,
        startedAt: this.startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
      });
      await writeFile(join(this.workDir, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
      await fsyncTree(this.workDir);
      await this.swapIntoPlace();
      log().info({ stage: this.options.stage, out: this.outDir, files: outputs.length }, 'stage output committed');
      return manifest;
    } catch (error) {
      await this.abandon();
      throw outputErrorFrom(error, this.outDir);
    } finally {
      await this.finish();
    }
  }

  /** `--out` naming an input (or a folder holding one) would replace that input with this output when it commits. */
  private refuseInputInsideOutput(path: string): void {
    const input = resolve(path);
    if (input === this.outDir || input.startsWith(`${this.outDir}${sep}`)) {
      throw new OutputError(
        'OUTPUT_IS_INPUT',
        `--out ${this.outDir} is, or holds, the input ${input}; writing there would replace it. Choose another --out.`,
      );
    }
  }

  /** Drop everything written so far; `outDir` keeps whatever it held before. */
  async abandon(): Promise<void> {
    if (this.finished) return;
    await rm(this.workDir, { recursive: true, force: true });
    await this.finish();
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    open.delete(this);
    await rm(this.scratchDir, { recursive: true, force: true });
    await this.lock.release();
  }

  private async describeOutputs(): Promise<ManifestFile[]> {
    const files = (await listFiles(this.workDir)).filter((f) => f !== MANIFEST_NAME);
    const outputs: ManifestFile[] = [];
    const duck = await Duck.open({ threads: 1 });
    try {
      for (const file of files) {
        const path = join(this.workDir, file);
        const [digest, rows] = await Promise.all([digestFile(path), rowsOfFile(duck, path)]);
        outputs.push({ path: file, sha256: digest.sha256, bytes: digest.bytes, rows });
      }
    } finally {
      duck.close();
    }
    return outputs;
  }

  private async swapIntoPlace(): Promise<void> {
    const parent = dirname(this.outDir);
    const previous = join(parent, `.${basename(this.outDir)}.old-${process.pid}-${Date.now().toString(36)}`);
    const hadPrevious = await exists(this.outDir);
    if (hadPrevious) await rename(this.outDir, previous);
    await rename(this.workDir, this.outDir);
    await fsyncPath(parent);
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
  }
}

/** Abandon every output still open: called on SIGINT/SIGTERM and on a fatal error. */
export async function abandonOpenOutputs(): Promise<void> {
  await Promise.all([...open].map((output) => output.abandon()));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Replacing a previous boldlink output is fine; deleting a folder of someone's own files is not. */
async function refuseForeignDirectory(outDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw new OutputError('OUTPUT_EXISTS', `${outDir} exists and is not a directory; choose another --out.`);
    throw error;
  }
  if (entries.length > 0 && !entries.includes(MANIFEST_NAME)) {
    throw new OutputError(
      'OUTPUT_EXISTS',
      `${outDir} exists, is not empty and is not a boldlink output (no ${MANIFEST_NAME}); choose another --out or empty it.`,
    );
  }
}

/** Temporary siblings of crashed runs. We hold the lock, so none of them belongs to a live writer. */
async function removeLeftovers(parent: string, name: string): Promise<void> {
  const prefixes = [`.${name}.tmp-`, `.${name}.scratch-`, `.${name}.old-`];
  for (const entry of await readdir(parent)) {
    if (prefixes.some((p) => entry.startsWith(p))) await rm(join(parent, entry), { recursive: true, force: true });
  }
}
