import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureLogger } from '../pipeline/core/log.js';
import { buildWorkspace, loosenPermissions, outflowTable, tamperReleaseTable, type Fixture } from './auditFixture.js';
import { runBoldlink } from './support/cli.js';

/** `boldlink audit` as the privacy officer runs it: report on stdout, exit 0 when clean and 1 on any finding. */

let root: string;
let fixture: Fixture;
beforeAll(async () => {
  configureLogger({ level: 'warn' });
  root = await mkdtemp(join(tmpdir(), 'boldlink-audit-cli-'));
  fixture = await buildWorkspace(root);
}, 60_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('boldlink audit (CLI)', { timeout: 60_000 }, () => {
  it('exits 0 on a clean run and prints a report to sign', async () => {
    const run = await runBoldlink(['audit', '--workspace', fixture.workspace, '--keys', fixture.keysDir]);
    expect(run.stderr).not.toContain('AUDIT_FINDINGS');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('VERDICT: PASS — no findings');
    expect(run.stdout).toContain('Privacy officer:');
  });

  it('writes the report as JSON and as a self-contained HTML page', async () => {
    const json = await runBoldlink([
      'audit',
      '--workspace',
      fixture.workspace,
      '--keys',
      fixture.keysDir,
      '--format',
      'json',
    ]);
    expect(json.stderr).not.toContain('AUDIT_FINDINGS');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { format: string; verdict: string; keyPicture: { role: string }[] };
    expect(report.format).toBe('boldlink-audit/v1');
    expect(report.verdict).toBe('pass');
    expect(report.keyPicture.map((k) => k.role).sort()).toEqual(['source', 'ttp']);

    const html = await runBoldlink([
      'audit',
      '--workspace',
      fixture.workspace,
      '--keys',
      fixture.keysDir,
      '--format',
      'html',
    ]);
    expect(html.code).toBe(0);
    expect(html.stdout.startsWith('<!doctype html>')).toBe(true);
    expect(html.stdout).toContain('PASS — no findings');
    // Self-contained: no scripts, stylesheets, images or fonts fetched from anywhere.
    expect(html.stdout).not.toMatch(/(src|href)\s*=|@import|url\(|https?:\/\//i);
  });

  it('exits 1 on a finding, naming the rule on stderr and the file in the report', async () => {
    await loosenPermissions(join(fixture.keysDir, 'source.key'));
    const run = await runBoldlink(['audit', '--workspace', fixture.workspace, '--keys', fixture.keysDir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('keys.file-permissions');
    expect(run.stderr).toContain('[AUDIT_FINDINGS]');
    expect(run.stdout).toContain('[keys.file-permissions] keys:source.key');
    expect(run.stdout).toContain('VERDICT: FAIL');
  });

  it('finds a recomputable cell with the attacker programmes on their own thread, as the installed command runs them', async () => {
    const tampered = await buildWorkspace(join(root, 'tampered'));
    // (2021, utrecht) published: with the published margins it gives away (2020, utrecht) and its neighbours.
    await tamperReleaseTable(
      tampered.dirs.release,
      outflowTable().map((c) =>
        c.year === '2021' && c.municipality === 'utrecht' ? { ...c, spells: 12, status: 'published' as const } : c,
      ),
    );
    const run = await runBoldlink([
      'audit',
      '--workspace',
      tampered.workspace,
      '--keys',
      tampered.keysDir,
      '--format',
      'json',
    ]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { findings: { rule: string; cell?: Record<string, string> }[] };
    const recomputable = report.findings
      .filter((f) => f.rule === 'release.cell-recomputable')
      .map((f) => `${f.cell?.outflow_year}/${f.cell?.municipality}`);
    expect(recomputable.sort()).toEqual(['2020/rotterdam', '2020/utrecht', '2021/rotterdam']);
  });

  it('exits 2 on a wrong format or a missing workspace', async () => {
    expect((await runBoldlink(['audit', '--workspace', fixture.workspace, '--format', 'xml'])).code).toBe(2);
    const missing = await runBoldlink(['audit', '--workspace', join(root, 'nowhere')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
  });
});
