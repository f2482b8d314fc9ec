import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { digestFile } from '../pipeline/core/fileDigest.js';
import { StageInput } from '../pipeline/core/stageInput.js';
import { StageOutput } from '../pipeline/core/stageOutput.js';
import { createKeyFile, LoadedKey } from '../keys/keyFile.js';
import { fallbackPseudonym, projectKey, researchPseudonym, sourcePseudonym } from '../keys/pseudonyms.js';
import { parseBsn, type CanonicalBsn } from '../schemas/bsn.js';

/**
 * A small, hand-made workspace of one boldlink run, written the way the stages
 * write theirs (StageOutput, Parquet by DuckDB COPY, pseudonyms by the
 * reference functions of keys/pseudonyms.ts): two sources (Rotterdam and the
 * microdata holder), a link output, a metrics output and a release bundle
 * whose one table is correctly suppressed. Each audit test plants one
 * violation in it.
 */

export const PROJECT = 'audit-test';

/** Released table `outflow`: spells by outflow year × municipality, inner cells suppressed, margins published. */
export const OUTFLOW = {
  inner: [
    { year: '2020', municipality: 'rotterdam', spells: 25 },
    { year: '2020', municipality: 'utrecht', spells: 4 },
    { year: '2021', municipality: 'rotterdam', spells: 30 },
    { year: '2021', municipality: 'utrecht', spells: 12 },
  ],
};

export interface ReleasedCell {
  readonly year: string;
  readonly municipality: string;
  readonly spells: number | null;
  readonly status: 'published' | 'suppressed' | 'rounded';
}

/** The full table with margins; the four inner cells suppressed (the 4 is primary, the others secondary). */
export function outflowTable(): ReleasedCell[] {
  const cells: ReleasedCell[] = [];
  const years = ['2020', '2021'];
  const municipalities = ['rotterdam', 'utrecht'];
  const value = (y: string, m: string) =>
    OUTFLOW.inner
      .filter((c) => (y === 'Total' || c.year === y) && (m === 'Total' || c.municipality === m))
      .reduce((s, c) => s + c.spells, 0);
  for (const y of [...years, 'Total']) {
    for (const m of [...municipalities, 'Total']) {
      const inner = y !== 'Total' && m !== 'Total';
      cells.push({
        year: y,
        municipality: m,
        spells: inner ? null : value(y, m),
        status: inner ? 'suppressed' : 'published',
      });
    }
  }
  return cells;
}

/** Persons behind each cell in the metrics output (internal): the true counts. */
function metricsTableRows(): { year: string; municipality: string; spells: number; persons: number }[] {
  return outflowTable().map((c) => {
    const inner = OUTFLOW.inner
      .filter(
        (i) =>
          (c.year === 'Total' || i.year === c.year) &&
          (c.municipality === 'Total' || i.municipality === c.municipality),
      )
      .reduce((s, i) => s + i.spells, 0);
    return { year: c.year, municipality: c.municipality, spells: inner, persons: inner };
  });
}

/** A valid BSN made from a number, by choosing the check digit (skipping numbers whose check digit would be 10). */
export function validBsn(n: number): CanonicalBsn {
  for (let k = n; ; k++) {
    const first8 = String(k).padStart(8, '0');
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * Number(first8[i]);
    const check = sum % 11;
    if (check === 10) continue;
    const parsed = parseBsn(`${first8}${check}`);
    if (parsed.ok) return parsed.bsn;
  }
}

export interface FixtureOptions {
  /** Which key a source pseudonymizes with: the shared source key (default), the TTP key, or a key of its own. */
  readonly rotterdamKey?: 'source' | 'ttp' | 'other';
  /** Add a free-text `remarks` column to the linked interventions, with this text in its first row. */
  readonly linkedRemark?: string;
  /** Copy the first client's P1 into a `source_id` column of the linked clients. */
  readonly p1InLinked?: boolean;
  /** A second released table `outflow_recent` over the same population (outflows), with these cells. */
  readonly sharedTable?: readonly ReleasedCell[];
  /** Extra files put into the release bundle (listed in its manifest), by path. */
  readonly releaseExtras?: Readonly<Record<string, string>>;
}

