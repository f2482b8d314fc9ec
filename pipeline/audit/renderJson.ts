import type { AuditReport } from './auditReport.js';

/** The report as JSON (format `boldlink-audit/v1`), for scripts and archives. */
export function renderJson(report: AuditReport): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (value === Infinity ? 'Infinity' : value), 2)}\n`;
}
