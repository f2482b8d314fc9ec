import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAudit } from '../pipeline/audit/audit.js';
import type { AuditReport } from '../pipeline/audit/auditReport.js';
import { renderHtml } from '../pipeline/audit/renderHtml.js';
import { renderJson } from '../pipeline/audit/renderJson.js';
import { renderText } from '../pipeline/audit/renderText.js';
import { configureLogger } from '../pipeline/core/log.js';
import { buildWorkspace, loosenPermissions, outflowTable, tamperReleaseTable, type Fixture } from './auditFixture.js';

/**
 * One hand-made run per planted violation (issue #10): each must be caught
 * with the right rule, naming file and column, and without the report ever
 * showing the leaked value; the same run without a violation passes.
 */

let root: string;
beforeAll(() => {
  configureLogger({ level: 'warn' });
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-audit-test-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const rulesOf = (report: AuditReport) => report.findings.map((f) => f.rule);

function expectNoIdentifiers(report: AuditReport, fixture: Fixture): void {
  for (const rendered of [renderText(report), renderJson(report), renderHtml(report)]) {
    for (const bsn of fixture.bsns) expect(rendered).not.toContain(bsn);
    for (const p1 of fixture.p1s) expect(rendered).not.toContain(p1);
  }
}

describe('boldlink audit on hand-made runs', { timeout: 60_000 }, () => {
  it('passes a clean run: keys separated, no identifiers downstream, release protected', async () => {
    const fixture = await buildWorkspace(root);
    const report = await runAudit({ workspace: fixture.workspace, keysDir: fixture.keysDir });
    expect(report.findings).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.stages.map((s) => s.stage).sort()).toEqual([
      'link',
      'metrics',
      'pseudonymize',
      'pseudonymize',
      'release',
    ]);
    // The key picture: one source key used by both sources and inherited by the link; one TTP key used by the link.
    const source = report.keyPicture.filter((k) => k.role === 'source');
    expect(source).toHaveLength(1);
    expect(source[0]?.uses.map((u) => `${u.stage}:${u.use}`).sort()).toEqual([
      'link:inherited',
      'pseudonymize:pseudonymize',
      'pseudonymize:pseudonymize',
    ]);
    expect(source[0]?.keyFiles.map((f) => f.file)).toEqual(['source.key']);
    const ttp = report.keyPicture.filter((k) => k.role === 'ttp');
    expect(ttp[0]?.uses.map((u) => u.dir)).toEqual(['linked']);
    // The four suppressed inner cells each keep an interval of width 16 (≥ 10): 8 programmes.
    expect(report.checks.find((c) => c.check === 'release')?.covered.join(' ')).toContain('4 suppressed cells');
    expect(report.rules.minFrequency).toBe(10);
    expectNoIdentifiers(report, fixture);
  });

  it('finds a BSN hidden in a free-text column of the linked data', async () => {
    // Written the way a caseworker types it, with dots: 1234.56.782 is the elfproef-valid 123456782.
    const fixture = await buildWorkspace(root, { linkedRemark: 'klant belde op 3 mei, bsn 1234.56.782, terugbellen' });
    const report = await runAudit({ workspace: fixture.workspace, keysDir: fixture.keysDir });
    expect(rulesOf(report)).toEqual(['leak.bsn']);
    expect(report.findings[0]).toMatchObject({ file: 'linked/interventions.parquet', column: 'remarks', count: 1 });
    for (const rendered of [renderText(report), renderJson(report), renderHtml(report)]) {
      expect(rendered).not.toContain('1234.56.782');
      expect(rendered).not.toContain('123456782');
    }
  });

  it('finds a BSN that lost its leading zero (8 digits valid once padded)', async () => {
    // 012345672: 9·0+8·1+7·2+6·3+5·4+4·5+3·6+2·7−2 = 110 ≡ 0 (mod 11); a spreadsheet shows 12345672.
    const fixture = await buildWorkspace(root, { linkedRemark: 'oud nummer 12345672' });
    const report = await runAudit({ workspace: fixture.workspace, keysDir: fixture.keysDir });
    expect(rulesOf(report)).toEqual(['leak.bsn-padded']);
    expect(report.findings[0]).toMatchObject({ file: 'linked/interventions.parquet', column: 'remarks', count: 1 });
  });

  it('finds a source pseudonym (P1) copied into the linked data', async () => {
    const fixture = await buildWorkspace(root, { p1InLinked: true });
    const report = await runAudit({ workspace: fixture.workspace, keysDir: fixture.keysDir });
    expect(rulesOf(report)).toEqual(['leak.p1-in-linked']);
    expect(report.findings[0]).toMatchObject({ file: 'linked/clients.parquet', column: 'source_id', count: 1 });
    expectNoIdentifiers(report, fixture);
  });

  it('finds the TTP key used at a source', async () => {
    const fixture = await buildWorkspace(root, { rotterdamKey: 'ttp' });
    const report = await runAudit({ workspace: fixture.workspace, keysDir: fixture.keysDir });
    expect(rulesOf(report)).toContain('keys.ttp-at-source');
    const finding = report.findings.find((f) => f.rule === 'keys.ttp-at-source');
    expect(finding?.file).toBe('pseudo/rotterdam/manifest.json');
    // The same key file backs both roles' entries in the manifests.
    expect(rulesOf(report)).toContain('keys.file-role-mismatch');
    expect(report.verdict).toBe('fail');
  });

  it('finds two sources pseudonymized with different source keys', async () => {
    const fixture = await buildWorkspace(root, { rotterdamKey: 'other' });
    const report = await runAudit({ workspace: fixture.workspace, keysDir: fixture.keysDir });
    expect(rulesOf(report)).toEqual(['keys.sources-differ']);
    expect(report.findings[0]?.file).toMatch(/^pseudo\/(rotterdam|microdata)\/manifest\.json$/);
    // Both source keys are in the picture, each with the source that used it.
    expect(report.keyPicture.filter((k) => k.role === 'source')).toHaveLength(2);
  });

  it('finds a released cell changed by hand so that a suppressed cell can be recomputed', async () => {
    const fixture = await buildWorkspace(root);
    // Un-suppress (2021, utrecht) = 12: not itself small, but with the published margins it gives away (2020, utrecht) = 4.
    const cells = outflowTable().map((c) =>
      c.year === '2021' && c.municipality === 'utrecht' ? { ...c, spells: 12, status: 'published' as const } : c,
    );
    await tamperReleaseTable(fixture.dirs.release, cells);
    const report = await runAudit({ workspace: fixture.workspace, keysDir: fixture.keysDir });
    // Checksums were fixed, so integrity passes; only the attacker's LP sees it.
    expect(report.findings.filter((f) => f.check !== 'release')).toEqual([]);
    const recomputable = report.findings.filter((f) => f.rule === 'release.cell-recomputable');
    expect(recomputable.map((f) => `${f.cell?.outflow_year}/${f.cell?.municipality}`).sort()).toEqual([
      '2020/rotterdam',
      '2020/utrecht',
      '2021/rotterdam',
    ]);
    expect(recomputable.every((f) => f.file === 'release/tables/outflow.parquet' && f.column === 'spells')).toBe(true);
    expect(rulesOf(report).every((r) => r === 'release.cell-recomputable')).toBe(true);
  });

  it('finds a key file readable by others', async () => {
    const fixture = await buildWorkspace(root);
    await loosenPermissions(join(fixture.keysDir, 'ttp.key'));
    const report = await runAudit({ workspace: fixture.workspace, keysDir: fixture.keysDir });
    expect(rulesOf(report)).toEqual(['keys.file-permissions']);
    expect(report.findings[0]?.file).toBe('keys:ttp.key');
    expect(report.findings[0]?.message).toContain('644');
  });
});
