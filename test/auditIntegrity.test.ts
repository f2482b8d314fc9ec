import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAudit } from '../pipeline/audit/audit.js';
import { configureLogger } from '../pipeline/core/log.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { StageOutput } from '../pipeline/core/stageOutput.js';
import { buildWorkspace, tamperReleaseTable, outflowTable } from './auditFixture.js';

/**
 * The audit's other findings on hand-made runs: files changed after a stage
 * ran, material that must never be in a release bundle, suppressed values
 * left in a file, cells shared between released tables, quarantine folders.
 */

let root: string;
beforeAll(() => {
  configureLogger({ level: 'warn' });
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-audit-integrity-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('boldlink audit: integrity', { timeout: 60_000 }, () => {
  it('finds a file changed after its stage ran, and a file slipped in afterwards', async () => {
    const fixture = await buildWorkspace(root);
    await appendFile(join(fixture.dirs.link, 'linkage-report.json'), ' ');
    await writeFile(join(fixture.dirs.metrics, 'notes.txt'), 'checked by hand\n');
    const report = await runAudit({ workspace: fixture.workspace });
    const rules = report.findings.map((f) => `${f.rule} ${f.file}`);
    expect(rules).toContain('integrity.size linked/linkage-report.json');
    expect(rules).toContain('integrity.sha256 linked/linkage-report.json');
    expect(rules).toContain('integrity.unlisted-file metrics/notes.txt');
  });

  it('does not pass a workspace with no stage directories in it', async () => {
    await mkdir(join(root, 'empty'));
    const report = await runAudit({ workspace: join(root, 'empty') });
    expect(report.verdict).toBe('fail');
    expect(report.findings.map((f) => f.rule)).toEqual(['integrity.no-stage-directories']);
  });

  it('finds row counts and row accounting that do not add up', async () => {
    const fixture = await buildWorkspace(root);
    const manifestPath = join(fixture.dirs.rotterdam, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
      outputs: { path: string; rows: number }[];
      accounting: { rowsIn: number }[];
    };
    const clients = manifest.outputs.find((o) => o.path === 'clients.parquet');
    if (clients === undefined || manifest.accounting[0] === undefined) throw new Error('fixture changed');
    clients.rows = 5;
    manifest.accounting[0].rowsIn = 6;
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
    const report = await runAudit({ workspace: fixture.workspace });
    const rules = report.findings.map((f) => `${f.rule} ${f.file}`);
    expect(rules).toContain('integrity.rows pseudo/rotterdam/clients.parquet');
    expect(rules).toContain('integrity.row-accounting pseudo/rotterdam/manifest.json');
    // The link recorded Rotterdam's manifest by checksum: the edited manifest is no longer the one it read.
    expect(rules).toContain('integrity.input-chain linked/manifest.json');
  });

  it('finds a quarantine file readable by others whose rows do not match the accounting', async () => {
    const fixture = await buildWorkspace(root);
    const quarantine = `${fixture.dirs.rotterdam}.quarantine`;
    await mkdir(quarantine);
    await writeFile(
      join(quarantine, 'quarantine.csv'),
      'file,row,column,rule,message\nclienten.csv,7,bsn,bsn.elfproef,fails the elfproef\n',
      { mode: 0o644 },
    );
    await chmod(join(quarantine, 'quarantine.csv'), 0o644);
    const report = await runAudit({ workspace: fixture.workspace });
    const rules = report.findings.map((f) => `${f.rule} ${f.file}`);
    expect(rules).toContain('leak.quarantine-permissions pseudo/rotterdam.quarantine/quarantine.csv');
    expect(rules).toContain('integrity.quarantine-count pseudo/rotterdam.quarantine');
  });
});

describe('boldlink audit: what a release must not hold', { timeout: 60_000 }, () => {
  it('finds a quarantine file and the disclosure log inside the bundle', async () => {
    const fixture = await buildWorkspace(root, {
      releaseExtras: {
        'rotterdam.quarantine/quarantine.csv': 'file,row,column,rule,message\n',
        'release.disclosure-log/cells.csv': 'table,cell,rule\n',
      },
    });
    const report = await runAudit({ workspace: fixture.workspace });
    const rules = report.findings.map((f) => `${f.rule} ${f.file}`).sort();
    expect(rules).toEqual([
      'release.forbidden-file release/release.disclosure-log/cells.csv',
      'release.forbidden-file release/rotterdam.quarantine/quarantine.csv',
    ]);
  });

  it('finds a RID of the link output in a released document, without printing it', async () => {
    const fixture = await buildWorkspace(root);
    const duck = await Duck.open({ threads: 1 });
    let rid: string;
    try {
      rid = String(
        await duck.scalar(
          `SELECT rid FROM read_parquet(${sqlString(join(fixture.dirs.link, 'clients.parquet'))}) ORDER BY rid LIMIT 1`,
        ),
      );
    } finally {
      duck.close();
    }
    await addFileToBundle(fixture.dirs.release, 'notes.json', JSON.stringify({ note: `example person ${rid}` }));
    const report = await runAudit({ workspace: fixture.workspace });
    expect(report.findings.map((f) => `${f.rule} ${f.file} ${f.count ?? ''}`)).toEqual([
      'leak.rid-in-release release/notes.json 1',
    ]);
    expect(JSON.stringify(report)).not.toContain(rid);
  });

  it('finds a suppressed value still present in the CSV version of a table', async () => {
    const fixture = await buildWorkspace(root);
    const csv = join(fixture.dirs.release, 'tables', 'outflow.csv');
    const text = await readFile(csv, 'utf8');
    // Put the value back into the (2020, utrecht) row while keeping its status 'suppressed'.
    await writeFile(csv, text.replace('2020,utrecht,,suppressed', '2020,utrecht,4,suppressed'));
    await tamperReleaseTableManifestOnly(fixture.dirs.release);
    const report = await runAudit({ workspace: fixture.workspace });
    expect(report.findings.map((f) => `${f.rule} ${f.file} ${f.column ?? ''}`)).toEqual([
      'release.suppressed-value-present release/tables/outflow.csv spells',
    ]);
  });

  it('finds a cell suppressed in one table but published in another table of the same population', async () => {
    const recent = [
      { year: '2021', municipality: 'rotterdam', spells: null, status: 'suppressed' as const },
      { year: '2021', municipality: 'utrecht', spells: 12, status: 'published' as const },
      { year: '2021', municipality: 'Total', spells: 42, status: 'published' as const },
    ];
    const fixture = await buildWorkspace(root, { sharedTable: recent });
    const report = await runAudit({ workspace: fixture.workspace });
    const recomputable = report.findings.filter((f) => f.rule === 'release.cell-recomputable');
    const where = recomputable.map((f) => `${f.file} ${f.cell?.outflow_year}/${f.cell?.municipality}`).sort();
    // (2021, utrecht) is published in outflow_recent; with it, the whole 2×2 block of outflow falls.
    expect(where).toEqual([
      'release/tables/outflow.parquet 2020/rotterdam',
      'release/tables/outflow.parquet 2020/utrecht',
      'release/tables/outflow.parquet 2021/rotterdam',
      'release/tables/outflow.parquet 2021/utrecht',
    ]);
    // (2021, rotterdam) is suppressed in both tables: one finding, counting both places.
    expect(
      recomputable.find((f) => f.cell?.municipality === 'rotterdam' && f.cell.outflow_year === '2021')?.count,
    ).toBe(2);
    expect(
      recomputable.find((f) => f.cell?.municipality === 'utrecht' && f.cell.outflow_year === '2021')?.message,
    ).toContain('outflow_recent');
  });

  it('finds a published value changed by hand that no longer adds up to its margins', async () => {
    const fixture = await buildWorkspace(root);
    await tamperReleaseTable(
      fixture.dirs.release,
      outflowTable().map((c) => (c.year === 'Total' && c.municipality === 'Total' ? { ...c, spells: 70 } : c)),
    );
    const report = await runAudit({ workspace: fixture.workspace });
    expect(report.findings.map((f) => f.rule)).toContain('release.inconsistent-margins');
    expect(report.findings.every((f) => f.check === 'release')).toBe(true);
  });

  it('counts the rows of an export as the generator does: empty lines are rows', async () => {
    const dir = join(root, 'raw');
    const output = await StageOutput.create({ stage: 'generate', outDir: dir, parameters: {} });
    // Two records, an empty line between them and one at the end: four data lines, as the generator injects them.
    await writeFile(
      await output.file('gemeente/rotterdam/clienten.csv'),
      'BSN;Geslacht\n111222333;V\n\n123456782;M\n\n',
    );
    const manifest = await output.commit();
    expect(manifest.outputs.map((f) => [f.path, f.rows])).toEqual([['gemeente/rotterdam/clienten.csv', 4]]);
    expect((await runAudit({ workspace: dir })).findings).toEqual([]);

    await appendFile(join(dir, 'gemeente/rotterdam/clienten.csv'), '\n');
    await tamperReleaseTableManifestOnly(dir);
    const rules = (await runAudit({ workspace: dir })).findings.map((f) => `${f.rule} ${f.file}`);
    expect(rules).toEqual(['integrity.rows gemeente/rotterdam/clienten.csv']);
  });

  it('audits one stage folder on its own: its inputs outside it count where the stage read them, unchanged', async () => {
    const fixture = await buildWorkspace(root);
    const alone = await runAudit({ workspace: fixture.dirs.link });
    expect(alone.findings).toEqual([]);
    expect(alone.checks.find((s) => s.check === 'integrity')?.covered).toContain(
      '2 input stage directories outside the workspace found by their manifest checksums',
    );

    const manifestPath = join(fixture.dirs.rotterdam, 'manifest.json');
    await writeFile(manifestPath, `${await readFile(manifestPath, 'utf8')} `);
    const changed = await runAudit({ workspace: fixture.dirs.link });
    expect(changed.findings.map((f) => `${f.rule} ${f.file}`)).toEqual(['integrity.input-chain manifest.json']);
  });
});

/** Put the current sha256 and size of every listed file into the release manifest (as a careless editor would). */
async function tamperReleaseTableManifestOnly(releaseDir: string): Promise<void> {
  const { digestFile } = await import('../pipeline/core/fileDigest.js');
  const manifestPath = join(releaseDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
    outputs: { path: string; sha256: string; bytes: number }[];
  };
  for (const output of manifest.outputs) {
    const digest = await digestFile(join(releaseDir, output.path));
    output.sha256 = digest.sha256;
    output.bytes = digest.bytes;
  }
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
}

/** Slip a file into a bundle and list it in the manifest, so that integrity holds and only the content check can object. */
async function addFileToBundle(bundleDir: string, path: string, text: string): Promise<void> {
  const { digestFile } = await import('../pipeline/core/fileDigest.js');
  await writeFile(join(bundleDir, path), text);
  const manifestPath = join(bundleDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
    outputs: { path: string; sha256: string; bytes: number; rows: number | null }[];
  };
  const digest = await digestFile(join(bundleDir, path));
  manifest.outputs.push({ path, sha256: digest.sha256, bytes: digest.bytes, rows: null });
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
}
