import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';

/** One line of the request log. Never the token, never a row. */
export interface RequestLogEntry {
  readonly time: string;
  /** The researcher the token belongs to; null when there was no valid token. */
  readonly researcher: string | null;
  readonly method: string;
  readonly path: string;
  /** The URL query string, or the SQL of POST /api/query. */
  readonly query: string;
  readonly status: number;
  readonly rows: number | null;
  readonly ms: number;
  readonly bytes: number;
  readonly error?: string;
}

/**
 * The append-only JSON-lines log of every request (who, what, how many rows,
 * how long). Opened with O_APPEND and mode 0600; each line is written with
 * one synchronous write before the next request is logged, so a crash or a
 * signal loses no line and lines never interleave.
 */
export class RequestLog {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  static open(file: string): RequestLog {
    const fd = openSync(file, 'a', 0o600);
    fchmodSync(fd, 0o600);
    return new RequestLog(file, fd);
  }

  write(entry: RequestLogEntry): void {
    if (this.fd !== undefined) writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
