import { readFileSync } from 'node:fs';
import { besideModule } from '../core/projectPath.js';
import { CHECK_ORDER, CHECK_TITLES, type AuditReport } from './auditReport.js';

/** The report as one self-contained HTML page (inline CSS, no external resources), printable for signing. */
export function renderHtml(report: AuditReport): string {
  const css = readFileSync(besideModule(import.meta.url, 'auditReport.css'), 'utf8');
  const pass = report.verdict === 'pass';
  const stages = report.stages
    .map(
      (s) =>
        `<tr><td>${esc(s.stage)}</td><td><code>${esc(s.dir)}</code></td><td>${s.files}</td><td>${s.rows ?? '—'}</td><td>${esc(s.finishedAt ?? '—')}</td></tr>`,
    )
    .join('');
  const keys = report.keyPicture
    .map((k) => {
      const files =
        k.keyFiles.map((f) => `<code>${esc(f.file)}</code> (mode ${esc(f.mode)})`).join('<br>') ||
        '<span class="none">none given</span>';
      const uses =
        k.uses
          .map(
            (u) =>
              `${esc(u.use === 'inherited' ? 'recorded as inherited by' : `used (${u.use}) by`)} ${esc(u.stage)} <code>${esc(u.dir)}</code>: ${u.files.map((f) => `<code>${esc(f)}</code>`).join(', ')}`,
          )
          .join('<br>') || '<span class="none">no stage in this workspace</span>';
      return `<tr><td class="role">${esc(k.role)}</td><td><code>${esc(k.fingerprint)}</code></td><td>${files}</td><td>${uses}</td></tr>`;
    })
    .join('');
  const findings = CHECK_ORDER.map((check) => {
    const own = report.findings.filter((f) => f.check === check);
    if (own.length === 0) return `<h3>${esc(CHECK_TITLES[check])}</h3><p class="none">No findings.</p>`;
    const rows = own
      .map(
        (f) =>
          `<tr><td class="rule">${esc(f.rule)}</td><td><code>${esc(f.file)}</code></td><td>${f.column === undefined ? '' : `<code>${esc(f.column)}</code>`}</td><td>${
            f.cell === undefined
              ? ''
              : esc(
                  Object.entries(f.cell)
                    .map(([d, v]) => `${d}=${v}`)
                    .join(', '),
                )
          }</td><td>${f.count ?? ''}</td><td>${esc(f.message)}</td></tr>`,
      )
      .join('');
    return `<h3>${esc(CHECK_TITLES[check])} (${own.length})</h3><table><thead><tr><th>Rule</th><th>File</th><th>Column</th><th>Cell</th><th>Count</th><th>Finding</th></tr></thead><tbody>${rows}</tbody></table>`;
  }).join('');
  const checks = report.checks
    .map(
      (c) => `<h3>${esc(c.title)}</h3><ul class="covered">${c.covered.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`,
    )
    .join('');
  const counts = CHECK_ORDER.map((c) => `${esc(CHECK_TITLES[c])}: ${report.counts.byCheck[c]}`).join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>boldlink audit — ${pass ? 'PASS' : 'FAIL'} — ${esc(report.auditedAt.slice(0, 10))}</title>
<style>
${css}</style>
</head>
<body>
<main>
<h1>Privacy audit of a boldlink run</h1>
<p class="meta">Workspace <code>${esc(report.workspace)}</code> · key files ${report.keysDir === null ? 'not given' : `<code>${esc(report.keysDir)}</code>`} · audited ${esc(report.auditedAt)} · boldlink ${esc(report.toolVersion)}</p>
<div class="verdict ${pass ? 'pass' : 'fail'}">${pass ? 'PASS — no findings' : `FAIL — ${report.counts.findings} finding(s)`}<small>${counts}</small></div>
<h2>Stage directories</h2>
<table><thead><tr><th>Stage</th><th>Directory</th><th>Files</th><th>Rows</th><th>Finished</th></tr></thead><tbody>${stages || '<tr><td colspan="5" class="none">none found</td></tr>'}</tbody></table>
<h2>Key separation</h2>
<p>Which role held which key (by fingerprint; key material is never shown), and which stage directories and files were made with it.</p>
<table><thead><tr><th>Role</th><th>Fingerprint</th><th>Key files</th><th>Made with it</th></tr></thead><tbody>${keys || '<tr><td colspan="4" class="none">no keys recorded</td></tr>'}</tbody></table>
<h2>Findings</h2>
${findings}
<h2>What was checked</h2>
${checks}
<section class="signoff">
<h2>Summary for signature</h2>
<dl>
<dt>Date of audit</dt><dd>${esc(report.auditedAt.slice(0, 10))}</dd>
<dt>Workspace</dt><dd><code>${esc(report.workspace)}</code></dd>
<dt>Stage directories</dt><dd>${report.stages.length}</dd>
<dt>Verdict</dt><dd><strong>${pass ? 'PASS' : 'FAIL'}</strong> — ${report.counts.findings} finding(s) (${counts})</dd>
<dt>Disclosure rules</dt><dd>${esc(report.rules.source)}</dd>
</dl>
<div class="sign"><div>Privacy officer (name)</div><div>Signature and date</div></div>
</section>
</main>
</body>
</html>
`;
}

function esc(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
