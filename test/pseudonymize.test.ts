import { createHmac } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFile } from '../keys/keyFile.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { looksLikeBsn } from '../schemas/bsn.js';
import { manifest as manifestSchema, type Manifest } from '../schemas/manifest.js';
import { runBoldlink } from './support/cli.js';

/**
 * A gemeente's three exports (Windows-1252, ';', decimal comma, DD-MM-YYYY,
 * Dutch headers, CRLF) and the holder's two Parquet files, each with a few
 * rows whose fate is worked out by hand below.
 */
const CLIENTEN = [
  'BSN;Naam;Geboortedatum;Geslacht;Postcode;Huisnummer;Wijk;Huishoudtype',
  '123456782;Jan Jansen;01-02-1980;M;3011 AB;12;Centrum;Alleenstaand', // 1 bsn
  '12345672;Piet Zoë;15-06-1990;V;3012CD;5a;Charlois €;Eenoudergezin', // 2 lost leading zero → bsn_repaired
  '111252333;Kees;31-12-1985;M;3013 EF;7;Zuid;Overig', // 3 fails the elfproef → F1 from the fallback fields
  '249566758;Anna;32-01-1980;V;3014 GH;1;Centrum;Alleenstaand', // 4 date.format
  '123456782;Jan Jansen;01-02-1980;M;3011 AB;12;Centrum;Alleenstaand', // 5 duplicate of 1
  ';Zonder;01-01-1970;V;3015 IJ;3;Oost;Paar met kinderen;extra', // 6 row.columns
  '111222333;Els;01-01-1970;X;3015 IJ;3;Oost;Paar met kinderen', // 7 code.unknown (sex)
];
const UITKERINGEN = [
  'BSN;Regeling;Begindatum;Einddatum;Reden beëindiging',
  '123456782;Algemene bijstand;01-01-2019;31-03-2020;Werk', // 1 bsn
  '111252333;IOAW;01-01-2019;;', // 2 F1 of clients row 3 (same raw BSN)
  '999999999;Bbz;01-01-2019;;', // 3 bsn.elfproef, no clients row to fall back on
  '012345672;Algemene bijstand;01-05-2020;01-04-2020;Overig', // 4 date.order
  '123456782;Bijzondere bijstand;01-06-2021;;', // 5 code.unknown (benefit_type)
];
const TRAJECTEN = [
  'BSN;Programma;Groep;Participatieladder;Begindatum;Einddatum',
  '123456782;WerkLoont;Experiment;3;01-03-2019;', // 1 ok
  '12345672;WerkLoont;Controle;7;01-03-2019;', // 2 number.range (ladder 1–6)
  '12345672;WerkLoont;Controle;;01-03-2019;31-12-2019', // 3 ok, ladder step empty
];

const P = (key: Buffer, message: string) => createHmac('sha256', key).update(message).digest('hex').slice(0, 32);

