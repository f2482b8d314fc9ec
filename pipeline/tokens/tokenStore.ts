import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, open, readFile, rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BoldlinkError, UsageError } from '../core/errors.js';
import {
  researcherName,
  TOKEN_PATTERN,
  tokensFile,
  TOKENS_FORMAT,
  type TokenEntry,
  type TokensFile,
} from '../../schemas/tokens.js';

/** The tokens file cannot be used: missing, malformed or readable by others. */
export class TokensFileError extends BoldlinkError {
  readonly exitCode = 1 as const;
  constructor(
    readonly code: 'TOKENS_MISSING' | 'TOKENS_INVALID' | 'TOKENS_PERMISSIONS',
    message: string,
  ) {
    super(message);
  }
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function newToken(): string {
  return `bl_${randomBytes(32).toString('base64url')}`;
}

/** Read and parse a tokens file; a missing file is an empty one only when `allowMissing`. */
export async function readTokensFile(file: string, allowMissing = false): Promise<TokensFile> {
  let text: string;
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) {
      throw new TokensFileError(
        'TOKENS_PERMISSIONS',
        `Tokens file ${file} is readable or writable by group or others (mode ${(info.mode & 0o777).toString(8)}); run 'chmod 600 ${file}'.`,
      );
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof TokensFileError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && allowMissing)
      return { format: TOKENS_FORMAT, tokens: [] };
    throw new TokensFileError(
      'TOKENS_MISSING',
      `Cannot read tokens file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); create it with 'boldlink tokens add --name NAME --file ${file}'.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TokensFileError(
      'TOKENS_INVALID',
      `Tokens file ${file} is not JSON; expected a ${TOKENS_FORMAT} file made by 'boldlink tokens add'.`,
    );
  }
  const parsed = tokensFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TokensFileError(
      'TOKENS_INVALID',
      `Tokens file ${file} is not a valid ${TOKENS_FORMAT} file at '${issue?.path.join('.') ?? ''}': ${issue?.message ?? 'invalid'}.`,
    );
  }
  return parsed.data;
}

/**
 * Add a researcher: returns the new token (to be shown once) and stores only
 * its SHA-256. The file is replaced atomically with mode 0600.
 */
export async function addToken(file: string, name: string, now = new Date()): Promise<string> {
  const checkedName = researcherName.safeParse(name);
  if (!checkedName.success) throw new UsageError(`--name: ${checkedName.error.issues[0]?.message ?? 'invalid'}`);
  const current = await readTokensFile(file, true);
  if (current.tokens.some((t) => t.name === checkedName.data)) {
    throw new UsageError(
      `Tokens file ${file} already has a token for '${checkedName.data}'; choose another name (e.g. '${checkedName.data} 2').`,
    );
  }
  const token = newToken();
  const entry: TokenEntry = {
    name: checkedName.data,
    sha256: hashToken(token).toString('hex'),
    created: now.toISOString(),
  };
  const next: TokensFile = { format: TOKENS_FORMAT, tokens: [...current.tokens, entry] };
  const temporary = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(next, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(temporary, 0o600);
  await rename(temporary, file);
  return token;
}

/**
 * The researchers allowed in, by token hash. Every stored hash is compared,
 * in constant time, so neither the answer's timing nor its path says how
 * close a guess came or which entry it matched.
 */
export class TokenRegistry {
  private constructor(private readonly entries: readonly { name: string; hash: Buffer }[]) {}

  static from(file: TokensFile): TokenRegistry {
    return new TokenRegistry(file.tokens.map((t) => ({ name: t.name, hash: Buffer.from(t.sha256, 'hex') })));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The researcher a bearer token belongs to, or undefined. */
  identify(token: string): string | undefined {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const presented = hashToken(token);
    let found: string | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(presented, entry.hash) && found === undefined) found = entry.name;
    }
    return found;
  }
}
