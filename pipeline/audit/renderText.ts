import { CHECK_ORDER, CHECK_TITLES, findingLocation, type AuditReport } from './auditReport.js';

/** The report as plain text for the terminal (stdout). */
export function renderText(report: AuditReport): string {
  const lines: string[] = [];
  const rule = '='.repeat(72);
  lines.push(rule, 'boldlink audit', rule);
  lines.push(`Workspace:   ${report.workspace}`);
  lines.push(`Key files:   ${report.keysDir ?? '(none given)'}`);
  lines.push(`Audited at:  ${report.auditedAt} (boldlink ${report.toolVersion})`);
  lines.push('');
  lines.push('Stage directories');
  for (const s of report.stages)
    lines.push(`  ${s.stage.padEnd(13)} ${s.dir}  (${s.files} files${s.rows === null ? '' : `, ${s.rows} rows`})`);
  if (report.stages.length === 0) lines.push('  (none found)');
  lines.push('');
  lines.push('Key separation: which role held which key, and what was made with it');
  for (const k of report.keyPicture) {
    lines.push(`  ${k.role.padEnd(6)} ${k.fingerprint}`);
    for (const f of k.keyFiles) lines.push(`           key file ${f.file} (role ${f.role}, mode ${f.mode})`);
    for (const u of k.uses)
      lines.push(
        `           ${u.use === 'inherited' ? 'recorded as inherited by' : `used (${u.use}) by`} ${u.stage} ${u.dir}: ${u.files.join(', ') || '(no files)'}`,
      );
    if (k.uses.length === 0) lines.push('           used by no stage in this workspace');
  }
  if (report.keyPicture.length === 0) lines.push('  (no keys recorded)');
  lines.push('');
  lines.push('What was checked');
  for (const c of report.checks) {
    lines.push(`  ${c.title}`);
    for (const item of c.covered) lines.push(`    - ${item}`);
  }
  lines.push('');
  lines.push(`Findings (${report.counts.findings})`);
  for (const check of CHECK_ORDER) {
    const own = report.findings.filter((f) => f.check === check);
    if (own.length === 0) continue;
    lines.push(`  ${CHECK_TITLES[check]} (${own.length})`);
    for (const f of own) {
      lines.push(`    [${f.rule}] ${findingLocation(f)}${f.count !== undefined ? ` (${f.count})` : ''}`);
      lines.push(`        ${f.message}`);
    }
  }
  if (report.findings.length === 0) lines.push('  none');
  lines.push('');
  lines.push(rule);
  lines.push(
    `VERDICT: ${report.verdict === 'pass' ? 'PASS — no findings' : `FAIL — ${report.counts.findings} finding(s)`}`,
  );
  lines.push(`  ${CHECK_ORDER.map((c) => `${CHECK_TITLES[c]}: ${report.counts.byCheck[c]}`).join('; ')}`);
  lines.push(`  Date: ${report.auditedAt.slice(0, 10)}   Workspace: ${report.workspace}`);
  lines.push('');
  lines.push('  Privacy officer: ______________________   Signature: ______________________');
  lines.push(rule);
  return `${lines.join('\n')}\n`;
}
