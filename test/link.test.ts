import { appendFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedKey } from '../keys/keyFile.js';
import { projectKey, researchPseudonym } from '../keys/pseudonyms.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { KeyError } from '../pipeline/core/errors.js';
import { StageInput } from '../pipeline/core/stageInput.js';
import { runLink, type LinkResult } from '../pipeline/link/link.js';
import {
  birthMonth,
  f1Of,
  identified,
  keyFileWithBytes,
  newKey,
  p1Of,
  writePseudonymized,
  type Person,
  type Row,
} from './linkFixtures.js';

/*
 * A hand-made world, worked out by hand:
 *
 * holder (cbs): persons A, B, C1, C2, D, E, G
 *   - C1 and C2 share birth date, sex, postcode and house number (one F1);
 *   - G has no valid BSN at the holder either (p1 NULL, F1 only);
 *   - jobs: A 2, B 1, C1 1, C2 1, D 1, E 3, G 1.
 * rotterdam: clients A (BSN), B (fallback), C (fallback, ambiguous), X (BSN, unknown to the holder),
 *            D (BSN), G (fallback, the holder's G has no BSN)
 *            benefits A ×2, B, C, X, D; interventions A.
 * utrecht:   clients D, benefits D (D moved from Rotterdam); no interventions file.
 */
const A: Person = { bsn: '111222333', birthDate: '1980-03-14', sex: 'F', postcode: '3011AA', houseNumber: '1' };
const B: Person = { bsn: '123456782', birthDate: '1975-07-02', sex: 'M', postcode: '3012BB', houseNumber: '22' };
const C1: Person = { bsn: '100000009', birthDate: '1990-01-01', sex: 'M', postcode: '3013CC', houseNumber: '5' };
const C2: Person = { ...C1, bsn: '100000010' };
const D: Person = { bsn: '100000022', birthDate: '1968-11-30', sex: 'F', postcode: '3014DD', houseNumber: '7a' };
const E: Person = { bsn: '100000034', birthDate: '1999-05-05', sex: 'M', postcode: '1011EE', houseNumber: '9' };
const G: Person = { bsn: '100000046', birthDate: '1985-02-02', sex: 'F', postcode: '3015GG', houseNumber: '3' };
const X: Person = { bsn: '100000058', birthDate: '1970-01-01', sex: 'M', postcode: '3016XX', houseNumber: '4' };

let root: string;
let sourceKey: LoadedKey;
let otherSourceKey: LoadedKey;
let ttpKey: LoadedKey;
let holderDir: string;
let rotterdamDir: string;
let utrechtDir: string;
let linked: LinkResult;

function holderPerson(p: Person, code: string, withBsn = true): Row {
  return {
    p1: withBsn ? p1Of(sourceKey, p) : null,
    f1: f1Of(sourceKey, p),
    id_status: withBsn ? 'bsn' : 'fallback',
    birth_month: birthMonth(p),
    sex: p.sex,
    municipality_code: code,
  };
}

function job(p: Person | null, employer: string, start: string, hours: number, withBsn = true): Row {
  return {
    p1: p !== null && withBsn ? p1Of(sourceKey, p) : null,
    f1: p !== null && !withBsn ? f1Of(sourceKey, p) : null,
    id_status: withBsn ? 'bsn' : 'fallback',
    employer_id: employer,
    start_date: start,
    end_date: null,
    contract_type: 'temporary',
    hours_per_week: hours,
    hourly_wage: 14.5,
  };
}

function client(key: LoadedKey, p: Person, how: 'bsn' | 'fallback', district: string): Row {
  return { ...identified(key, p, how), birth_month: birthMonth(p), sex: p.sex, district, household_type: 'single' };
}

function benefit(key: LoadedKey, p: Person, how: 'bsn' | 'fallback', start: string, end: string | null): Row {
  return {
    ...identified(key, p, how),
    benefit_type: 'bijstand',
    start_date: start,
    end_date: end,
    end_reason: end === null ? null : 'work',
  };
}