export interface Fixture {
  readonly workspace: string;
  readonly keysDir: string;
  readonly dirs: {
    readonly rotterdam: string;
    readonly microdata: string;
    readonly link: string;
    readonly metrics: string;
    readonly release: string;
  };
  /** The identifiers the fixture used (for asserting they never appear in a report). */
  readonly bsns: readonly string[];
  readonly p1s: readonly string[];
}

export async function buildWorkspace(root: string, options: FixtureOptions = {}): Promise<Fixture> {
  const workspace = join(root, 'run');
  const keysDir = join(root, 'keys');
  await mkdir(keysDir, { recursive: true });
  await createKeyFile(join(keysDir, 'source.key'), 'source', 'k-src-2025');
  await createKeyFile(join(keysDir, 'ttp.key'), 'ttp', 'k-ttp-2025');
  const sourceKey = await LoadedKey.load(join(keysDir, 'source.key'), 'source');
  const ttpKey = await LoadedKey.load(join(keysDir, 'ttp.key'), 'ttp');
  let rotterdamKey = sourceKey;
  if (options.rotterdamKey === 'ttp') rotterdamKey = ttpKey;
  if (options.rotterdamKey === 'other') {
    await createKeyFile(join(keysDir, 'rotterdam-own.key'), 'source', 'k-src-rotterdam');
    rotterdamKey = await LoadedKey.load(join(keysDir, 'rotterdam-own.key'), 'source');
  }

  const bsns = [1, 2, 3, 4, 5].map((i) => validBsn(10_000_000 + i * 7919));
  const p1 = (key: LoadedKey, bsn: CanonicalBsn) => sourcePseudonym(key.bytes(), bsn);
  const f1 = (key: LoadedKey, i: number) =>
    fallbackPseudonym(key.bytes(), {
      birthDate: `198${i}-03-0${i + 1}`,
      sex: i % 2 === 0 ? 'F' : 'M',
      postcode: '3011 AB',
      houseNumber: String(10 + i),
    });
  const kProj = projectKey(ttpKey.bytes(), PROJECT);
  const rid = (value: string) => researchPseudonym(kProj, value);

  const duck = await Duck.open({ threads: 1 });
  const dirs = {
    rotterdam: join(workspace, 'pseudo', 'rotterdam'),
    microdata: join(workspace, 'pseudo', 'microdata'),
    link: join(workspace, 'linked'),
    metrics: join(workspace, 'metrics'),
    release: join(workspace, 'release'),
  };
  const copy = async (path: string, select: string) =>
    duck.run(`COPY (${select}) TO ${sqlString(path)} (FORMAT parquet)`);
  const values = (rows: (string | number | null)[][]) =>
    rows
      .map(
        (r) => `(${r.map((v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : sqlString(v))).join(', ')})`,
      )
      .join(', ');
  try {
    // Source: Rotterdam (clients and benefits); four persons with a valid BSN.
    {
      const out = await StageOutput.create({
        stage: 'pseudonymize',
        outDir: dirs.rotterdam,
        parameters: { source: 'rotterdam' },
      });
      const clients = bsns
        .slice(0, 4)
        .map((b, i) => [
          p1(rotterdamKey, b),
          null,
          'bsn',
          `198${i}-03-01`,
          i % 2 === 0 ? 'F' : 'M',
          'Charlois',
          'single',
        ]);
      await copy(
        await out.file('clients.parquet'),
        `SELECT col0 AS p1, col1::VARCHAR AS f1, col2 AS id_status, CAST(col3 AS DATE) AS birth_month, col4 AS sex, col5 AS district, col6 AS household_type FROM (VALUES ${values(clients)})`,
      );
      const benefits = bsns
        .slice(0, 4)
        .map((b) => [p1(rotterdamKey, b), null, 'bsn', 'bijstand', '2019-01-01', '2020-06-30', 'work']);
      await copy(
        await out.file('benefits.parquet'),
        `SELECT col0 AS p1, col1::VARCHAR AS f1, col2 AS id_status, col3 AS benefit_type, CAST(col4 AS DATE) AS start_date, CAST(col5 AS DATE) AS end_date, col6 AS end_reason FROM (VALUES ${values(benefits)})`,
      );
      out.addKey({
        role: 'source',
        keyId: rotterdamKey.keyId,
        fingerprint: rotterdamKey.fingerprint,
        use: 'pseudonymize',
      });
      out.addAccounting({ scope: 'clienten.csv', rowsIn: 4, rowsOut: 4, rowsQuarantined: 0, quarantinedByReason: {} });
      out.addAccounting({
        scope: 'uitkeringen.csv',
        rowsIn: 4,
        rowsOut: 4,
        rowsQuarantined: 0,
        quarantinedByReason: {},
      });
      await out.commit();
    }
    // Source: the microdata holder (persons with F1 for everyone, and jobs).
    {
      const out = await StageOutput.create({
        stage: 'pseudonymize',
        outDir: dirs.microdata,
        parameters: { source: 'microdata' },
      });
      const persons = bsns.map((b, i) => [
        p1(sourceKey, b),
        f1(sourceKey, i),
        'bsn',
        `198${i}-03-01`,
        i % 2 === 0 ? 'F' : 'M',
        'GM0599',
      ]);
      await copy(
        await out.file('persons.parquet'),
        `SELECT col0 AS p1, col1 AS f1, col2 AS id_status, CAST(col3 AS DATE) AS birth_month, col4 AS sex, col5 AS municipality_code FROM (VALUES ${values(persons)})`,
      );
      const jobs = bsns
        .slice(0, 3)
        .map((b, i) => [p1(sourceKey, b), null, 'bsn', `EMP-${i}`, '2020-07-01', null, 'permanent', 32.0, 14.25]);
      await copy(
        await out.file('jobs.parquet'),
        `SELECT col0 AS p1, col1::VARCHAR AS f1, col2 AS id_status, col3 AS employer_id, CAST(col4 AS DATE) AS start_date, CAST(col5 AS DATE) AS end_date, col6 AS contract_type, CAST(col7 AS DOUBLE) AS hours_per_week, CAST(col8 AS DOUBLE) AS hourly_wage FROM (VALUES ${values(jobs)})`,
      );
      out.addKey({ role: 'source', keyId: sourceKey.keyId, fingerprint: sourceKey.fingerprint, use: 'pseudonymize' });
      out.addAccounting({
        scope: 'persons.parquet',
        rowsIn: 5,
        rowsOut: 5,
        rowsQuarantined: 0,
        quarantinedByReason: {},
      });
      out.addAccounting({ scope: 'jobs.parquet', rowsIn: 3, rowsOut: 3, rowsQuarantined: 0, quarantinedByReason: {} });
      await out.commit();
    }
    // Link (TTP): RIDs only.
    const rids = bsns.map((b) => rid(p1(sourceKey, b)));
    {
      const out = await StageOutput.create({ stage: 'link', outDir: dirs.link, parameters: { project: PROJECT } });
      out.addStageInput(await StageInput.open(dirs.microdata));
      out.addStageInput(await StageInput.open(dirs.rotterdam));
      const clientRows = rids
        .slice(0, 4)
        .map((r, i) => [
          r,
          'rotterdam',
          `198${i}-03-01`,
          i % 2 === 0 ? 'F' : 'M',
          'Charlois',
          'single',
          options.p1InLinked === true && i === 0 ? p1(rotterdamKey, bsns[0] as CanonicalBsn) : null,
        ]);
      const extra = options.p1InLinked === true ? ', col6::VARCHAR AS source_id' : '';
      await copy(
        await out.file('clients.parquet'),
        `SELECT col0 AS rid, col1 AS municipality, CAST(col2 AS DATE) AS birth_month, col3 AS sex, col4 AS district, col5 AS household_type${extra} FROM (VALUES ${values(clientRows)})`,
      );
      const benefitRows = rids.slice(0, 4).map((r) => [r, 'rotterdam', 'bijstand', '2019-01-01', '2020-06-30', 'work']);
      await copy(
        await out.file('benefits.parquet'),
        `SELECT col0 AS rid, col1 AS municipality, col2 AS benefit_type, CAST(col3 AS DATE) AS start_date, CAST(col4 AS DATE) AS end_date, col5 AS end_reason FROM (VALUES ${values(benefitRows)})`,
      );
      const interventionRows = rids
        .slice(0, 2)
        .map((r, i) => [
          r,
          'rotterdam',
          'werkloont',
          i === 0 ? 'treatment' : 'control',
          3,
          '2019-02-01',
          null,
          i === 0 && options.linkedRemark !== undefined ? options.linkedRemark : 'geen bijzonderheden',
        ]);
      const remarks = options.linkedRemark !== undefined ? ', col7 AS remarks' : '';
      await copy(
        await out.file('interventions.parquet'),
        `SELECT col0 AS rid, col1 AS municipality, col2 AS programme, col3 AS arm, CAST(col4 AS TINYINT) AS ladder_step, CAST(col5 AS DATE) AS start_date, CAST(col6 AS DATE) AS end_date${remarks} FROM (VALUES ${values(interventionRows)})`,
      );
      await writeFile(
        await out.file('linkage-report.json'),
        `${JSON.stringify({ sources: { rotterdam: { records: 4, matchedOnBsn: 4, matchedOnFallback: 0, unmatched: 0 } } }, null, 2)}\n`,
      );
      out.addKey({ role: 'ttp', keyId: ttpKey.keyId, fingerprint: ttpKey.fingerprint, use: 'link' });
      out.addKey({ role: 'source', keyId: sourceKey.keyId, fingerprint: sourceKey.fingerprint, use: 'inherited' });
      out.addAccounting({ scope: 'clients', rowsIn: 4, rowsOut: 4, rowsQuarantined: 0, quarantinedByReason: {} });
      await out.commit();
    }
    // Metrics (secure environment): per-spell file and the aggregate table with its internal person counts.
    {
      const out = await StageOutput.create({ stage: 'metrics', outDir: dirs.metrics, parameters: {} });
      out.addStageInput(await StageInput.open(dirs.link));
      const spells = rids
        .slice(0, 4)
        .map((r) => [
          r,
          1,
          'rotterdam',
          'bijstand',
          '2019-01-01',
          '2020-06-30',
          45,
          true,
          2020,
          true,
          false,
          false,
          true,
          'permanent',
          32.0,
          'near',
          true,
        ]);
      await copy(
        await out.file('spells.parquet'),
        `SELECT col0 AS rid, col1 AS spell_no, col2 AS municipality, col3 AS benefit_type, CAST(col4 AS DATE) AS start_date, CAST(col5 AS DATE) AS end_date, col6 AS age, col7 AS outflow, col8 AS outflow_year, col9 AS to_work, col10 AS censored, col11 AS revolving, col12 AS durable, col13 AS first_contract_type, col14 AS first_hours, col15 AS first_wage_band, col16 AS first_lasted_12m FROM (VALUES ${values(spells.map((s) => s.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v))))})`,
      );
      const table = metricsTableRows().map((r) => [r.year, r.municipality, r.spells, r.persons]);
      await copy(
        await out.file('tables/outflow.parquet'),
        `SELECT col0 AS outflow_year, col1 AS municipality, CAST(col2 AS BIGINT) AS spells, CAST(col3 AS BIGINT) AS persons FROM (VALUES ${values(table)})`,
      );
      await writeFile(await out.file('tables.json'), `${JSON.stringify(catalogue(true), null, 2)}\n`);
      await out.commit();
    }
    // Release bundle.
    {
      const out = await StageOutput.create({ stage: 'release', outDir: dirs.release, parameters: {} });
      out.addStageInput(await StageInput.open(dirs.metrics));
      await writeReleaseTable(duck, (name) => out.file(name), outflowTable());
      if (options.sharedTable !== undefined) {
        await writeReleaseTable(duck, (name) => out.file(name), options.sharedTable, 'outflow_recent');
      }
      for (const [path, text] of Object.entries(options.releaseExtras ?? {}))
        await writeFile(await out.file(path), text);
      await writeFile(
        await out.file('tables.json'),
        `${JSON.stringify(catalogue(false, options.sharedTable !== undefined), null, 2)}\n`,
      );
      await writeFile(
        await out.file('report.html'),
        '<!doctype html><html><body><h1>Outflow</h1><p>Spells 2020: 29, 2021: 42.</p></body></html>\n',
      );
      await out.commit();
    }
  } finally {
    duck.close();
  }
  return { workspace, keysDir, dirs, bsns, p1s: bsns.map((b) => p1(sourceKey, b)) };
}

