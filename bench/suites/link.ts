import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createKeyFile, LoadedKey } from '../../keys/keyFile.js';
import { Duck, fillSql, sqlString } from '../../pipeline/core/duckdb.js';
import { projectPath } from '../../pipeline/core/projectPath.js';
import { StageOutput } from '../../pipeline/core/stageOutput.js';
import { LINK_SQL, LINKED_FILES } from '../../pipeline/link/link.js';
import { createSourceViews, type SourceLayout } from '../../pipeline/link/sourceViews.js';
import { MUNICIPAL_TABLES } from '../../pipeline/link/sourceTables.js';
import type { BenchFigure, BenchSuite } from '../figure.js';
import { measureBoldlink, measureCommand, type CommandMeasurement } from '../measure.js';

/**
 * Issue #6: the link stage at city scale — wall time, peak memory, and its
 * cost relative to the DuckDB SQL it runs (target: stage ≤ 1.3× its SQL).
 *
 * Inputs come from the real chain when it works: `generate` at the bench
 * scale, `keys new`, `pseudonymize` per source. Should any of those fail, the
 * suite synthesises pseudonymize-format stage directories of the same size in
 * DuckDB SQL instead (about 650k holder persons, 4.5M jobs, 60k municipal
 * clients in four municipalities, with fallback records, unknown persons,
 * ambiguous fallback fields and movers; md5 stands in for the HMAC
 * pseudonyms, which link only joins on), and says so in the figure's note.
 */

const SCALES: Record<string, { persons: number; jobs: number; clients: number }> = {
  tiny: { persons: 20_000, jobs: 120_000, clients: 2_000 },
  small: { persons: 100_000, jobs: 600_000, clients: 10_000 },
  city: { persons: 650_000, jobs: 4_500_000, clients: 60_000 },
};
const MUNICIPALITIES = ['rotterdam', 'amsterdam', 'utrecht', 'den_haag'] as const;
const REPEAT = Number(process.env.BOLDLINK_BENCH_REPEAT ?? 3);

