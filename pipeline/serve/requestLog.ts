import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';

/** What one request did, as the handlers fill it in for the log. */
export interface RequestOutcome {
  researcher: string | null;
  /** The URL query string, or the SQL of POST /api/query. */
  query: string;
  rows: number | null;
  bytes: number;
  error?: string;
}

/** One line of the request log. Never a credential, never a row; every text field capped. */
export interface RequestLogEntry {
  readonly time: string;
  /** The researcher the token belongs to; null when there was no valid token. */
  readonly researcher: string | null;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly status: number;
  readonly rows: number | null;
  readonly ms: number;
  readonly bytes: number;
  readonly error?: string;
  /** Unauthenticated requests answered but not logged since the previous line (see RequestLog). */
  readonly unlogged?: number;
}

/** Caps on each logged text field, in characters. */
export const LOG_FIELD_LIMITS = { method: 16, path: 512, query: 4000, researcher: 100, error: 80 } as const;

/** Query parameters whose value is a credential whatever it looks like. */
const CREDENTIAL_PARAMETER =
  /^(token|access[_-]?token|id[_-]?token|refresh[_-]?token|auth|authorization|bearer|api[_-]?key|apikey|key|secret|client[_-]?secret|password|passwd|pwd|pass|session|session[_-]?id|sid|jwt|sig|signature|credential|credentials|code)$/i;
/** A boldlink token anywhere in a text (query strings, paths, SQL): `bl_` and a long base64url run. */
const TOKEN_TEXT = /bl_[A-Za-z0-9_-]{16,}/g;
/** Other bearer-like secrets: a long run of base64url/hex characters, as a JWT or API key is. */
const LONG_SECRET =
  /(?<![A-Za-z0-9_-])(?:[A-Za-z0-9_-]{40,}|[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})(?![A-Za-z0-9_-])/g;

export const REDACTED = '[redacted]';

/**
 * The append-only JSON-lines log of every request (who, what, how many rows,
 * how long). Opened with O_APPEND and mode 0600; each line is written with
 * one synchronous write before the next request is logged, so a crash or a
 * signal loses no line and lines never interleave.
 *
 * It never stores a credential: the value of a token-like query parameter
 * (token, access_token, api_key, …) is replaced, and so is anything shaped
 * like a token in any field. It cannot be grown without bound by someone
 * without a token: every text field is capped, and requests without a valid
 * token are logged at most `unauthenticatedPerSecond` a second (a burst of
 * twice that); the rest are counted, and the count rides on the next line
 * written. Authenticated requests are always logged.
 */
export class RequestLog {
  private fd: number | undefined;
  private allowance: number;
  private refilledAt: number;
  private unlogged = 0;

  private constructor(
    readonly file: string,
    fd: number,
    private readonly unauthenticatedPerSecond: number,
    private readonly now: () => number,
  ) {
    this.fd = fd;
    this.allowance = unauthenticatedPerSecond * 2;
    this.refilledAt = now();
  }

  static open(file: string, options: { unauthenticatedPerSecond?: number; now?: () => number } = {}): RequestLog {
    const fd = openSync(file, 'a', 0o600);
    fchmodSync(fd, 0o600);
    return new RequestLog(file, fd, options.unauthenticatedPerSecond ?? 20, options.now ?? Date.now);
  }

  write(entry: RequestLogEntry): void {
    if (this.fd === undefined) return;
    if (entry.researcher === null && !this.takeUnauthenticated()) {
      this.unlogged++;
      return;
    }
    const line: RequestLogEntry = {
      ...safeEntry(entry),
      ...(this.unlogged > 0 ? { unlogged: this.unlogged } : {}),
    };
    this.unlogged = 0;
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** A token bucket: refilled continuously, spent one per unauthenticated line. */
  private takeUnauthenticated(): boolean {
    const now = this.now();
    const burst = this.unauthenticatedPerSecond * 2;
    this.allowance = Math.min(burst, this.allowance + ((now - this.refilledAt) / 1000) * this.unauthenticatedPerSecond);
    this.refilledAt = now;
    if (this.allowance < 1) return false;
    this.allowance -= 1;
    return true;
  }
}

/** The entry with credentials redacted and every text field capped. */
export function safeEntry(entry: RequestLogEntry): RequestLogEntry {
  return {
    ...entry,
    researcher: entry.researcher === null ? null : cap(entry.researcher, LOG_FIELD_LIMITS.researcher),
    method: cap(entry.method, LOG_FIELD_LIMITS.method),
    path: cap(redactText(entry.path), LOG_FIELD_LIMITS.path),
    query: cap(
      entry.path === '/api/query' ? redactText(entry.query) : redactQueryString(entry.query),
      LOG_FIELD_LIMITS.query,
    ),
    ...(entry.error === undefined ? {} : { error: cap(entry.error, LOG_FIELD_LIMITS.error) }),
  };
}

/**
 * A quick test that a query string may hold a credential: a parameter name
 * with one of the credential words in it, anything percent-encoded, or
 * token-shaped text. Most requests (format=csv, municipality=rotterdam) pass
 * it and are logged as they are.
 */
const MAYBE_CREDENTIAL_NAME =
  /(?:^|&)[^=&]*(?:tok|key|secret|pass|pwd|auth|bearer|sess|sid|jwt|sig|cred|code)[^=&]*=|%|\+/i;

/** A URL query string with the values of credential parameters, and token-shaped text, replaced. */
export function redactQueryString(query: string): string {
  if (query === '' || !(MAYBE_CREDENTIAL_NAME.test(query) || maybeSecret(query))) return query;
  return query
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const rawName = equals < 0 ? pair : pair.slice(0, equals);
      const rawValue = equals < 0 ? '' : pair.slice(equals + 1);
      const name = decoded(rawName);
      const safeName = redactText(name) === name ? rawName : REDACTED;
      if (equals < 0) return safeName;
      // Judge the value as the server reads it (percent-decoded), so an encoded token is caught too.
      const value = decoded(rawValue);
      return CREDENTIAL_PARAMETER.test(name.trim()) || redactText(value) !== value
        ? `${safeName}=${REDACTED}`
        : `${safeName}=${rawValue}`;
    })
    .join('&');
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

/** Token-shaped text replaced. */
export function redactText(text: string): string {
  if (!maybeSecret(text)) return text;
  return text.replace(TOKEN_TEXT, REDACTED).replace(LONG_SECRET, REDACTED);
}

/** Whether TOKEN_TEXT or LONG_SECRET could match: one pass over the text, for the common case of no match. */
function maybeSecret(text: string): boolean {
  if (text.includes('bl_')) return true;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const word = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
    if (word) {
      run++;
      if (run >= 40) return true;
    } else {
      if (c === 46 && run >= 10) return true;
      run = 0;
    }
  }
  return false;
}

function cap(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…[${text.length - limit} more]`;
}
