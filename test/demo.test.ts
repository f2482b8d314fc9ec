import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from './support/cli.js';
import { runBoldlink } from './support/cli.js';

/**
 * A newcomer's first minute (issue #11) and the privacy officer's verdict on
 * a clean generated run (issue #10): `boldlink demo` end to end, each role's
 * step as its own process, at tiny scale.
 */
let root: string;
let demo: CliResult;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-demo-'));
  demo = await runBoldlink(['demo', '--scale', 'tiny', '--out', join(root, 'demo')]);
}, 600_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('boldlink demo', () => {
  it('runs every stage and the audit passes on a clean generated run', () => {
    expect(demo.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(demo.code).toBe(0);
    for (const step of [
      'generate',
      'keys new',
      'pseudonymize rotterdam',
      'pseudonymize cbs',
      'link',
      'metrics',
      'release',
      'audit',
    ]) {
      expect(demo.stdout).toContain(`✓ ${step}`);
    }
    expect(demo.stdout).toContain('Audit verdict: PASS');
  });

  it('summarises linkage and released outflow figures and says where the report is', () => {
    expect(demo.stdout).toMatch(/rotterdam\s+\d+ of\s+\d+\s+\d+\.\d%/);
    expect(demo.stdout).toMatch(/Outflow by year, as released/);
    expect(demo.stdout).toMatch(/^\s+2020\s+\S+/m);
    // All years together: the headline shares, large enough to be published where a single year is not.
    expect(demo.stdout).toMatch(/^\s+all\s+\d+\s+\d+\.\d%\s+\d+\.\d%$/m);
    expect(demo.stdout).toContain(join(root, 'demo', 'workspace', 'release', 'report.html'));
  });

  it('keeps each role’s key in its own folder, owner-only', async () => {
    for (const role of ['source', 'ttp']) {
      const files = await readdir(join(root, 'demo', 'keys', role));
      expect(files).toHaveLength(1);
      const mode = (await stat(join(root, 'demo', 'keys', role, files[0] ?? ''))).mode & 0o777;
      expect(mode).toBe(0o600);
    }
  });

  it('passes the audit whichever folder of it is named: the demo folder, its workspace or a stage folder', async () => {
    const demoDir = join(root, 'demo');
    for (const folder of ['.', 'raw', 'workspace/ttp/linked', 'workspace/release']) {
      const audit = await runBoldlink(['audit', '--workspace', join(demoDir, folder), '--keys', join(demoDir, 'keys')]);
      expect(audit.code, `${folder}: ${audit.stdout.slice(-800)}`).toBe(0);
      expect(audit.stdout).toContain('VERDICT: PASS');
    }
  }, 300_000);

  it('writes a self-contained audit report and a release with its report', async () => {
    const audit = await readFile(join(root, 'demo', 'audit-report.html'), 'utf8');
    expect(audit).toMatch(/PASS/);
    expect(audit).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
    const release = await readdir(join(root, 'demo', 'workspace', 'release'));
    expect(release).toEqual(expect.arrayContaining(['manifest.json', 'report.html', 'tables', 'tables.json']));
  });
});
