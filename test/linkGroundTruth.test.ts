import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFile, LoadedKey } from '../keys/keyFile.js';
import { projectKey, researchPseudonym, sourcePseudonym } from '../keys/pseudonyms.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { StageInput } from '../pipeline/core/stageInput.js';
import type { LinkageReport } from '../pipeline/link/linkageReport.js';
import { parseBsn } from '../schemas/bsn.js';
import { runBoldlink } from './support/cli.js';

/*
 * The whole chain a TTP sees, against the generator's ground truth (tiny
 * scale): generate → pseudonymize (four municipalities and the holder, with
 * one source key) → link, each through the CLI. The truth knows which person every exported row belongs to,
 * so we can compute each person's true RID and check every linked row.
 */
const PROJECT = 'truth-check';
const MUNICIPALITIES = ['amsterdam', 'den_haag', 'rotterdam', 'utrecht'] as const;
const TABLE_OF_FILE: Record<string, 'clients' | 'benefits' | 'interventions'> = {
  'clienten.csv': 'clients',
  'uitkeringen.csv': 'benefits',
  'trajecten.csv': 'interventions',
};

let root: string;
let linkedDir: string;
let report: LinkageReport;
let duck: Duck;

async function boldlink(args: string[]): Promise<string> {
  const result = await runBoldlink(args);
  if (result.code !== 0) throw new Error(`boldlink ${args[0]} failed (${result.code}): ${result.stderr.slice(0, 600)}`);
  return result.stdout;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-linktruth-'));
  const gen = join(root, 'gen');
  await boldlink(['generate', '--scale', 'tiny', '--seed', '11', '--out', gen]);
  await createKeyFile(join(root, 'source.key'), 'source', 'truth-source');
  await createKeyFile(join(root, 'ttp.key'), 'ttp', 'truth-ttp');
  // The sources pseudonymize independently (as they would, each at home), so in parallel.
  const holder = join(root, 'pseudo', 'cbs');
  const pseudonymized = MUNICIPALITIES.map((m) => join(root, 'pseudo', m));
  await Promise.all([
    boldlink([
      'pseudonymize',
      '--key',
      join(root, 'source.key'),
      '--source',
      'cbs',
      '--input',
      join(gen, 'microdata', 'persons.parquet'),
      join(gen, 'microdata', 'jobs.parquet'),
      '--out',
      holder,
    ]),
    ...MUNICIPALITIES.map(async (municipality, i) => {
      const dir = join(gen, 'gemeente', municipality);
      const files = (await readdir(dir)).filter((f) => f.endsWith('.csv')).map((f) => join(dir, f));
      await boldlink([
        'pseudonymize',
        '--key',
        join(root, 'source.key'),
        '--source',
        municipality,
        '--mapping',
        projectPath('examples/mappings/gemeente.json'),
        '--input',
        ...files,
        '--out',
        pseudonymized[i]!,
      ]);
    }),
  ]);
  linkedDir = join(root, 'linked');
  await boldlink([
    'link',
    '--key',
    join(root, 'ttp.key'),
    '--project',
    PROJECT,
    '--input',
    holder,
    ...pseudonymized,
    '--out',
    linkedDir,
  ]);
  report = JSON.parse(await readFile(join(linkedDir, 'linkage-report.json'), 'utf8')) as LinkageReport;

  // Every person's true RID, from the truth's BSN, computed with the reference functions.
  const sourceKey = await LoadedKey.load(join(root, 'source.key'));
  const ttpKey = await LoadedKey.load(join(root, 'ttp.key'));
  const projKey = projectKey(ttpKey.bytes(), PROJECT);
  duck = await Duck.open({ threads: 1 });
  const persons = await duck.jsonRows<{ person_id: string | number; bsn: string }>(
    `SELECT person_id, bsn FROM read_parquet(${sqlString(join(gen, 'truth', 'persons.parquet'))})`,
  );
  const values = persons.map((p) => {
    const bsn = parseBsn(p.bsn);
    if (!bsn.ok) throw new Error('the truth holds an invalid BSN');
    return `(${Number(p.person_id)}, '${researchPseudonym(projKey, sourcePseudonym(sourceKey.bytes(), bsn.bsn))}')`;
  });
  await duck.run(
    `CREATE TABLE true_rid (person_id BIGINT, rid VARCHAR); INSERT INTO true_rid VALUES ${values.join(', ')};`,
  );
  await duck.run(
    `CREATE VIEW truth_records AS SELECT * FROM read_parquet(${sqlString(join(gen, 'truth', 'records.parquet'))})`,
  );
  const out = (file: string) => sqlString(join(linkedDir, file));
  await duck.run(`
    CREATE TABLE truth_counts AS
    SELECT r.source AS municipality,
           CASE r.file WHEN 'clienten.csv' THEN 'clients' WHEN 'uitkeringen.csv' THEN 'benefits' WHEN 'trajecten.csv' THEN 'interventions' END AS file,
           t.rid, r.person_id, count(*) AS n
    FROM truth_records r JOIN true_rid t USING (person_id)
    WHERE r.source <> 'microdata'
    GROUP BY ALL;
    CREATE TABLE linked_counts AS
    SELECT municipality, 'clients' AS file, rid, count(*) AS n FROM read_parquet(${out('clients.parquet')}) GROUP BY ALL
    UNION ALL SELECT municipality, 'benefits', rid, count(*) FROM read_parquet(${out('benefits.parquet')}) GROUP BY ALL
    UNION ALL SELECT municipality, 'interventions', rid, count(*) FROM read_parquet(${out('interventions.parquet')}) GROUP BY ALL;
    -- A linked row is correct when the person its RID names truly has that many rows in that file of that municipality.
    CREATE TABLE verified AS
    SELECT l.municipality, l.file, l.rid, t.person_id, l.n AS linked, least(l.n, coalesce(t.n, 0)) AS correct, coalesce(t.n, 0) AS truth
    FROM linked_counts l LEFT JOIN truth_counts t USING (municipality, file, rid);
  `);
}, 240_000);

