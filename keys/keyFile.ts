import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { KeyError } from '../pipeline/core/errors.js';
import { keyFile, KEY_FORMAT, type KeyFileContents } from '../schemas/keyFile.js';
import type { KeyRole } from '../schemas/manifest.js';
import { fingerprint } from './fingerprint.js';

/**
 * A key loaded from its file. The bytes stay inside this object: it has no
 * toJSON, and its inspection shows only role, id and fingerprint, so logging
 * it by mistake prints no key material.
 */
export class LoadedKey {
  readonly #bytes: Uint8Array;

  private constructor(
    readonly file: string,
    readonly role: KeyRole,
    readonly keyId: string,
    readonly fingerprint: string,
    bytes: Uint8Array,
  ) {
    this.#bytes = bytes;
  }

  /** Read, check permissions, parse; optionally require a role. */
  static async load(file: string, expectRole?: KeyRole): Promise<LoadedKey> {
    await refuseLoosePermissions(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new KeyError(
        'KEY_MISSING',
        file,
        `Cannot read key file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new KeyError(
        'KEY_INVALID',
        file,
        `Key file ${file} is not JSON; expected a ${KEY_FORMAT} file made by 'boldlink keys new'.`,
      );
    }
    const parsed = keyFile.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      // Never echo the offending value: it may be key material.
      throw new KeyError(
        'KEY_INVALID',
        file,
        `Key file ${file} is not a valid ${KEY_FORMAT} file: field '${field}' ${issue?.code === 'invalid_format' || field === 'key' ? 'has the wrong format (expected base64 of 32 bytes)' : (issue?.message ?? 'is invalid')}.`,
      );
    }
    const bytes = new Uint8Array(Buffer.from(parsed.data.key, 'base64'));
    if (bytes.length !== 32) throw new KeyError('KEY_INVALID', file, `Key file ${file}: the key must be 32 bytes.`);
    const key = new LoadedKey(file, parsed.data.role, parsed.data.keyId, fingerprint(bytes), bytes);
    if (expectRole !== undefined && key.role !== expectRole) {
      throw new KeyError(
        'KEY_ROLE',
        file,
        `Key file ${file} has role '${key.role}', but this step needs a '${expectRole}' key.`,
      );
    }
    return key;
  }

  /** The raw key bytes, for the hashing code only. */
  bytes(): Uint8Array {
    return this.#bytes;
  }

  toJSON(): Record<string, string> {
    return { role: this.role, keyId: this.keyId, fingerprint: this.fingerprint };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `LoadedKey(${this.role}, ${this.keyId}, ${this.fingerprint})`;
  }
}

/** Key files readable or writable by group or others are refused: a key is as secret as the data it protects. */
export async function refuseLoosePermissions(file: string): Promise<void> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    throw new KeyError(
      'KEY_MISSING',
      file,
      `Key file ${file} does not exist or cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new KeyError(
      'KEY_PERMISSIONS',
      file,
      `Key file ${file} has permissions ${octal}, readable by group or others. Fix with: chmod 600 ${file}`,
    );
  }
}

/** Create a new key file (mode 0600, never overwriting). */
export async function createKeyFile(
  file: string,
  role: KeyRole,
  keyId: string,
): Promise<KeyFileContents & { fingerprint: string }> {
  const bytes = randomBytes(32);
  const contents: KeyFileContents = {
    format: KEY_FORMAT,
    role,
    keyId,
    created: new Date().toISOString(),
    key: bytes.toString('base64'),
  };
  let handle: FileHandle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new KeyError(
        'KEY_EXISTS',
        file,
        `${file} already exists; a key file is never overwritten. Choose another --out.`,
      );
    throw new KeyError(
      'KEY_MISSING',
      file,
      `Cannot create key file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  try {
    await handle.writeFile(`${JSON.stringify(contents, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  const result = { ...contents, fingerprint: fingerprint(bytes) };
  bytes.fill(0);
  return result;
}
