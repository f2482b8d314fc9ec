import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Duck } from '../core/duckdb.js';
import { log } from '../core/log.js';
import { toolVersion } from '../core/toolVersion.js';
import { AUDIT_REPORT_FORMAT, CHECK_ORDER, countFindings, type AuditReport } from './auditReport.js';
import type { Finding } from './finding.js';
import { checkIdentifierLeakage } from './identifierLeakage.js';
import { checkIntegrity } from './integrity.js';
import { checkKeySeparation } from './keySeparation.js';
import { checkQuarantineFolders } from './quarantineFolders.js';
import { checkRelease } from './releaseRecheck.js';
import { scanWorkspace } from './workspace.js';

export interface AuditOptions {
  readonly workspace: string;
  readonly keysDir?: string;
}

/**
 * The privacy officer's audit of a run: integrity, key separation, identifier
 * leakage and the release's disclosure control, each recomputed from the files
 * in the workspace rather than taken from the stages' own reports.
 */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const root = resolve(options.workspace);
  const keysDir = options.keysDir === undefined ? undefined : resolve(options.keysDir);
  const workspace = await scanWorkspace(root);
  log().info({ workspace: root, stageDirs: workspace.stageDirs.length }, 'audit: workspace scanned');
  const scratch = await mkdtemp(join(tmpdir(), 'boldlink-audit-'));
  await Promise.all([mkdir(join(scratch, 'main')), mkdir(join(scratch, 'release'))]);
  const duck = await Duck.open({ tempDirectory: join(scratch, 'main') });
  // The release re-check reads its tables with its own DuckDB and then spends its time in the LP solver, while the
  // identifier scan spends its time in DuckDB: run side by side, each keeps one of the two cores busy.
  let releaseDuck: Duck | undefined;
  try {
    releaseDuck = await Duck.open({ tempDirectory: join(scratch, 'release') });
    // The release re-check starts first: its attacker programmes (on a thread of their own) are the longest part.
    const releaseChecked = checkRelease(workspace, releaseDuck).then((result) => {
      log().info({ findings: result.findings.length }, 'audit: release re-checked');
      return result;
    });
    // Both settle before either database is closed, even when the other work fails.
    const [otherOutcome, releaseOutcome] = await Promise.allSettled([
      (async () => {
        const integrity = await checkIntegrity(workspace, duck);
        const quarantine = await checkQuarantineFolders(workspace, duck);
        log().info({ findings: integrity.findings.length + quarantine.length }, 'audit: integrity checked');
        const keys = await checkKeySeparation(workspace, keysDir);
        log().info({ findings: keys.findings.length }, 'audit: key separation checked');
        const leakage = await checkIdentifierLeakage(workspace, duck);
        log().info({ findings: leakage.findings.length }, 'audit: identifier leakage checked');
        return { integrity, quarantine, keys, leakage };
      })(),
      releaseChecked,
    ]);
    if (otherOutcome.status === 'rejected') throw otherOutcome.reason;
    if (releaseOutcome.status === 'rejected') throw releaseOutcome.reason;
    const { integrity, quarantine, keys, leakage } = otherOutcome.value;
    const release = releaseOutcome.value;

    const findings = sortFindings([
      ...integrity.findings,
      ...quarantine,
      ...keys.findings,
      ...leakage.findings,
      ...release.findings,
    ]);
    return {
      format: AUDIT_REPORT_FORMAT,
      auditedAt: new Date().toISOString(),
      workspace: root,
      keysDir: keysDir ?? null,
      toolVersion: toolVersion(),
      verdict: findings.length === 0 ? 'pass' : 'fail',
      stages: workspace.stageDirs.map((d) => ({
        dir: d.relDir,
        stage: d.stage ?? 'unreadable',
        files: d.files.length,
        rows: d.manifest === null ? null : d.manifest.outputs.reduce((s, f) => s + (f.rows ?? 0), 0),
        finishedAt: d.manifest?.finishedAt ?? null,
      })),
      keyPicture: keys.picture,
      findings,
      counts: countFindings(findings),
      checks: [integrity.summary, keys.summary, leakage.summary, release.summary],
      rules: release.rules,
    };
  } finally {
    releaseDuck?.close();
    duck.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      CHECK_ORDER.indexOf(a.check) - CHECK_ORDER.indexOf(b.check) ||
      a.file.localeCompare(b.file) ||
      a.rule.localeCompare(b.rule) ||
      (a.column ?? '').localeCompare(b.column ?? ''),
  );
}