afterAll(async () => {
  duck?.close();
  await rm(root, { recursive: true, force: true });
});

describe("link against the generator's ground truth (tiny scale)", { timeout: 120_000 }, () => {
  it('links with 100% precision, and reports its recall', async () => {
    const [totals] = await duck.jsonRows<{ linked: number; correct: number }>(
      'SELECT sum(linked)::INTEGER AS linked, sum(correct)::INTEGER AS correct FROM verified',
    );
    expect(totals?.linked).toBeGreaterThan(0);
    expect(totals?.correct).toBe(totals?.linked);
    const recall = await duck.jsonRows<{ municipality: string; file: string; truth: number; linked: number }>(`
      SELECT t.municipality, t.file, sum(t.n)::INTEGER AS truth, coalesce(sum(l.n), 0)::INTEGER AS linked
      FROM truth_counts t LEFT JOIN linked_counts l USING (municipality, file, rid) GROUP BY ALL ORDER BY ALL`);
    const truth = recall.reduce((n, r) => n + r.truth, 0);
    const linked = recall.reduce((n, r) => n + r.linked, 0);
    console.info(
      `link recall against the truth: ${linked}/${truth} = ${((100 * linked) / truth).toFixed(1)}%\n${recall.map((r) => `  ${r.municipality}/${r.file}: ${r.linked}/${r.truth}`).join('\n')}`,
    );
    // Rows lost to defects are quarantined at the source, so recall is below 100%, but not by much.
    expect(linked / truth).toBeGreaterThan(0.9);
  });

  it("keeps exactly the true jobs of every linked person, and no one else's", async () => {
    const rows = await duck.jsonRows<{ persons: number; wrong: number }>(`
      WITH truth_jobs AS (
        SELECT t.rid, count(*) AS n FROM truth_records r JOIN true_rid t USING (person_id) WHERE r.file = 'jobs.parquet' GROUP BY t.rid
      ), linked_jobs AS (
        SELECT rid, count(*) AS n FROM read_parquet(${sqlString(join(linkedDir, 'jobs.parquet'))}) GROUP BY rid
      ), linked_persons AS (
        SELECT rid FROM read_parquet(${sqlString(join(linkedDir, 'persons.parquet'))})
      )
      SELECT count(*)::INTEGER AS persons,
             count(*) FILTER (WHERE coalesce(l.n, 0) <> coalesce(t.n, 0))::INTEGER AS wrong
      FROM linked_persons p LEFT JOIN linked_jobs l USING (rid) LEFT JOIN truth_jobs t USING (rid)`);
    expect(rows[0]?.persons).toBe(report.persons.linked);
    expect(rows[0]?.wrong).toBe(0);
  });

  it('reports counts that equal the truth', async () => {
    const verified = await duck.jsonRows<{ municipality: string; file: string; correct: number; persons: number }>(
      'SELECT municipality, file, sum(correct)::INTEGER AS correct, count(DISTINCT person_id)::INTEGER AS persons FROM verified GROUP BY ALL',
    );
    // Exported lines: the truth's records plus the empty lines the generator slipped in (which belong to no one).
    const truthRecords = await duck.jsonRows<{ municipality: string; file: string; n: number }>(`
      SELECT source AS municipality, file, count(*)::INTEGER AS n FROM (
        SELECT source, file FROM truth_records WHERE source <> 'microdata'
        UNION ALL
        SELECT source, file FROM read_parquet(${sqlString(join(root, 'gen', 'truth', 'ledger.parquet'))}) WHERE kind = 'empty_line'
      ) GROUP BY ALL`);
    for (const municipality of MUNICIPALITIES) {
      const source = report.sources.find((s) => s.source === municipality);
      const manifest = (await StageInput.open(join(root, 'pseudo', municipality))).manifest;
      for (const [csv, table] of Object.entries(TABLE_OF_FILE)) {
        const f = source?.files.find((x) => x.file === table);
        const v = verified.find((x) => x.municipality === municipality && x.file === table);
        const quarantinedAtSource = manifest.accounting.find((a) => a.scope === csv)?.rowsQuarantined ?? 0;
        const where = `${municipality}/${table}`;
        // Every exported line is in the report (records) or in the source's quarantine.
        expect((f?.records ?? 0) + quarantinedAtSource, where).toBe(
          truthRecords.find((x) => x.municipality === municipality && x.file === csv)?.n,
        );
        expect(f?.unique, where).toBe(v?.correct ?? 0);
        expect(f?.linkedPersons, where).toBe(v?.persons ?? 0);
        expect((f?.unique ?? 0) + (f?.multiple ?? 0) + (f?.none ?? 0), where).toBe(f?.records);
        expect(f?.unique, where).toBe((f?.matchedOnBsn ?? 0) + (f?.matchedOnFallback ?? 0));
      }
    }
    const persons = await duck.jsonRows<{ linked: number; several: number }>(`
      WITH per_person AS (SELECT person_id, count(DISTINCT municipality) AS m FROM verified WHERE correct > 0 GROUP BY person_id)
      SELECT count(*)::INTEGER AS linked, count(*) FILTER (WHERE m > 1)::INTEGER AS several FROM per_person`);
    expect(report.persons).toEqual({ linked: persons[0]?.linked, inSeveralMunicipalities: persons[0]?.several });
    const [holderTruth] = await duck.jsonRows<{ persons: number; jobs: number }>(
      "SELECT count(*) FILTER (WHERE file = 'persons.parquet')::INTEGER AS persons, count(*) FILTER (WHERE file = 'jobs.parquet')::INTEGER AS jobs FROM truth_records WHERE source = 'microdata'",
    );
    expect(report.holder.persons.records).toBe(holderTruth?.persons);
    expect(report.holder.jobs.records).toBe(holderTruth?.jobs);
    expect(report.holder.persons.kept).toBe(report.persons.linked);
  });
});