describe('boldlink pseudonymize', { timeout: 120_000 }, () => {
  let dir: string;
  let key: Buffer;
  let keyFile: string;
  let inputs: string[];
  let first: { code: number | null; stderr: string; stdout: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'boldlink-pseudonymize-'));
    keyFile = join(dir, 'source.key.json');
    await createKeyFile(keyFile, 'source', 'rotterdam-test');
    key = Buffer.from((JSON.parse(await readFile(keyFile, 'utf8')) as { key: string }).key, 'base64');
    const write1252 = (name: string, lines: string[]) =>
      writeFile(join(dir, name), iconv.encode(`${lines.join('\r\n')}\r\n`, 'windows-1252'));
    await write1252('clienten.csv', CLIENTEN);
    await write1252('uitkeringen.csv', UITKERINGEN);
    await write1252('trajecten.csv', TRAJECTEN);
    const duck = await Duck.open({ threads: 1 });
    await duck.run(`COPY (SELECT * FROM (VALUES
        ('123456782', DATE '1980-02-01', 'M', 'GM0599', '3011 AB', '12'),
        ('111252333', DATE '1985-12-31', 'M', 'GM0599', '3013EF', '7'),
        ('012345672', DATE '1990-06-15', 'F', 'GM0363', '3012 CD', '5a'))
      AS t(bsn, birth_date, sex, municipality_code, postcode, house_number)) TO ${sqlString(join(dir, 'persons.parquet'))} (FORMAT parquet)`);
    await duck.run(`COPY (SELECT * FROM (VALUES
        ('123456782', 'E1', DATE '2020-04-01', NULL::DATE, 'permanent', 36.0, 14.5),
        ('12345672', 'E2', DATE '2019-01-01', DATE '2019-06-30', 'agency', 20.0, 12.25),
        ('111252333', 'E3', DATE '2019-01-01', NULL, 'temporary', 10.0, 13.0),
        ('123456782', 'E4', DATE '2021-01-01', DATE '2020-01-01', 'temporary', 10.0, 13.0),
        ('123456782', 'E5', DATE '2021-01-01', NULL, 'zzp', 10.0, 13.0),
        ('123456782', 'E1', DATE '2020-04-01', NULL::DATE, 'permanent', 36.0, 14.5))
      AS t(bsn, employer_id, start_date, end_date, contract_type, hours_per_week, hourly_wage)) TO ${sqlString(join(dir, 'jobs.parquet'))} (FORMAT parquet)`);
    duck.close();
    inputs = ['clienten.csv', 'uitkeringen.csv', 'trajecten.csv', 'persons.parquet', 'jobs.parquet'].map((f) =>
      join(dir, f),
    );
    first = await runBoldlink([
      'pseudonymize',
      '--key',
      keyFile,
      '--source',
      'rotterdam',
      '--mapping',
      projectPath('examples/mappings/gemeente.json'),
      '--input',
      ...inputs,
      '--out',
      join(dir, 'out'),
    ]);
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function table(outDir: string, name: string): Promise<Record<string, unknown>[]> {
    const duck = await Duck.open({ threads: 1 });
    try {
      return await duck.jsonRows(`SELECT * FROM read_parquet(${sqlString(join(outDir, `${name}.parquet`))})`);
    } finally {
      duck.close();
    }
  }
  const readManifest = async (outDir: string): Promise<Manifest> =>
    manifestSchema.parse(JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')));

  it('succeeds and writes one Parquet file per table found', async () => {
    expect(first.stderr).not.toContain('error');
    expect(first.code).toBe(0);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual([
      'benefits.parquet',
      'clients.parquet',
      'interventions.parquet',
      'jobs.parquet',
      'manifest.json',
      'persons.parquet',
    ]);
  });

  it('clients: P1 as node:crypto computes it, the repaired leading zero, F1 for the invalid BSN, birth month, codes mapped', async () => {
    expect(await table(join(dir, 'out'), 'clients')).toEqual([
      {
        p1: P(key, 'bsn:123456782'),
        f1: null,
        id_status: 'bsn',
        birth_month: '1980-02-01',
        sex: 'M',
        district: 'Centrum',
        household_type: 'single',
      },
      {
        p1: P(key, 'bsn:012345672'),
        f1: null,
        id_status: 'bsn_repaired',
        birth_month: '1990-06-01',
        sex: 'F',
        district: 'Charlois €',
        household_type: 'single_parent',
      },
      {
        p1: null,
        f1: P(key, 'fallback:1985-12-31|M|3013EF|7'),
        id_status: 'fallback',
        birth_month: '1985-12-01',
        sex: 'M',
        district: 'Zuid',
        household_type: 'other',
      },
    ]);
  });

  it('benefits and interventions: an invalid BSN takes F1 from the clients row with the same raw BSN', async () => {
    expect(await table(join(dir, 'out'), 'benefits')).toEqual([
      {
        p1: P(key, 'bsn:123456782'),
        f1: null,
        id_status: 'bsn',
        benefit_type: 'bijstand',
        start_date: '2019-01-01',
        end_date: '2020-03-31',
        end_reason: 'work',
      },
      {
        p1: null,
        f1: P(key, 'fallback:1985-12-31|M|3013EF|7'),
        id_status: 'fallback',
        benefit_type: 'ioaw',
        start_date: '2019-01-01',
        end_date: null,
        end_reason: null,
      },
    ]);
    expect(await table(join(dir, 'out'), 'interventions')).toEqual([
      {
        p1: P(key, 'bsn:123456782'),
        f1: null,
        id_status: 'bsn',
        programme: 'werkloont',
        arm: 'treatment',
        ladder_step: 3,
        start_date: '2019-03-01',
        end_date: null,
      },
      {
        p1: P(key, 'bsn:012345672'),
        f1: null,
        id_status: 'bsn_repaired',
        programme: 'werkloont',
        arm: 'control',
        ladder_step: null,
        start_date: '2019-03-01',
        end_date: '2019-12-31',
      },
    ]);
  });

  it("the holder's persons carry F1 on every row (so the TTP can match municipal fallback rows); jobs keep only what the analysis needs", async () => {
    expect(await table(join(dir, 'out'), 'persons')).toEqual([
      {
        p1: P(key, 'bsn:123456782'),
        f1: P(key, 'fallback:1980-02-01|M|3011AB|12'),
        id_status: 'bsn',
        birth_month: '1980-02-01',
        sex: 'M',
        municipality_code: 'GM0599',
      },
      {
        p1: null,
        f1: P(key, 'fallback:1985-12-31|M|3013EF|7'),
        id_status: 'fallback',
        birth_month: '1985-12-01',
        sex: 'M',
        municipality_code: 'GM0599',
      },
      {
        p1: P(key, 'bsn:012345672'),
        f1: P(key, 'fallback:1990-06-15|F|3012CD|5a'),
        id_status: 'bsn',
        birth_month: '1990-06-01',
        sex: 'F',
        municipality_code: 'GM0363',
      },
    ]);
    expect(await table(join(dir, 'out'), 'jobs')).toEqual([
      {
        p1: P(key, 'bsn:123456782'),
        f1: null,
        id_status: 'bsn',
        employer_id: 'E1',
        start_date: '2020-04-01',
        end_date: null,
        contract_type: 'permanent',
        hours_per_week: 36,
        hourly_wage: 14.5,
      },
      {
        p1: P(key, 'bsn:012345672'),
        f1: null,
        id_status: 'bsn_repaired',
        employer_id: 'E2',
        start_date: '2019-01-01',
        end_date: '2019-06-30',
        contract_type: 'agency',
        hours_per_week: 20,
        hourly_wage: 12.25,
      },
    ]);
  });

  it('bad rows go to a quarantine beside the output (mode 0600) with file, row, column and rule', async () => {
    const file = join(dir, 'out.quarantine', 'quarantine.csv');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe('file,row,column,rule,message');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
      'clienten.csv,4,birth_date,date.format',
      'clienten.csv,5,,duplicate_row',
      'clienten.csv,6,,row.columns',
      'clienten.csv,7,sex,code.unknown',
      'uitkeringen.csv,3,bsn,bsn.elfproef',
      'uitkeringen.csv,4,end_date,date.order',
      'uitkeringen.csv,5,benefit_type,code.unknown',
      'trajecten.csv,2,ladder_step,number.range',
      'jobs.parquet,3,bsn,bsn.elfproef',
      'jobs.parquet,4,end_date,date.order',
      'jobs.parquet,5,contract_type,code.unknown',
      'jobs.parquet,6,,duplicate_row',
    ]);
  });

  it('the manifest accounts for every row per input file, by reason, and records the key fingerprint and role', async () => {
    const m = await readManifest(join(dir, 'out'));
    const byScope = Object.fromEntries(m.accounting.map((a) => [a.scope, a]));
    expect(byScope['clienten.csv']).toEqual({
      scope: 'clienten.csv',
      rowsIn: 7,
      rowsOut: 3,
      rowsQuarantined: 4,
      quarantinedByReason: { 'date.format': 1, duplicate_row: 1, 'row.columns': 1, 'code.unknown': 1 },
    });
    expect(byScope['uitkeringen.csv']).toMatchObject({ rowsIn: 5, rowsOut: 2, rowsQuarantined: 3 });
    expect(byScope['trajecten.csv']).toMatchObject({ rowsIn: 3, rowsOut: 2, rowsQuarantined: 1 });
    expect(byScope['persons.parquet']).toMatchObject({ rowsIn: 3, rowsOut: 3, rowsQuarantined: 0 });
    expect(byScope['jobs.parquet']).toMatchObject({
      rowsIn: 6,
      rowsOut: 2,
      rowsQuarantined: 4,
      quarantinedByReason: { 'bsn.elfproef': 1, 'date.order': 1, 'code.unknown': 1, duplicate_row: 1 },
    });
    const fingerprint = (await runBoldlink(['keys', 'fingerprint', keyFile])).stdout.trim();
    expect(m.keys).toEqual([{ role: 'source', keyId: 'rotterdam-test', fingerprint, use: 'pseudonymize' }]);
    expect(m.parameters.source).toBe('rotterdam');
    expect((m.summary.tables as Record<string, unknown>).clients).toEqual({
      rows: 3,
      bsn: 1,
      bsn_repaired: 1,
      fallback: 1,
      invalid_bsn: 1,
      missing_bsn: 0,
      duplicates: 1,
    });
    expect((m.summary.tables as Record<string, unknown>).jobs).toEqual({
      rows: 2,
      bsn: 1,
      bsn_repaired: 1,
      fallback: 0,
      invalid_bsn: 1,
      missing_bsn: 0,
      duplicates: 1,
    });
    for (const output of m.outputs) expect(output.path.includes('quarantine')).toBe(false);
  });

  it('no output file holds a BSN of the input, a postcode, a house number or a name', async () => {
    const inputBsns = new Set<string>();
    for (const line of [...CLIENTEN, ...UITKERINGEN, ...TRAJECTEN])
      for (const run of line.match(/[0-9]{8,9}/g) ?? []) if (looksLikeBsn(run)) inputBsns.add(run.padStart(9, '0'));
    for (const b of ['123456782', '012345672', '111252333']) inputBsns.add(b);
    expect(inputBsns.size).toBeGreaterThan(3);
    const duck = await Duck.open({ threads: 1 });
    try {
      for (const name of await readdir(join(dir, 'out'))) {
        const path = join(dir, 'out', name);
        const text = name.endsWith('.parquet')
          ? JSON.stringify(await duck.jsonRows(`SELECT * FROM read_parquet(${sqlString(path)})`))
          : await readFile(path, 'utf8');
        for (const bsn of inputBsns) {
          expect(text.includes(bsn), `${name} holds a BSN`).toBe(false);
          expect(text.includes(bsn.replace(/^0/, '')), `${name} holds a BSN without its leading zero`).toBe(false);
        }
        for (const direct of ['3011 AB', '3011AB', '3013EF', 'Jansen', '1985-12-31', '1990-06-15']) {
          if (name.endsWith('.parquet')) expect(text.includes(direct), `${name} holds ${direct}`).toBe(false);
        }
      }
    } finally {
      duck.close();
    }
  });

  it('two runs with the same key give byte-identical outputs; another key gives disjoint pseudonyms', async () => {
    const again = await runBoldlink([
      'pseudonymize',
      '--key',
      keyFile,
      '--source',
      'rotterdam',
      '--mapping',
      projectPath('examples/mappings/gemeente.json'),
      '--input',
      ...inputs,
      '--out',
      join(dir, 'again'),
    ]);
    expect(again.code).toBe(0);
    const sums = async (d: string) => (await readManifest(d)).outputs.map((o) => [o.path, o.sha256]);
    expect(await sums(join(dir, 'again'))).toEqual(await sums(join(dir, 'out')));

    const otherKey = join(dir, 'other.key.json');
    await createKeyFile(otherKey, 'source', 'other');
    const other = await runBoldlink([
      'pseudonymize',
      '--key',
      otherKey,
      '--source',
      'rotterdam',
      '--mapping',
      projectPath('examples/mappings/gemeente.json'),
      '--input',
      ...inputs,
      '--out',
      join(dir, 'other'),
    ]);
    expect(other.code).toBe(0);
    const pseudonyms = async (d: string) => {
      const values = new Set<string>();
      for (const t of ['clients', 'benefits', 'interventions', 'persons', 'jobs'])
        for (const row of await table(d, t))
          for (const c of ['p1', 'f1']) if (typeof row[c] === 'string') values.add(row[c]);
      return values;
    };
    const a = await pseudonyms(join(dir, 'out'));
    const b = await pseudonyms(join(dir, 'other'));
    expect(a.size).toBe(5);
    expect([...a].filter((p) => b.has(p))).toEqual([]);
  });

  it('refuses a source key of the wrong role, and a file whose header matches no table', async () => {
    const ttp = join(dir, 'ttp.key.json');
    await createKeyFile(ttp, 'ttp', 'ttp');
    const wrongRole = await runBoldlink([
      'pseudonymize',
      '--key',
      ttp,
      '--source',
      'x',
      '--input',
      inputs[3]!,
      '--out',
      join(dir, 'x'),
    ]);
    expect(wrongRole.code).toBe(1);
    expect(wrongRole.stderr).toContain("needs a 'source' key");
    await writeFile(join(dir, 'odd.csv'), 'a;b;c\n1;2;3\n');
    const odd = await runBoldlink([
      'pseudonymize',
      '--key',
      keyFile,
      '--source',
      'x',
      '--input',
      join(dir, 'odd.csv'),
      '--out',
      join(dir, 'odd-out'),
    ]);
    expect(odd.code).toBe(1);
    expect(odd.stderr).toContain('odd.csv');
    expect(odd.stderr).toContain('--mapping');
    await expect(stat(join(dir, 'odd-out'))).rejects.toThrow();
  });

  it('reads a CSV with canonical headers without a mapping file', async () => {
    await writeFile(
      join(dir, 'jobs.csv'),
      'bsn,employer_id,start_date,end_date,contract_type,hours_per_week,hourly_wage\n123456782,E9,2022-02-01,,on_call,12.5,13.75\n',
    );
    const run = await runBoldlink([
      'pseudonymize',
      '--key',
      keyFile,
      '--source',
      'cbs',
      '--input',
      join(dir, 'jobs.csv'),
      '--out',
      join(dir, 'canonical'),
    ]);
    expect(run.code).toBe(0);
    expect(await table(join(dir, 'canonical'), 'jobs')).toEqual([
      {
        p1: P(key, 'bsn:123456782'),
        f1: null,
        id_status: 'bsn',
        employer_id: 'E9',
        start_date: '2022-02-01',
        end_date: null,
        contract_type: 'on_call',
        hours_per_week: 12.5,
        hourly_wage: 13.75,
      },
    ]);
  });
});