async function writeUtrecht(dir: string, key: LoadedKey): Promise<string> {
  return writePseudonymized(dir, 'utrecht', key, {
    clients: [client(key, D, 'bsn', 'Overvecht')],
    benefits: [benefit(key, D, 'bsn', '2021-06-01', null)],
  });
}

function ridOf(project: string, p: Person): string {
  return researchPseudonym(projectKey(ttpKey.bytes(), project), p1Of(sourceKey, p));
}

async function rows(path: string, sql = 'SELECT * FROM t'): Promise<Record<string, unknown>[]> {
  const duck = await Duck.open({ threads: 1 });
  try {
    await duck.run(`CREATE VIEW t AS SELECT * FROM read_parquet(${sqlString(path)})`);
    return await duck.jsonRows(sql);
  } finally {
    duck.close();
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-link-'));
  sourceKey = await newKey(root, 'ksrc', 'source');
  otherSourceKey = await newKey(root, 'ksrc-other', 'source');
  ttpKey = await newKey(root, 'kttp', 'ttp');
  holderDir = await writePseudonymized(
    join(root, 'pseudo', 'cbs'),
    'cbs',
    sourceKey,
    {
      persons: [
        holderPerson(A, 'GM0599'),
        holderPerson(B, 'GM0599'),
        holderPerson(C1, 'GM0599'),
        holderPerson(C2, 'GM0599'),
        holderPerson(D, 'GM0344'),
        holderPerson(E, 'GM0363'),
        holderPerson(G, 'GM0599', false),
      ],
      jobs: [
        job(A, 'E1', '2022-01-01', 20),
        job(A, 'E2', '2023-02-01', 36),
        job(B, 'E3', '2021-05-01', 12),
        job(C1, 'E4', '2020-01-01', 40),
        job(C2, 'E5', '2020-01-01', 40),
        job(D, 'E6', '2022-09-01', 32),
        job(E, 'E7', '2019-01-01', 40),
        job(E, 'E8', '2020-01-01', 40),
        job(E, 'E9', '2021-01-01', 40),
        job(G, 'E10', '2021-01-01', 24, false),
      ],
    },
    { persons: { rows: 7, bsn: 6, fallback: 1, invalid_bsn: 1, duplicates: 0 } },
  );
  rotterdamDir = await writePseudonymized(
    join(root, 'pseudo', 'rotterdam'),
    'rotterdam',
    sourceKey,
    {
      clients: [
        client(sourceKey, A, 'bsn', 'Feijenoord'),
        client(sourceKey, B, 'fallback', 'Charlois'),
        client(sourceKey, C1, 'fallback', 'Delfshaven'),
        client(sourceKey, X, 'bsn', 'Noord'),
        client(sourceKey, D, 'bsn', 'Kralingen'),
        client(sourceKey, G, 'fallback', 'Centrum'),
      ],
      benefits: [
        benefit(sourceKey, A, 'bsn', '2020-01-01', '2020-12-31'),
        benefit(sourceKey, A, 'bsn', '2021-03-01', null),
        benefit(sourceKey, B, 'fallback', '2019-04-01', '2021-04-30'),
        benefit(sourceKey, C1, 'fallback', '2019-01-01', null),
        benefit(sourceKey, X, 'bsn', '2018-01-01', null),
        benefit(sourceKey, D, 'bsn', '2019-01-01', '2021-05-31'),
      ],
      interventions: [
        {
          ...identified(sourceKey, A, 'bsn'),
          programme: 'werkloont',
          arm: 'treatment',
          ladder_step: 3,
          start_date: '2020-02-01',
          end_date: '2020-08-01',
        },
      ],
    },
    { clients: { rows: 6, bsn: 3, bsn_repaired: 1, fallback: 3, invalid_bsn: 2, missing_bsn: 1, duplicates: 1 } },
  );
  utrechtDir = await writeUtrecht(join(root, 'pseudo', 'utrecht'), sourceKey);
  linked = await runLink({
    keyFile: ttpKey.file,
    project: 'alpha',
    inputs: [rotterdamDir, holderDir, utrechtDir],
    out: join(root, 'linked-alpha'),
  });
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('link: matching municipal records to the holder', { timeout: 120_000 }, () => {
  it('links on P1, on a unique F1, and leaves an ambiguous F1 unlinked', async () => {
    const clients = await rows(
      join(linked.outDir, 'clients.parquet'),
      'SELECT rid, municipality, district FROM t ORDER BY municipality, district',
    );
    expect(clients).toEqual([
      { rid: ridOf('alpha', B), municipality: 'rotterdam', district: 'Charlois' },
      { rid: ridOf('alpha', A), municipality: 'rotterdam', district: 'Feijenoord' },
      { rid: ridOf('alpha', D), municipality: 'rotterdam', district: 'Kralingen' },
      { rid: ridOf('alpha', D), municipality: 'utrecht', district: 'Overvecht' },
    ]);
    const rotterdam = linked.report.sources.find((s) => s.source === 'rotterdam');
    const rotterdamClients = rotterdam?.files.find((f) => f.file === 'clients');
    expect(rotterdamClients).toMatchObject({
      records: 6,
      unique: 3,
      matchedOnBsn: 2,
      matchedOnFallback: 1,
      multiple: 1,
      none: 2,
      unlinkedByReason: { no_match: 1, ambiguous_fallback: 1, person_without_bsn: 1, no_identifier: 0 },
      linkedPersons: 3,
      fromSource: { duplicates: 1, invalidBsn: 2, bsnRepaired: 1, missingBsn: 1, rows: 6, fallback: 3 },
    });
    expect(rotterdam?.files.find((f) => f.file === 'benefits')).toMatchObject({
      records: 6,
      matchedOnBsn: 3,
      matchedOnFallback: 1,
      multiple: 1,
      none: 1,
    });
    expect(rotterdam?.files.map((f) => f.file)).toEqual(['clients', 'benefits', 'interventions']);
    expect(linked.report.sources.find((s) => s.source === 'utrecht')?.files.map((f) => f.file)).toEqual([
      'clients',
      'benefits',
    ]);
  });

  it('gives a person known to two municipalities one RID', async () => {
    const benefits = await rows(
      join(linked.outDir, 'benefits.parquet'),
      `SELECT municipality, start_date FROM t WHERE rid = '${ridOf('alpha', D)}' ORDER BY start_date`,
    );
    expect(benefits).toEqual([
      { municipality: 'rotterdam', start_date: '2019-01-01' },
      { municipality: 'utrecht', start_date: '2021-06-01' },
    ]);
    expect(linked.report.persons).toEqual({ linked: 3, inSeveralMunicipalities: 1 });
  });

  it('reports the share of benefit records with a linked person (5 of 7)', () => {
    expect(linked.report.benefitRecordsWithLinkedPerson).toMatchObject({ records: 7, linked: 5, share: 0.714286 });
    expect(linked.report.benefitRecordsWithLinkedPerson.bySource).toEqual([
      { source: 'rotterdam', records: 6, linked: 4, share: 0.666667 },
      { source: 'utrecht', records: 1, linked: 1, share: 1 },
    ]);
  });
});

describe('link: what leaves the TTP', { timeout: 120_000 }, () => {
  it('keeps persons and jobs only of persons in municipal data, with the contract columns', async () => {
    const persons = await rows(join(linked.outDir, 'persons.parquet'));
    expect(persons.map((p) => p.rid).sort()).toEqual([ridOf('alpha', A), ridOf('alpha', B), ridOf('alpha', D)].sort());
    expect(Object.keys(persons[0] ?? {})).toEqual(['rid', 'birth_month', 'sex', 'municipality_code']);
    const jobs = await rows(join(linked.outDir, 'jobs.parquet'), 'SELECT employer_id FROM t ORDER BY employer_id');
    expect(jobs.map((j) => j.employer_id)).toEqual(['E1', 'E2', 'E3', 'E6']);
    const jobColumns = await rows(join(linked.outDir, 'jobs.parquet'), 'SELECT * FROM t LIMIT 1');
    expect(Object.keys(jobColumns[0] ?? {})).toEqual([
      'rid',
      'employer_id',
      'start_date',
      'end_date',
      'contract_type',
      'hours_per_week',
      'hourly_wage',
    ]);
    expect(linked.report.holder).toMatchObject({
      persons: { records: 7, withoutBsn: 1, kept: 3 },
      jobs: { records: 10, withoutBsn: 1, kept: 4 },
    });
  });

  it('contains no P1 or F1 value in any column of any file, nor in the report or manifest', async () => {
    const secrets = new Set<string>();
    for (const p of [A, B, C1, C2, D, E, G, X]) {
      secrets.add(p1Of(sourceKey, p));
      secrets.add(f1Of(sourceKey, p));
    }
    const files = await readdir(linked.outDir);
    expect(files.sort()).toEqual([
      'benefits.parquet',
      'clients.parquet',
      'interventions.parquet',
      'jobs.parquet',
      'linkage-report.json',
      'manifest.json',
      'persons.parquet',
    ]);
    for (const file of files.filter((f) => f.endsWith('.parquet'))) {
      const values = await rows(
        join(linked.outDir, file),
        'SELECT DISTINCT CAST(v AS VARCHAR) AS v FROM (UNPIVOT (SELECT COLUMNS(*)::VARCHAR FROM t) ON COLUMNS(*) INTO NAME c VALUE v)',
      );
      expect(values.length).toBeGreaterThan(0);
      for (const { v } of values) expect(secrets.has(String(v)), `${file} holds a source pseudonym`).toBe(false);
      const columns = Object.keys((await rows(join(linked.outDir, file), 'SELECT * FROM t LIMIT 1'))[0] ?? { rid: 1 });
      expect(columns).not.toContain('p1');
      expect(columns).not.toContain('f1');
    }
    for (const file of ['linkage-report.json', 'manifest.json']) {
      const text = await readFile(join(linked.outDir, file), 'utf8');
      for (const secret of secrets) expect(text.includes(secret), `${file} holds a source pseudonym`).toBe(false);
      expect(text).not.toMatch(/(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/);
    }
  });

  it('records keys, inputs and row accounting in the manifest', async () => {
    const output = await StageInput.open(linked.outDir, { stage: 'link' });
    const m = output.manifest;
    expect(m.parameters).toEqual({ project: 'alpha', holder: 'cbs', municipalities: ['rotterdam', 'utrecht'] });
    expect(m.keys).toEqual([
      { role: 'ttp', keyId: ttpKey.keyId, fingerprint: ttpKey.fingerprint, use: 'link' },
      { role: 'source', keyId: sourceKey.keyId, fingerprint: sourceKey.fingerprint, use: 'inherited' },
    ]);
    expect(m.inputs.map((i) => i.stage)).toEqual(['pseudonymize', 'pseudonymize', 'pseudonymize']);
    const scope = (s: string) => m.accounting.find((a) => a.scope === s);
    expect(scope('rotterdam/clients.parquet')).toEqual({
      scope: 'rotterdam/clients.parquet',
      rowsIn: 6,
      rowsOut: 3,
      rowsQuarantined: 3,
      quarantinedByReason: { no_match: 1, ambiguous_fallback: 1, person_without_bsn: 1, no_identifier: 0 },
    });
    expect(scope('cbs/persons.parquet')).toEqual({
      scope: 'cbs/persons.parquet',
      rowsIn: 7,
      rowsOut: 3,
      rowsQuarantined: 4,
      quarantinedByReason: { not_in_municipal_data: 3, without_bsn: 1, duplicate_person: 0 },
    });
    expect(scope('cbs/jobs.parquet')).toEqual({
      scope: 'cbs/jobs.parquet',
      rowsIn: 10,
      rowsOut: 4,
      rowsQuarantined: 6,
      quarantinedByReason: { not_in_municipal_data: 5, without_bsn: 1 },
    });
    expect(m.outputs.find((o) => o.path === 'benefits.parquet')?.rows).toBe(5);
    expect(m.summary.linkage).toEqual(JSON.parse(await readFile(join(linked.outDir, 'linkage-report.json'), 'utf8')));
  });
});

describe('link: project pseudonyms', { timeout: 120_000 }, () => {
  it('gives the same person different RIDs under two project ids and byte-identical output under the same id', async () => {
    const beta = await runLink({
      keyFile: ttpKey.file,
      project: 'beta',
      inputs: [holderDir, rotterdamDir, utrechtDir],
      out: join(root, 'linked-beta'),
    });
    const again = await runLink({
      keyFile: ttpKey.file,
      project: 'alpha',
      inputs: [utrechtDir, holderDir, rotterdamDir],
      out: join(root, 'linked-alpha-again'),
    });
    const ridsOf = async (dir: string) =>
      (await rows(join(dir, 'persons.parquet'), 'SELECT rid FROM t ORDER BY rid')).map((r) => String(r.rid));
    const alphaRids = await ridsOf(linked.outDir);
    const betaRids = await ridsOf(beta.outDir);
    expect(betaRids).toHaveLength(3);
    expect(betaRids.filter((r) => alphaRids.includes(r))).toEqual([]);
    expect(betaRids).toContain(ridOf('beta', A));
    const alphaManifest = (await StageInput.open(linked.outDir)).manifest;
    const againManifest = (await StageInput.open(again.outDir)).manifest;
    for (const file of alphaManifest.outputs) {
      expect(againManifest.outputs.find((o) => o.path === file.path)?.sha256, file.path).toBe(file.sha256);
    }
  });
});

describe('link: refusals (nothing written)', { timeout: 120_000 }, () => {
  async function expectRefused(out: string, run: () => Promise<unknown>, code: string): Promise<void> {
    await expect(run()).rejects.toMatchObject({ code });
    const siblings = await readdir(join(root));
    expect(siblings.filter((s) => s.includes(out))).toEqual([]);
  }

  it('refuses inputs pseudonymized with different source keys', async () => {
    const mixed = await writeUtrecht(join(root, 'pseudo', 'utrecht-other-key'), otherSourceKey);
    await expectRefused(
      'out-mixed',
      () =>
        runLink({
          keyFile: ttpKey.file,
          project: 'alpha',
          inputs: [holderDir, rotterdamDir, mixed],
          out: join(root, 'out-mixed'),
        }),
      'KEY_MISMATCH',
    );
    await expect(
      runLink({
        keyFile: ttpKey.file,
        project: 'alpha',
        inputs: [holderDir, rotterdamDir, mixed],
        out: join(root, 'out-mixed'),
      }),
    ).rejects.toThrow(new RegExp(`${sourceKey.fingerprint}.*${otherSourceKey.fingerprint}`));
  });

  it('refuses a key file whose role is not ttp', async () => {
    await expectRefused(
      'out-role',
      () =>
        runLink({
          keyFile: sourceKey.file,
          project: 'alpha',
          inputs: [holderDir, rotterdamDir],
          out: join(root, 'out-role'),
        }),
      'KEY_ROLE',
    );
  });

  it("refuses a TTP key that is the sources' key", async () => {
    const reused = await keyFileWithBytes(root, 'ttp-reused', 'ttp', sourceKey.bytes());
    await expect(
      runLink({ keyFile: reused, project: 'alpha', inputs: [holderDir, rotterdamDir], out: join(root, 'out-reused') }),
    ).rejects.toBeInstanceOf(KeyError);
    await expectRefused(
      'out-reused',
      () =>
        runLink({
          keyFile: reused,
          project: 'alpha',
          inputs: [holderDir, rotterdamDir],
          out: join(root, 'out-reused'),
        }),
      'KEY_REUSED',
    );
  });

  it('refuses a tampered input', async () => {
    const tampered = await writeUtrecht(join(root, 'pseudo', 'utrecht-tampered'), sourceKey);
    await appendFile(join(tampered, 'benefits.parquet'), 'x');
    await expectRefused(
      'out-tampered',
      () =>
        runLink({
          keyFile: ttpKey.file,
          project: 'alpha',
          inputs: [holderDir, rotterdamDir, tampered],
          out: join(root, 'out-tampered'),
        }),
      'MANIFEST_MISMATCH',
    );
  });

  it('refuses two holder outputs, the same input twice, and inputs without a municipality', async () => {
    const secondHolder = await writePseudonymized(join(root, 'pseudo', 'cbs-again'), 'cbs_again', sourceKey, {
      persons: [holderPerson(A, 'GM0599')],
      jobs: [],
    });
    await expectRefused(
      'out-holders',
      () =>
        runLink({
          keyFile: ttpKey.file,
          project: 'alpha',
          inputs: [holderDir, rotterdamDir, secondHolder],
          out: join(root, 'out-holders'),
        }),
      'LINK_INPUT_ROLE',
    );
    await expectRefused(
      'out-twice',
      () =>
        runLink({
          keyFile: ttpKey.file,
          project: 'alpha',
          inputs: [holderDir, rotterdamDir, `${rotterdamDir}/`],
          out: join(root, 'out-twice'),
        }),
      'USAGE',
    );
    await expectRefused(
      'out-nomun',
      () => runLink({ keyFile: ttpKey.file, project: 'alpha', inputs: [holderDir], out: join(root, 'out-nomun') }),
      'USAGE',
    );
  });
});

describe('link: edge cases', { timeout: 120_000 }, () => {
  it('writes empty files and a zero report when no record links', async () => {
    const nobody = await writePseudonymized(join(root, 'pseudo', 'den_haag-nobody'), 'den_haag', sourceKey, {
      clients: [client(sourceKey, X, 'bsn', 'Escamp')],
      benefits: [benefit(sourceKey, X, 'bsn', '2020-01-01', null)],
    });
    const result = await runLink({
      keyFile: ttpKey.file,
      project: 'alpha',
      inputs: [holderDir, nobody],
      out: join(root, 'linked-nobody'),
    });
    expect(result.report.persons).toEqual({ linked: 0, inSeveralMunicipalities: 0 });
    expect(result.report.benefitRecordsWithLinkedPerson).toMatchObject({ records: 1, linked: 0, share: 0 });
    expect(result.report.sources[0]?.files[0]).toMatchObject({ records: 1, unique: 0, none: 1 });
    const manifest = (await StageInput.open(result.outDir)).manifest;
    for (const file of [
      'clients.parquet',
      'benefits.parquet',
      'interventions.parquet',
      'persons.parquet',
      'jobs.parquet',
    ]) {
      expect(manifest.outputs.find((o) => o.path === file)?.rows, file).toBe(0);
    }
  });

  it('keeps one row for a person the holder delivers twice, and counts the duplicates', async () => {
    const twice = await writePseudonymized(join(root, 'pseudo', 'cbs-twice'), 'cbs', sourceKey, {
      persons: [
        holderPerson(A, 'GM0599'),
        holderPerson(A, 'GM0599'),
        holderPerson(B, 'GM0599'),
        holderPerson(B, 'GM0599'),
      ],
      jobs: [job(A, 'E1', '2022-01-01', 20)],
    });
    const result = await runLink({
      keyFile: ttpKey.file,
      project: 'alpha',
      inputs: [twice, utrechtDir, rotterdamDir],
      out: join(root, 'linked-twice'),
    });
    const manifest = (await StageInput.open(result.outDir)).manifest;
    expect(manifest.accounting.find((a) => a.scope === 'cbs/persons.parquet')).toMatchObject({
      rowsIn: 4,
      rowsOut: 2,
      quarantinedByReason: { duplicate_person: 2, not_in_municipal_data: 0, without_bsn: 0 },
    });
    expect(
      await rows(
        join(result.outDir, 'persons.parquet'),
        'SELECT count(*)::INTEGER AS n, count(DISTINCT rid)::INTEGER AS d FROM t',
      ),
    ).toEqual([{ n: 2, d: 2 }]);
    // A links once on BSN; B's fallback is still unique, since two rows of one person are one candidate.
    expect(result.report.sources.find((s) => s.source === 'rotterdam')?.files[0]).toMatchObject({
      matchedOnBsn: 1,
      matchedOnFallback: 1,
    });
  });
});
