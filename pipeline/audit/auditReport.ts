import type { DisclosureRules } from './disclosureRules.js';
import type { AuditCheck, CheckSummary, Finding } from './finding.js';
import type { KeyPictureEntry } from './keySeparation.js';

/** What `boldlink audit` hands the privacy officer, in every format (text, JSON, HTML). */
export const AUDIT_REPORT_FORMAT = 'boldlink-audit/v1';

export interface AuditedStage {
  readonly dir: string;
  readonly stage: string;
  readonly files: number;
  /** Data rows the manifest lists (null when the manifest is unreadable). */
  readonly rows: number | null;
  readonly finishedAt: string | null;
}

export interface AuditReport {
  readonly format: typeof AUDIT_REPORT_FORMAT;
  readonly auditedAt: string;
  readonly workspace: string;
  readonly keysDir: string | null;
  readonly toolVersion: string;
  readonly verdict: 'pass' | 'fail';
  readonly stages: readonly AuditedStage[];
  readonly keyPicture: readonly KeyPictureEntry[];
  readonly findings: readonly Finding[];
  readonly counts: {
    readonly findings: number;
    readonly byCheck: Readonly<Record<AuditCheck, number>>;
    readonly byRule: Readonly<Record<string, number>>;
  };
  readonly checks: readonly CheckSummary[];
  readonly rules: DisclosureRules;
}

export const CHECK_ORDER: readonly AuditCheck[] = ['integrity', 'keys', 'leak', 'release'];

export const CHECK_TITLES: Readonly<Record<AuditCheck, string>> = {
  integrity: 'Integrity',
  keys: 'Key separation',
  leak: 'Identifier leakage',
  release: 'Release re-check',
};

export function countFindings(findings: readonly Finding[]): AuditReport['counts'] {
  const byCheck: Record<AuditCheck, number> = { integrity: 0, keys: 0, leak: 0, release: 0 };
  const byRule: Record<string, number> = {};
  for (const f of findings) {
    byCheck[f.check]++;
    byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
  }
  return {
    findings: findings.length,
    byCheck,
    byRule: Object.fromEntries(Object.entries(byRule).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** "file, column 'x', cell municipality=rotterdam, year=Total" */
export function findingLocation(f: Finding): string {
  const parts = [f.file];
  if (f.column !== undefined) parts.push(`column '${f.column}'`);
  if (f.cell !== undefined)
    parts.push(
      `cell ${
        Object.entries(f.cell)
          .map(([d, v]) => `${d}=${v}`)
          .join(', ') || '(grand total)'
      }`,
    );
  return parts.join(', ');
}