/** Pseudonymize-format tables of one synthetic city; `${...}` are row counts. */
const SYNTHETIC_SOURCES = `
CREATE TABLE persons AS
SELECT CASE WHEN i % 200 = 0 THEN NULL ELSE md5('bsn:' || i) END AS p1,
       md5('fallback:' || CASE WHEN i % 1000 = 4 THEN i - 1 ELSE i END) AS f1,
       CASE WHEN i % 200 = 0 THEN 'fallback' ELSE 'bsn' END AS id_status,
       CAST(DATE '1955-01-01' + to_months(CAST(i % 540 AS INTEGER)) AS DATE) AS birth_month,
       CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END AS sex,
       ['GM0599', 'GM0363', 'GM0344', 'GM0518', 'GM0014'][1 + i % 5] AS municipality_code
FROM range(\${persons}) t(i);

CREATE TABLE jobs AS
WITH js AS (SELECT j, hash(j) % \${persons} AS i FROM range(\${jobs}) t(j))
SELECT CASE WHEN i % 200 = 0 THEN NULL ELSE md5('bsn:' || i) END AS p1,
       CASE WHEN i % 200 = 0 THEN md5('fallback:' || i) END AS f1,
       CASE WHEN i % 200 = 0 THEN 'fallback' ELSE 'bsn' END AS id_status,
       'E' || (j % 40000) AS employer_id,
       CAST(DATE '2012-01-01' + CAST(j * 37 % 4000 AS INTEGER) AS DATE) AS start_date,
       CASE WHEN j % 3 = 0 THEN NULL ELSE CAST(DATE '2012-01-01' + CAST(j * 37 % 4000 + 30 + j % 700 AS INTEGER) AS DATE) END AS end_date,
       ['permanent', 'temporary', 'on_call', 'agency', 'self_employed'][1 + j % 5] AS contract_type,
       CAST(4 + j % 37 AS DOUBLE) AS hours_per_week,
       11.5 + (j % 250) / 10.0 AS hourly_wage
FROM js;

-- Client k lives in municipality k % 4. Every 100th is a mover (the person of client k-1, in
-- another municipality); every 41st has no valid BSN (F1 only; a few of them share their fallback
-- fields with another person, see i % 1000 = 4 above); every 97th is unknown to the holder.
CREATE TABLE clientIdentities AS
WITH ks AS (SELECT k, CASE WHEN k % 100 = 1 THEN (k - 1) * 10 + 3 ELSE k * 10 + 3 END % \${persons} AS i FROM range(\${clients}) t(k))
SELECT k, k % 4 AS municipality_no, i,
       CASE WHEN k % 97 = 0 THEN md5('unknown:' || k) WHEN k % 41 = 0 OR i % 200 = 0 THEN NULL ELSE md5('bsn:' || i) END AS p1,
       CASE WHEN k % 97 <> 0 AND (k % 41 = 0 OR i % 200 = 0) THEN md5('fallback:' || i) END AS f1
FROM ks;

CREATE TABLE clients AS
SELECT municipality_no, p1, f1, CASE WHEN p1 IS NULL THEN 'fallback' ELSE 'bsn' END AS id_status,
       CAST(DATE '1955-01-01' + to_months(CAST(i % 540 AS INTEGER)) AS DATE) AS birth_month,
       CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END AS sex,
       'wijk ' || (k % 12) AS district,
       ['single', 'single_parent', 'couple', 'couple_with_children', 'other'][1 + k % 5] AS household_type
FROM clientIdentities;

CREATE TABLE benefits AS
SELECT c.municipality_no, c.p1, c.f1, CASE WHEN c.p1 IS NULL THEN 'fallback' ELSE 'bsn' END AS id_status,
       ['bijstand', 'bijstand', 'bijstand', 'ioaw', 'bbz'][1 + b % 5] AS benefit_type,
       CAST(DATE '2015-01-01' + CAST((b * 53) % 2900 AS INTEGER) AS DATE) AS start_date,
       CASE WHEN b % 4 = 0 THEN NULL ELSE CAST(DATE '2015-01-01' + CAST((b * 53) % 2900 + 60 + b % 900 AS INTEGER) AS DATE) END AS end_date,
       CASE WHEN b % 4 = 0 THEN NULL ELSE ['work', 'other_income', 'partner', 'moved', 'other'][1 + b % 5] END AS end_reason
FROM range(CAST(\${clients} * 1.6 AS BIGINT)) t(b)
JOIN clientIdentities c ON c.k = b % \${clients};

CREATE TABLE interventions AS
SELECT c.municipality_no, c.p1, c.f1, CASE WHEN c.p1 IS NULL THEN 'fallback' ELSE 'bsn' END AS id_status,
       'werkloont' AS programme, ['treatment', 'control', 'none'][1 + v % 3] AS arm, CAST(1 + v % 6 AS TINYINT) AS ladder_step,
       CAST(DATE '2016-01-01' + CAST((v * 29) % 2500 AS INTEGER) AS DATE) AS start_date,
       CAST(DATE '2016-01-01' + CAST((v * 29) % 2500 + 180 AS INTEGER) AS DATE) AS end_date
FROM range(CAST(\${clients} / 2 AS BIGINT)) t(v)
JOIN clientIdentities c ON c.k = (v * 3) % \${clients};
`;

