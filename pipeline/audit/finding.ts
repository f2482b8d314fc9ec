/**
 * One thing the audit found wrong. A finding says where (file, column, cell)
 * and which rule, and how many values are involved — never the value itself:
 * an audit report is read by people who must not see a BSN or a pseudonym.
 */

export type AuditCheck = 'integrity' | 'keys' | 'leak' | 'release';

export interface Finding {
  readonly check: AuditCheck;
  /** Stable id, e.g. `integrity.sha256`, `keys.ttp-at-source`, `leak.bsn`, `release.interval-too-narrow`. */
  readonly rule: string;
  /** The file (or directory) concerned, relative to the workspace. */
  readonly file: string;
  readonly column?: string;
  /** For table cells: the dimension values that identify the cell (margins are 'Total'). */
  readonly cell?: Readonly<Record<string, string>>;
  /** How many values, rows or cells are involved. */
  readonly count?: number;
  readonly message: string;
}

export function finding(
  check: AuditCheck,
  rule: string,
  file: string,
  message: string,
  extra: { column?: string; cell?: Record<string, string>; count?: number } = {},
): Finding {
  return {
    check,
    rule,
    file,
    ...(extra.column !== undefined ? { column: extra.column } : {}),
    ...(extra.cell !== undefined ? { cell: extra.cell } : {}),
    ...(extra.count !== undefined ? { count: extra.count } : {}),
    message,
  };
}

/** What one check looked at, for the report's "what was checked" section. */
export interface CheckSummary {
  readonly check: AuditCheck;
  readonly title: string;
  /** Plain facts: "42 files checksummed", "3 key files read". */
  readonly covered: readonly string[];
}

export interface CheckResult {
  readonly findings: readonly Finding[];
  readonly summary: CheckSummary;
}