function catalogue(internal: boolean, shared = false): unknown {
  return {
    format: 'boldlink-tables/v1',
    tables: [
      ...(shared
        ? [
            {
              name: 'outflow_recent',
              title: 'Outflow 2021',
              description: 'Benefit spells ending in outflow in 2021.',
              dimensions: ['outflow_year', 'municipality'],
              population: 'outflows',
              measures: [{ column: 'spells', kind: 'count' }],
            },
          ]
        : []),
      {
        name: 'outflow',
        title: 'Outflow by year and municipality',
        description: 'Benefit spells ending in outflow.',
        dimensions: ['outflow_year', 'municipality'],
        population: 'outflows',
        measures: [{ column: 'spells', kind: 'count' }],
        ...(internal ? { internal: ['persons'] } : {}),
      },
    ],
  };
}

/** Write tables/<name>.{parquet,csv,json}; returns the row count. */
export async function writeReleaseTable(
  duck: Duck,
  file: (name: string) => Promise<string>,
  cells: readonly ReleasedCell[],
  name = 'outflow',
): Promise<number> {
  const rows = cells
    .map(
      (c) =>
        `(${sqlString(c.year)}, ${sqlString(c.municipality)}, ${c.spells === null ? 'NULL' : c.spells}, ${sqlString(c.status)})`,
    )
    .join(', ');
  const select = `SELECT col0 AS outflow_year, col1 AS municipality, CAST(col2 AS BIGINT) AS spells, col3 AS spells_status FROM (VALUES ${rows})`;
  await duck.run(`COPY (${select}) TO ${sqlString(await file(`tables/${name}.parquet`))} (FORMAT parquet)`);
  await duck.run(`COPY (${select}) TO ${sqlString(await file(`tables/${name}.csv`))} (FORMAT csv, HEADER true)`);
  await duck.run(`COPY (${select}) TO ${sqlString(await file(`tables/${name}.json`))} (FORMAT json, ARRAY true)`);
  return cells.length;
}

/**
 * Someone edits a released table after the release ran and "fixes" the
 * manifest so that checksums match again: rewrite the table files and put
 * their new sha256 and size in the manifest.
 */
export async function tamperReleaseTable(releaseDir: string, cells: readonly ReleasedCell[]): Promise<void> {
  const duck = await Duck.open({ threads: 1 });
  try {
    await writeReleaseTable(duck, async (name) => join(releaseDir, name), cells);
  } finally {
    duck.close();
  }
  const manifestPath = join(releaseDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
    outputs: { path: string; sha256: string; bytes: number }[];
  };
  for (const output of manifest.outputs) {
    const digest = await digestFile(join(releaseDir, output.path));
    output.sha256 = digest.sha256;
    output.bytes = digest.bytes;
  }
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}

export async function loosenPermissions(file: string): Promise<void> {
  await chmod(file, 0o644);
}