export async function synthesiseSources(
  workDir: string,
  scale: { persons: number; jobs: number; clients: number },
  sourceKey: LoadedKey,
): Promise<string[]> {
  const duck = await Duck.open({ tempDirectory: join(workDir, 'duck-tmp') });
  const dirs: string[] = [];
  try {
    await duck.run(
      fillSql(SYNTHETIC_SOURCES, {
        persons: String(scale.persons),
        jobs: String(scale.jobs),
        clients: String(scale.clients),
      }),
    );
    const write = async (source: string, tables: Record<string, string>) => {
      const output = await StageOutput.create({
        stage: 'pseudonymize',
        outDir: join(workDir, 'pseudonymized', source),
        parameters: { source },
      });
      for (const [table, select] of Object.entries(tables))
        await duck.run(
          `COPY (${select}) TO ${sqlString(await output.file(`${table}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`,
        );
      output.addKey({
        role: 'source',
        keyId: sourceKey.keyId,
        fingerprint: sourceKey.fingerprint,
        use: 'pseudonymize',
      });
      await output.commit();
      dirs.push(output.outDir);
    };
    await write('cbs', { persons: 'SELECT * FROM persons', jobs: 'SELECT * FROM jobs' });
    for (const [no, municipality] of MUNICIPALITIES.entries()) {
      const of = (table: string) => `SELECT * EXCLUDE (municipality_no) FROM ${table} WHERE municipality_no = ${no}`;
      await write(municipality, {
        clients: of('clients'),
        benefits: of('benefits'),
        interventions: of('interventions'),
      });
    }
  } finally {
    duck.close();
  }
  return dirs;
}

/**
 * The stage's own SQL, run directly from plain paths: the same views and .sql
 * files, without checksum verification, key handling, manifest or commit, and
 * md5 instead of the HMAC for the RIDs. Runs in its own Node process (see
 * `directSqlScript`) so both sides pay process start-up and are measured alike.
 */
export async function runLinkSqlDirectly(dirs: readonly string[], outDir: string, tempDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const layout = await layoutOf(dirs);
  const duck = await Duck.open({ tempDirectory: tempDir });
  try {
    await createSourceViews(duck, layout);
    await duck.runFile(LINK_SQL.identityLinks);
    await duck.run(`INSERT INTO researchPseudonyms SELECT p1, md5('rid:' || p1) FROM linkedPersons`);
    await duck.runFile(LINK_SQL.recordLinks);
    const outPaths: Record<string, string> = {};
    for (const name of LINKED_FILES) outPaths[`${name}Out`] = sqlString(join(outDir, `${name}.parquet`));
    await duck.runFile(LINK_SQL.writeLinked, outPaths);
    for (const query of [LINK_SQL.linkageCounts, LINK_SQL.personCounts, LINK_SQL.holderCounts])
      await duck.rows(await readFile(query, 'utf8'));
  } finally {
    duck.close();
  }
}

/** A Node script that runs `runLinkSqlDirectly` from the compiled bench module. */
async function writeDirectSqlScript(
  file: string,
  dirs: readonly string[],
  outDir: string,
  tempDir: string,
): Promise<string> {
  const moduleUrl = import.meta.url;
  await writeFile(
    file,
    `import { runLinkSqlDirectly } from ${JSON.stringify(moduleUrl)};\nawait runLinkSqlDirectly(${JSON.stringify(dirs)}, ${JSON.stringify(outDir)}, ${JSON.stringify(tempDir)});\n`,
  );
  return file;
}

/** generate → keys new → pseudonymize, as stewards run them; the holder's output first. */
export async function pseudonymizeGenerated(
  workDir: string,
  scale: string,
  say: (m: string) => void,
): Promise<string[]> {
  const run = async (args: string[]) => {
    const m = await measureBoldlink(args);
    if (m.exitCode !== 0)
      throw new Error(`boldlink ${args.slice(0, 2).join(' ')} failed (exit ${m.exitCode}): ${m.stderr.slice(0, 300)}`);
    return m;
  };
  const gen = join(workDir, 'generated');
  say(`generate --scale ${scale}`);
  await run(['generate', '--scale', scale, '--seed', '6', '--out', gen]);
  const sourceKey = join(workDir, 'generated-source.key');
  await run(['keys', 'new', '--role', 'source', '--out', sourceKey]);
  const holder = join(workDir, 'pseudonymized-generated', 'cbs');
  say('pseudonymize the holder');
  await run([
    'pseudonymize',
    '--key',
    sourceKey,
    '--source',
    'cbs',
    '--input',
    join(gen, 'microdata', 'persons.parquet'),
    join(gen, 'microdata', 'jobs.parquet'),
    '--out',
    holder,
  ]);
  const dirs = [holder];
  for (const municipality of (await readdir(join(gen, 'gemeente'))).sort()) {
    const files = (await readdir(join(gen, 'gemeente', municipality)))
      .filter((f) => f.endsWith('.csv'))
      .map((f) => join(gen, 'gemeente', municipality, f));
    const out = join(workDir, 'pseudonymized-generated', municipality);
    say(`pseudonymize ${municipality}`);
    await run([
      'pseudonymize',
      '--key',
      sourceKey,
      '--source',
      municipality,
      '--mapping',
      projectPath('examples/mappings/gemeente.json'),
      '--input',
      ...files,
      '--out',
      out,
    ]);
    dirs.push(out);
  }
  await rm(gen, { recursive: true, force: true });
  return dirs;
}

/** Plain-path layout of the inputs for the reference run: the holder first, then municipalities by directory name. */
async function layoutOf(dirs: readonly string[]): Promise<SourceLayout> {
  const at = (dir: string) => ({ path: (file: string) => join(dir, file) });
  const [holderDir, ...municipalDirs] = dirs;
  if (holderDir === undefined) throw new Error('no inputs');
  const municipalities = [];
  for (const dir of municipalDirs) {
    const present = new Set(await readdir(dir));
    municipalities.push({
      municipality: basename(dir),
      tables: MUNICIPAL_TABLES.filter((t) => present.has(`${t}.parquet`)),
      input: at(dir),
    });
  }
  return { holder: { input: at(holderDir) }, municipalities };
}

export const suite: BenchSuite = {
  name: 'link',
  async run({ workDir, scale, say }) {
    const size = SCALES[scale] ?? SCALES.city!;
    await createKeyFile(join(workDir, 'ttp.key'), 'ttp', 'bench-ttp');
    const ttpKey = await LoadedKey.load(join(workDir, 'ttp.key'));
    let dirs: string[];
    let inputsNote: string;
    try {
      dirs = await pseudonymizeGenerated(workDir, scale, say);
      inputsNote = `inputs from generate --scale ${scale} + pseudonymize`;
    } catch (error) {
      say(
        `the generate → pseudonymize chain failed (${(error as Error).message.slice(0, 200)}); synthesising pseudonymized inputs instead`,
      );
      await createKeyFile(join(workDir, 'source.key'), 'source', 'bench-source');
      const sourceKey = await LoadedKey.load(join(workDir, 'source.key'));
      say(`synthesising pseudonymized inputs (${size.persons} persons, ${size.jobs} jobs, ${size.clients} clients)`);
      dirs = await synthesiseSources(workDir, size, sourceKey);
      inputsNote = `synthesised pseudonymize-format inputs: ${size.persons} persons, ${size.jobs} jobs, ${size.clients} clients in ${MUNICIPALITIES.length} municipalities`;
    }
    return measureLink(workDir, dirs, ttpKey, scale, inputsNote, say);
  },
};

/** Stage and reference runs, alternating so that a change in machine load hits both alike. */
export async function measureLink(
  workDir: string,
  dirs: readonly string[],
  ttpKey: LoadedKey,
  scale: string,
  inputsNote: string,
  say: (m: string) => void,
): Promise<BenchFigure[]> {
  const stageRuns: CommandMeasurement[] = [];
  const sqlRuns: CommandMeasurement[] = [];
  for (let i = 0; i < REPEAT; i++) {
    say(`link stage, run ${i + 1}/${REPEAT}`);
    const stage = await measureBoldlink([
      'link',
      '--key',
      ttpKey.file,
      '--project',
      'bench',
      '--input',
      ...dirs,
      '--out',
      join(workDir, 'linked'),
    ]);
    if (stage.exitCode !== 0)
      throw new Error(`boldlink link failed (exit ${stage.exitCode}): ${stage.stderr.slice(0, 400)}`);
    stageRuns.push(stage);
    say(`the same SQL run directly, run ${i + 1}/${REPEAT}`);
    const script = await writeDirectSqlScript(
      join(workDir, `direct-${i}.mjs`),
      dirs,
      join(workDir, `direct-${i}`),
      join(workDir, 'direct-tmp'),
    );
    const direct = await measureCommand(process.execPath, [script]);
    if (direct.exitCode !== 0)
      throw new Error(`the direct link SQL failed (exit ${direct.exitCode}): ${direct.stderr.slice(0, 400)}`);
    sqlRuns.push(direct);
    await rm(join(workDir, `direct-${i}`), { recursive: true, force: true });
  }
  const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const stageSeconds = median(stageRuns.map((r) => r.seconds));
  const sqlSeconds = median(sqlRuns.map((r) => r.seconds));
  const ratio = stageSeconds / sqlSeconds;
  const note = `${inputsNote}; median of ${REPEAT}`;
  return [
    {
      issue: 6,
      name: `link stage wall time (${scale})`,
      value: stageSeconds,
      unit: 's',
      reference: { name: 'its SQL run directly', value: sqlSeconds },
      ratio,
      target: '≤ 1.3×',
      met: ratio <= 1.3,
      note,
    },
    {
      issue: 6,
      name: `link stage peak memory (${scale})`,
      value: Math.max(...stageRuns.map((r) => r.peakMiB)),
      unit: 'MiB',
      reference: { name: 'its SQL run directly', value: Math.max(...sqlRuns.map((r) => r.peakMiB)) },
      note,
    },
  ];
}
