/**
 * Typed errors with stable codes. A steward reads the message; scripts read the
 * code and the exit status (0 ok, 1 data/validation/audit finding, 2 usage).
 *
 * Messages must never carry a BSN, key bytes or a pseudonym: they are printed
 * through the identifier scrubber anyway, but the first defence is not to put
 * values in at all. Name the file, row and column instead.
 */

import type { DataErrorCode, ErrorCode, KeyErrorCode, ManifestErrorCode, OutputErrorCode } from './errorCodes.js';

export type { ErrorCode } from './errorCodes.js';

export type ExitCode = 0 | 1 | 2;

/** Where in an input a problem sits, and which rule it broke (zod-style issue). */
export interface DataIssue {
  readonly file: string;
  /** 1-based data row (header excluded); absent for file-level problems. */
  readonly row?: number;
  readonly column?: string;
  /** Stable machine-readable rule name, e.g. `bsn.elfproef` or `date.format`. */
  readonly rule: string;
  readonly message: string;
}

export abstract class BoldlinkError extends Error {
  /** Stable, listed in errorCodes.ts and docs/errors.md. */
  abstract readonly code: ErrorCode;
  abstract readonly exitCode: ExitCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Wrong command-line use: unknown option, missing argument, conflicting flags. */
export class UsageError extends BoldlinkError {
  readonly code = 'USAGE';
  readonly exitCode = 2 as const;
}

/** Input data that cannot be used: carries every issue found, each naming file, row and column. */
export class DataError extends BoldlinkError {
  readonly code: DataErrorCode;
  readonly exitCode = 1 as const;
  readonly issues: readonly DataIssue[];

  constructor(code: DataErrorCode, message: string, issues: readonly DataIssue[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.issues = issues;
  }

  static single(code: DataErrorCode, issue: DataIssue): DataError {
    return new DataError(code, formatIssue(issue), [issue]);
  }
}

/** A stage directory whose manifest is missing, malformed or does not match its files. */
export class ManifestError extends BoldlinkError {
  readonly exitCode = 1 as const;
  constructor(
    readonly code: ManifestErrorCode,
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** Key files: wrong format, role, permissions, or keys that must differ but do not. */
export class KeyError extends BoldlinkError {
  readonly exitCode = 1 as const;
  constructor(
    readonly code: KeyErrorCode,
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** Another run holds the output's lock. */
export class LockError extends BoldlinkError {
  readonly code = 'OUTPUT_LOCKED';
  readonly exitCode = 1 as const;
}

/** Writing failed (disk full, permissions): nothing partial was left where a stage would accept it. */
export class OutputError extends BoldlinkError {
  readonly exitCode = 1 as const;
  constructor(
    readonly code: OutputErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A privacy officer's audit found something. */
export class AuditFindingError extends BoldlinkError {
  readonly code = 'AUDIT_FINDINGS';
  readonly exitCode = 1 as const;
}

export function formatIssue(issue: DataIssue): string {
  const where = [
    issue.file,
    issue.row !== undefined ? `row ${issue.row}` : undefined,
    issue.column !== undefined ? `column '${issue.column}'` : undefined,
  ]
    .filter((part): part is string => part !== undefined)
    .join(', ');
  return `${where}: ${issue.message} [${issue.rule}]`;
}

/** Map a Node system error on output to an actionable typed error. */
export function outputErrorFrom(error: unknown, target: string): BoldlinkError {
  if (error instanceof BoldlinkError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // DuckDB reports a full disk in its own words, without an errno code.
  const duckDiskFull = /no space left on device|disk quota exceeded/i.test((error as Error | undefined)?.message ?? '');
  if (code === 'ENOSPC' || code === 'EDQUOT' || duckDiskFull) {
    return new OutputError(
      'DISK_FULL',
      `The disk is full while writing ${target}; free space (or point --out/TMPDIR elsewhere) and rerun. Nothing partial was kept.`,
      { cause: error },
    );
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new OutputError('OUTPUT_WRITE', `No permission to write ${target} (${code}).`, { cause: error });
  }
  return new OutputError(
    'OUTPUT_WRITE',
    `Could not write ${target}: ${(error as Error | undefined)?.message ?? String(error)}`,
    { cause: error },
  );
}
