import { type Stats, statSync } from 'node:fs';
import { TOKENS_FORMAT } from '../../schemas/tokens.js';
import { log } from '../core/log.js';
import { readTokensFile, TokenRegistry } from '../tokens/tokenStore.js';

/**
 * Who a request comes from: the bearer token checked against the tokens
 * file. The file's metadata is looked at on every request (one stat, a few
 * microseconds): a file made readable by group or others is refused from
 * the next request on, and a changed file is read again, so adding a
 * researcher needs no restart. Fails closed: while the file is unreadable,
 * invalid or too open, no token is accepted.
 */
/** What identifies one state of the tokens file. */
interface FileVersion {
  readonly mtimeMs: number;
  readonly size: number;
  readonly ino: number;
  readonly mode: number;
}

export class TokenSource {
  private refusing: string | undefined;

  private constructor(
    private readonly file: string,
    private registry: TokenRegistry,
    private version: FileVersion | undefined,
  ) {}

  static async open(file: string): Promise<TokenSource> {
    // Refuses a missing, invalid or too open file at start, with the reason.
    const registry = TokenRegistry.from(await readTokensFile(file));
    return new TokenSource(file, registry, fileVersion(statSync(file)));
  }

  /** The researcher a request's Authorization header names, or undefined. */
  async identify(authorization: string | undefined): Promise<string | undefined> {
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(authorization ?? '');
    if (match?.[1] === undefined) return undefined;
    if (!(await this.current())) return undefined;
    return this.registry.identify(match[1]);
  }

  /** Whether tokens may be accepted now; re-reads the file when it changed. */
  private async current(): Promise<boolean> {
    let info: Stats;
    try {
      info = statSync(this.file);
    } catch (error) {
      return this.refuse(`cannot stat (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if ((info.mode & 0o077) !== 0)
      return this.refuse(`readable or writable by group or others (mode ${(info.mode & 0o777).toString(8)})`);
    if (this.refusing !== undefined || !sameVersion(info, this.version)) {
      const version = fileVersion(info);
      try {
        this.registry = TokenRegistry.from(await readTokensFile(this.file));
        this.version = version;
      } catch (error) {
        return this.refuse((error as Error).message);
      }
      if (this.refusing !== undefined) log().warn({ file: this.file }, 'tokens file usable again: accepting tokens');
      this.refusing = undefined;
    }
    return true;
  }

  private refuse(reason: string): false {
    if (this.refusing === undefined)
      log().error({ file: this.file, reason }, 'tokens file unusable: refusing every token until it is fixed');
    this.refusing = reason;
    this.registry = TokenRegistry.from({ format: TOKENS_FORMAT, tokens: [] });
    this.version = undefined;
    return false;
  }
}

function fileVersion(info: Stats): FileVersion {
  return { mtimeMs: info.mtimeMs, size: info.size, ino: info.ino, mode: info.mode };
}

function sameVersion(info: Stats, version: FileVersion | undefined): boolean {
  return (
    version !== undefined &&
    info.mtimeMs === version.mtimeMs &&
    info.size === version.size &&
    info.ino === version.ino &&
    info.mode === version.mode
  );
}
