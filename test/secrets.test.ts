import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourcePseudonym } from '../keys/pseudonyms.js';
import { Duck, sqlIdent, sqlString } from '../pipeline/core/duckdb.js';
import { listFiles } from '../pipeline/core/fsyncTree.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { HOLDER_SOURCE, MUNICIPALITIES } from '../pipeline/demo/workspace.js';
import type { CanonicalBsn } from '../schemas/bsn.js';
import { runInProcess } from './support/inProcessCli.js';
import { runChain, type ChainRun } from './support/tinyChain.js';
import { digitRunsOutsideHashes } from './support/digitRuns.js';

/**
 * Issue #12, secrets: the whole chain at debug log level (generate through
 * release, then the audit in all three formats), then every log line, every
 * printed line, every error message and every file of every stage output is
 * searched for key bytes (base64 and hex), the BSNs of the input, and P1/F1
 * pseudonyms outside the pseudonymize outputs (the only place allowed to hold
 * them: docs/design.md, "Roles and where each runs"). The release bundle and the audit's report are
 * also searched for research pseudonyms (RIDs stay in the secure environment)
 * and the bundle for anything per person — independently of the audit's own
 * leakage scan. Parquet files are searched by value, column by column, since
 * their pages are compressed.
 */
interface Finding {
  readonly where: string;
  readonly what: string;
}

