import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { manifest as manifestSchema, type Manifest, type StageName } from '../../schemas/manifest.js';
import { ManifestError } from './errors.js';
import { digestFile, digestText } from './fileDigest.js';
import { listFiles } from './fsyncTree.js';
import { MANIFEST_NAME } from './stageOutput.js';

/**
 * A stage output directory that a later stage reads. `open` refuses it unless
 * the manifest parses and every file it lists is there with the same size and
 * sha256, and no unlisted file has been slipped in.
 */
export class StageInput {
  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    readonly manifestSha256: string,
    readonly manifestBytes: number,
  ) {}

  static async open(dir: string, expect?: { stage: StageName | readonly StageName[] }): Promise<StageInput> {
    const root = resolve(dir);
    const manifestPath = join(root, MANIFEST_NAME);
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch (error) {
      const why =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'is missing'
          : `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
      throw new ManifestError(
        'MANIFEST_MISSING',
        manifestPath,
        `${manifestPath} ${why}: ${root} is not a complete boldlink stage output. Rerun the stage that makes it.`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ManifestError(
        'MANIFEST_INVALID',
        manifestPath,
        `${manifestPath} is not valid JSON (truncated or edited?). Rerun the stage that makes it.`,
      );
    }
    const result = manifestSchema.safeParse(parsed);
    if (!result.success) {
      const first = result.error.issues[0];
      const where = first === undefined ? '' : ` at '${first.path.join('.')}': ${first.message}`;
      throw new ManifestError(
        'MANIFEST_INVALID',
        manifestPath,
        `${manifestPath} does not follow the manifest format${where}.`,
      );
    }
    const manifest = result.data;
    if (expect !== undefined) {
      const allowed: readonly StageName[] = typeof expect.stage === 'string' ? [expect.stage] : expect.stage;
      if (!allowed.includes(manifest.stage)) {
        throw new ManifestError(
          'MANIFEST_STAGE',
          manifestPath,
          `${root} is a '${manifest.stage}' output; expected ${allowed.map((s) => `'${s}'`).join(' or ')}.`,
        );
      }
    }
    await verifyFiles(root, manifest);
    return new StageInput(root, manifest, digestText(text), Buffer.byteLength(text));
  }

  /** Absolute path of a listed file; refuses names the manifest does not list. */
  path(relativePath: string): string {
    if (!this.has(relativePath)) {
      throw new ManifestError(
        'MANIFEST_MISMATCH',
        join(this.dir, relativePath),
        `${join(this.dir, relativePath)} is not listed in ${join(this.dir, MANIFEST_NAME)}.`,
      );
    }
    return join(this.dir, relativePath);
  }

  has(relativePath: string): boolean {
    return this.manifest.outputs.some((f) => f.path === relativePath);
  }

  rows(relativePath: string): number | null {
    return this.manifest.outputs.find((f) => f.path === relativePath)?.rows ?? null;
  }
}

async function verifyFiles(root: string, manifest: Manifest): Promise<void> {
  const listed = new Set(manifest.outputs.map((f) => f.path));
  for (const file of manifest.outputs) {
    const path = join(root, file.path);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new ManifestError('MANIFEST_MISMATCH', path, `${path} is listed in the manifest but missing.`);
    }
    if (size !== file.bytes) {
      throw new ManifestError(
        'MANIFEST_MISMATCH',
        path,
        `${path} has ${size} bytes but the manifest says ${file.bytes} (truncated or changed after the stage ran).`,
      );
    }
    const digest = await digestFile(path);
    if (digest.sha256 !== file.sha256) {
      throw new ManifestError(
        'MANIFEST_MISMATCH',
        path,
        `${path} does not match its sha256 in the manifest (changed after the stage ran).`,
      );
    }
  }
  for (const file of await listFiles(root)) {
    if (file !== MANIFEST_NAME && !listed.has(file)) {
      throw new ManifestError(
        'MANIFEST_MISMATCH',
        join(root, file),
        `${join(root, file)} is not listed in the manifest (added after the stage ran).`,
      );
    }
  }
}