describe('no key byte, BSN or source pseudonym leaks from the chain', { timeout: 120_000 }, () => {
  let root: string;
  let run: ChainRun;
  let duck: Duck;
  let keyStrings: { label: string; text: string }[];
  let bsns: Set<string>;
  let sourcePseudonyms: Set<string>;
  /** Every RID the link wrote: allowed in the linked data and metrics, never in the release or the audit's report. */
  let researchPseudonyms: Set<string>;
  /** The audit's report in each format, with what it printed on stderr. */
  let auditReports: { format: string; code: number; text: string }[];
  /** Every printed line and error message: the chain at debug level, plus refused runs. */
  let messages: { where: string; text: string }[];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-secrets-'));
    run = await runChain({ root, persons: 400, until: 'release', logLevel: 'debug' });
    duck = await Duck.open({ threads: 1 });

    keyStrings = [];
    for (const [role, file] of [
      ['source', run.sourceKey],
      ['ttp', run.ttpKey],
    ] as const) {
      const base64 = (JSON.parse(await readFile(file, 'utf8')) as { key: string }).key;
      const bytes = Buffer.from(base64, 'base64');
      keyStrings.push(
        { label: `${role} key (base64)`, text: base64 },
        { label: `${role} key (hex)`, text: bytes.toString('hex') },
      );
      keyStrings.push({ label: `${role} key (base64url)`, text: bytes.toString('base64url') });
    }
    const sourceKey = Buffer.from(keyStrings[0]!.text, 'base64');
    const persons = await duck.jsonRows<{ bsn: string }>(
      `SELECT bsn FROM read_parquet(${sqlString(join(run.raw, 'truth', 'persons.parquet'))})`,
    );
    bsns = new Set(persons.map((p) => p.bsn));
    expect(bsns.size).toBeGreaterThan(300);
    // P1 of every person, and every P1/F1 the sources actually wrote.
    sourcePseudonyms = new Set(persons.map((p) => sourcePseudonym(sourceKey, p.bsn as CanonicalBsn)));
    for (const source of [...MUNICIPALITIES, HOLDER_SOURCE]) {
      const dir = run.pseudonymized[source]!;
      for (const file of (await listFiles(dir)).filter((f) => f.endsWith('.parquet'))) {
        const rows = await duck.jsonRows<{ v: string }>(
          `SELECT p1 AS v FROM read_parquet(${sqlString(join(dir, file))}) WHERE p1 IS NOT NULL UNION SELECT f1 FROM read_parquet(${sqlString(join(dir, file))}) WHERE f1 IS NOT NULL`,
        );
        for (const r of rows) sourcePseudonyms.add(r.v);
      }
    }

    researchPseudonyms = new Set();
    for (const file of (await listFiles(run.linked)).filter((f) => f.endsWith('.parquet'))) {
      const path = sqlString(join(run.linked, file));
      if (
        (await duck.jsonRows<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${path})`)).some(
          (c) => c.column_name === 'rid',
        )
      ) {
        for (const r of await duck.jsonRows<{ v: string }>(
          `SELECT DISTINCT rid AS v FROM read_parquet(${path}) WHERE rid IS NOT NULL`,
        ))
          researchPseudonyms.add(r.v);
      }
    }
    expect(researchPseudonyms.size).toBeGreaterThan(10);

    // The privacy officer's audit of the whole workspace, with the key folder, in every format.
    auditReports = [];
    for (const format of ['text', 'json', 'html']) {
      const result = await runInProcess(
        ['audit', '--workspace', join(root, 'workspace'), '--keys', join(root, 'keys'), '--format', format],
        { logLevel: 'debug' },
      );
      auditReports.push({ format, code: result.code, text: `${result.stdout}${result.stderr}` });
    }

    messages = run.steps.flatMap((s, i) => [
      { where: `step ${i} ${s.args[0]} stdout`, text: s.result.stdout },
      { where: `step ${i} ${s.args[0]} stderr+log`, text: s.result.stderr },
    ]);
    // Error paths: a header-less export whose first line is a person's row, keys in the wrong place, a stage fed the wrong input.
    const rotterdam = join(run.raw, 'gemeente', 'rotterdam', 'clienten.csv');
    const headerless = join(root, 'headerless.csv');
    await writeFile(headerless, (await readFile(rotterdam)).subarray((await readFile(rotterdam)).indexOf(0x0a) + 1));
    // The holder's jobs file with its middle overwritten: INPUT_CORRUPT quotes DuckDB, which must not quote a BSN.
    const corruptJobs = join(root, 'jobs.parquet');
    const jobBytes = await readFile(join(run.raw, 'microdata', 'jobs.parquet'));
    for (let i = Math.floor(jobBytes.length / 3); i < Math.floor((jobBytes.length * 2) / 3); i += 7) jobBytes[i] = 0xff;
    await writeFile(corruptJobs, jobBytes);
    const refusals: string[][] = [
      [
        'pseudonymize',
        '--key',
        run.sourceKey,
        '--source',
        HOLDER_SOURCE,
        '--input',
        join(run.raw, 'microdata', 'persons.parquet'),
        corruptJobs,
        '--out',
        join(root, 'refused-0'),
      ],
      [
        'pseudonymize',
        '--key',
        run.sourceKey,
        '--source',
        'rotterdam',
        '--mapping',
        projectPath('examples/mappings/gemeente.json'),
        '--input',
        headerless,
        '--out',
        join(root, 'refused-1'),
      ],
      [
        'pseudonymize',
        '--key',
        run.ttpKey,
        '--source',
        'rotterdam',
        '--input',
        rotterdam,
        '--out',
        join(root, 'refused-2'),
      ],
      [
        'link',
        '--key',
        run.sourceKey,
        '--project',
        'test-project',
        '--input',
        run.pseudonymized.rotterdam!,
        run.pseudonymized[HOLDER_SOURCE]!,
        '--out',
        join(root, 'refused-3'),
      ],
      ['metrics', '--input', run.pseudonymized.rotterdam!, '--out', join(root, 'refused-4')],
      ['keys', 'check', '--role', 'ttp', run.sourceKey],
    ];
    for (const args of refusals) {
      const result = await runInProcess(args, { logLevel: 'debug' });
      expect(result.code, `${args[0]} should refuse`).not.toBe(0);
      messages.push({ where: `refused ${args.join(' ')}`, text: `${result.stdout}${result.stderr}` });
    }
  }, 240_000);
  afterAll(async () => {
    duck?.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Findings in a piece of text: key strings, BSN-like digit runs of the input's persons, source pseudonyms (and research pseudonyms where asked). */
  const scanText = (where: string, text: string, pseudonymsAllowed: boolean, ridsAllowed = true): Finding[] => {
    const findings: Finding[] = [];
    for (const k of keyStrings) if (text.includes(k.text)) findings.push({ where, what: k.label });
    for (const run of digitRunsOutsideHashes(text)) {
      // Digits inside a longer run (a timestamp, a row count) still count when a BSN sits at either end.
      for (let i = 0; i + 8 <= run.length; i++) {
        const nine = run.slice(i, i + 9);
        if (bsns.has(nine) || bsns.has(`0${run.slice(i, i + 8)}`)) {
          findings.push({ where, what: 'a BSN of the input' });
          break;
        }
      }
    }
    for (const hex of text.match(/[0-9a-f]{32}/gi) ?? []) {
      if (!pseudonymsAllowed && sourcePseudonyms.has(hex.toLowerCase()))
        findings.push({ where, what: 'a P1/F1 pseudonym' });
      if (!ridsAllowed && researchPseudonyms.has(hex.toLowerCase()))
        findings.push({ where, what: 'a research pseudonym (RID)' });
    }
    return findings;
  };

  /** Findings in a Parquet file, value by value. */
  const scanParquet = async (
    where: string,
    file: string,
    pseudonymsAllowed: boolean,
    ridsAllowed = true,
  ): Promise<Finding[]> => {
    const columns = await duck.jsonRows<{ column_name: string }>(
      `DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`,
    );
    const values = new Set<string>();
    for (const c of columns) {
      const rows = await duck.jsonRows<{ v: string }>(
        `SELECT DISTINCT CAST(${sqlIdent(c.column_name)} AS VARCHAR) AS v FROM read_parquet(${sqlString(file)}) WHERE ${sqlIdent(c.column_name)} IS NOT NULL`,
      );
      for (const r of rows) values.add(r.v);
    }
    return scanText(where, [...values].join('\n'), pseudonymsAllowed, ridsAllowed);
  };

  const scanStage = async (dir: string, pseudonymsAllowed: boolean, ridsAllowed = true): Promise<Finding[]> => {
    const findings: Finding[] = [];
    for (const file of await listFiles(dir)) {
      const path = join(dir, file);
      const where = relative(root, path);
      findings.push(
        ...(file.endsWith('.parquet')
          ? await scanParquet(where, path, pseudonymsAllowed, ridsAllowed)
          : scanText(where, await readFile(path, 'utf8'), pseudonymsAllowed, ridsAllowed)),
      );
    }
    return findings;
  };

  it('the scan would see a leak: it finds the BSNs in the raw exports and the P1s in the pseudonymize outputs', async () => {
    const raw = scanText('raw', await readFile(join(run.raw, 'gemeente', 'rotterdam', 'clienten.csv'), 'latin1'), true);
    expect(raw.some((f) => f.what === 'a BSN of the input')).toBe(true);
    const pseudonymized = await scanStage(run.pseudonymized.rotterdam!, false);
    expect(pseudonymized.some((f) => f.what === 'a P1/F1 pseudonym')).toBe(true);
    expect(
      scanText('key file', await readFile(run.sourceKey, 'utf8'), false).some((f) => f.what.startsWith('source key')),
    ).toBe(true);
  });

  it('no log line, printed line or error message holds a key, a BSN or a P1/F1', () => {
    expect(messages.reduce((n, m) => n + m.text.split('\n').length, 0)).toBeGreaterThan(50);
    expect(messages.flatMap((m) => scanText(m.where, m.text, false))).toEqual([]);
  });

  it.each([...MUNICIPALITIES, HOLDER_SOURCE])(
    'pseudonymize %s: no key or BSN in its output or quarantine (P1/F1 allowed here)',
    async (source) => {
      expect(await scanStage(run.pseudonymized[source]!, true)).toEqual([]);
      expect(await scanStage(`${run.pseudonymized[source]!}.quarantine`, false)).toEqual([]);
    },
  );

  it('link: no key, BSN or P1/F1 in the linked data, the linkage report or the manifest', async () => {
    expect(await scanStage(run.linked, false)).toEqual([]);
  });

  it('metrics: no key, BSN or P1/F1 in spells, tables, effects or the manifest', async () => {
    expect(await scanStage(run.metrics, false)).toEqual([]);
  });

  it('the scan would see a RID: it finds them in the linked data', async () => {
    expect((await scanStage(run.linked, false, false)).some((f) => f.what === 'a research pseudonym (RID)')).toBe(true);
  });

  it('release: no key, BSN, P1/F1 or RID in any file of the bundle (tables in Parquet, CSV and JSON, report, catalogue, manifest)', async () => {
    const files = await listFiles(run.release);
    expect(files.filter((f) => f.startsWith('tables/')).length).toBeGreaterThan(10);
    expect(await scanStage(run.release, false, false)).toEqual([]);
  });

  it('release: the internal disclosure log beside the bundle holds no key, BSN or P1/F1 either', async () => {
    expect(await scanStage(`${run.release}.disclosure-log`, false)).toEqual([]);
  });

  it('release: nothing per person in the bundle — only the released tables, their catalogue, the report and the manifest', async () => {
    const files = await listFiles(run.release);
    expect(files.filter((f) => !/^tables\/[a-z0-9_]+\.(parquet|csv|json)$/.test(f)).sort()).toEqual([
      'manifest.json',
      'report.html',
      'tables.json',
    ]);
    // A per-person (or per-spell) table would carry an identifier or a person's own attributes as a column.
    const perPerson =
      /^(rid|p1|f1|bsn|id_status|spell_no|birth_date|birth_month|postcode|house_number|employer_id|start_date|end_date)$/;
    for (const file of files.filter((f) => f.endsWith('.parquet'))) {
      const columns = (
        await duck.jsonRows<{ column_name: string }>(
          `DESCRIBE SELECT * FROM read_parquet(${sqlString(join(run.release, file))})`,
        )
      ).map((c) => c.column_name);
      expect(
        columns.filter((c) => perPerson.test(c)),
        file,
      ).toEqual([]);
      // Every row is a set of released cells: each measure has its status column.
      for (const c of columns.filter((c) => c.endsWith('_status')))
        expect(columns, file).toContain(c.slice(0, -'_status'.length));
      expect(
        columns.some((c) => c.endsWith('_status')),
        file,
      ).toBe(true);
    }
  });

  it('audit: its report in text, JSON and HTML holds no key, BSN, P1/F1 or RID', () => {
    for (const report of auditReports) {
      // 0: clean, 1: findings — either way a full report was printed, not a crash.
      expect([0, 1], `${report.format}: ${report.text.slice(-500)}`).toContain(report.code);
      expect(report.text).not.toContain('internal error');
      expect(report.text.length).toBeGreaterThan(500);
      expect(scanText(`audit --format ${report.format}`, report.text, false, false)).toEqual([]);
    }
  });
});
