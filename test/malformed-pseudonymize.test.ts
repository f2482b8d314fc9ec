import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFile } from '../keys/keyFile.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { projectPath } from '../pipeline/core/projectPath.js';
import { runInProcess } from './support/inProcessCli.js';
import {
  exists,
  expectNothingLeftBeside,
  expectRowsAccountedFor,
  readQuarantine,
  STACK_LINE,
} from './support/stageChecks.js';

/**
 * Issue #12: what stewards' systems really export, fed to `boldlink
 * pseudonymize`. Every kind of bad input ends in one of two ways:
 *  - the run succeeds and each bad row sits in the quarantine with its file,
 *    row, column and rule, counted (rows in = rows out + rows quarantined);
 *  - or the run refuses with exit 1 (data) or 2 (usage), a message naming the
 *    file, no stack trace, and no output a later stage could accept.
 * Rows are a gemeente's exports as `boldlink generate` writes them (mapped by
 * examples/mappings/gemeente.json) and the holder's canonical Parquet/CSV.
 */

const CLIENTEN_HEADER = 'BSN;Geboortedatum;Geslacht;Postcode;Huisnummer;Wijk;Huishoudtype';
const CLIENT_1 = '123456782;01-02-1980;M;3011 AB;12;Centrum;Alleenstaand';
const CLIENT_2 = '111222333;15-06-1990;V;3012CD;5a;Noord;Eenoudergezin';
const CLIENT_3 = '012345672;31-12-1985;M;3013 EF;7;Zuid;Overig';
const UITKERINGEN_HEADER = 'BSN;Regeling;Begindatum;Einddatum;Reden beëindiging';
const BENEFIT_1 = '123456782;Algemene bijstand;01-01-2019;31-03-2020;Werk';
const BENEFIT_2 = '111222333;IOAW;01-01-2019;;';
const TRAJECTEN_HEADER = 'BSN;Programma;Groep;Participatieladder;Begindatum;Einddatum';
const TRAJECT_1 = '123456782;WerkLoont;Experiment;3;01-03-2019;';
const JOBS_HEADER = 'bsn,employer_id,start_date,end_date,contract_type,hours_per_week,hourly_wage';
const JOB_1 = '123456782,E1,2020-04-01,,permanent,36,14.5';

type Lines = readonly string[];
/** A municipal export: Windows-1252, LF, trailing newline (as generate writes them). */
const cp1252 = (lines: Lines, eol = '\n') => iconv.encode(`${lines.join(eol)}${eol}`, 'windows-1252');
const utf8 = (lines: Lines, eol = '\n') => Buffer.from(`${lines.join(eol)}${eol}`, 'utf8');
const clienten = (...rows: string[]) => cp1252([CLIENTEN_HEADER, ...rows]);
const uitkeringen = (...rows: string[]) => cp1252([UITKERINGEN_HEADER, ...rows]);
const trajecten = (...rows: string[]) => cp1252([TRAJECTEN_HEADER, ...rows]);
const jobsCsv = (...rows: string[]) => utf8([JOBS_HEADER, ...rows]);

/** A row of the Parquet jobs file, in SQL. */
const JOB_SQL_1 = `('123456782', 'E1', DATE '2020-04-01', NULL::DATE, 'permanent', 36.0, 14.5)`;
const JOBS_COLUMNS = 't(bsn, employer_id, start_date, end_date, contract_type, hours_per_week, hourly_wage)';

const NEXT_YEAR = new Date().getFullYear() + 1;

type Quarantined = readonly [file: string, row: number, column: string | null, rule: string];

interface Accepted {
  readonly rowsIn: Readonly<Record<string, number>>;
  readonly quarantined: readonly Quarantined[];
  /** Extra check on the output, e.g. the id_status of the rows written. */
  readonly then?: (out: string) => Promise<void>;
}
interface Refused {
  readonly exit: 1 | 2;
  readonly code?: string;
  /** Substrings the message must hold (file name, column…). */
  readonly mentions: readonly string[];
}

interface MalformedCase {
  readonly name: string;
  /** Files to write in the case folder: bytes, or SQL (a COPY source) for Parquet. */
  readonly files?: Readonly<Record<string, Buffer | { readonly parquetSql: string } | { readonly directory: true }>>;
  /** --input names (default: every file). */
  readonly inputs?: readonly string[];
  /** 'gemeente' (examples/mappings/gemeente.json), 'none', or a file of the case. */
  readonly mapping?: string;
  /** Key file name among the shared keys (default 'source.key'). */
  readonly key?: string;
  /** Replace the whole argument list's tail (for usage errors). */
  readonly args?: (dir: string, base: readonly string[]) => string[];
  readonly expect: Accepted | Refused;
}

const GEMEENTE_MAPPING = projectPath('examples/mappings/gemeente.json');
/** The example mapping as plain JSON, for cases that break it on purpose. */
interface MappingJson {
  [key: string]: unknown;
  csv: { [key: string]: unknown };
  tables: { [table: string]: { columns: { [header: string]: string } } };
}
const gemeenteMapping = JSON.parse(await readFile(GEMEENTE_MAPPING, 'utf8')) as MappingJson;
const mappingWith = (change: (m: MappingJson) => void): Buffer => {
  const m = structuredClone(gemeenteMapping);
  change(m);
  return Buffer.from(JSON.stringify(m));
};

const ok = (rowsIn: Record<string, number>, quarantined: Quarantined[] = [], then?: Accepted['then']): Accepted => ({
  rowsIn,
  quarantined,
  ...(then ? { then } : {}),
});
const refused = (exit: 1 | 2, code: string | undefined, ...mentions: string[]): Refused => ({
  exit,
  ...(code ? { code } : {}),
  mentions,
});

let duck: Duck;
/** id_status of every row written to a table, in output order. */
const idStatuses = async (out: string, table: string) =>
  (
    await duck.jsonRows<{ id_status: string }>(
      `SELECT id_status FROM read_parquet(${sqlString(join(out, `${table}.parquet`))})`,
    )
  ).map((r) => r.id_status);

const CASES: readonly MalformedCase[] = [
  // --- whole-file problems ---
  {
    name: 'an empty file (0 bytes)',
    files: { 'clienten.csv': Buffer.alloc(0) },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_EMPTY', 'clienten.csv'),
  },
  {
    name: 'a header only, no data rows',
    files: { 'clienten.csv': clienten() },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 0 }),
  },
  {
    name: 'only empty lines after the header',
    files: { 'clienten.csv': cp1252([CLIENTEN_HEADER, '', '']) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [
      ['clienten.csv', 1, null, 'row.empty'],
      ['clienten.csv', 2, null, 'row.empty'],
    ]),
  },
  {
    name: 'a file of whitespace only',
    files: { 'clienten.csv': Buffer.from('   \n \t \n') },
    mapping: 'gemeente',
    expect: refused(1, undefined, 'clienten.csv'),
  },
  {
    name: 'a missing required column (no Geslacht)',
    files: {
      'clienten.csv': cp1252([
        'BSN;Geboortedatum;Postcode;Huisnummer;Wijk;Huishoudtype',
        '123456782;01-02-1980;3011 AB;12;Centrum;Alleenstaand',
      ]),
    },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_UNRECOGNISED', 'clienten.csv'),
  },
  {
    name: 'an extra column (a name, dropped as a direct identifier)',
    files: { 'clienten.csv': cp1252([`${CLIENTEN_HEADER};Naam`, `${CLIENT_1};Jan Jansen`, `${CLIENT_2};Els`]) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }),
  },
  {
    name: 'a row with one field too many',
    files: { 'clienten.csv': clienten(CLIENT_1, `${CLIENT_2};extra`, CLIENT_3) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 3 }, [['clienten.csv', 2, null, 'row.columns']]),
  },
  {
    name: 'a row with one field too few',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;V;3012CD;5a;Noord', CLIENT_3) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 3 }, [['clienten.csv', 2, null, 'row.columns']]),
  },
  {
    name: 'a duplicated header (BSN twice)',
    files: { 'clienten.csv': cp1252([`${CLIENTEN_HEADER};BSN`, `${CLIENT_1};123456782`]) },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_HEADER', 'clienten.csv', "'BSN'"),
  },
  {
    name: 'a UTF-8 byte-order mark (Excel "CSV UTF-8")',
    files: {
      'uitkeringen.csv': Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        utf8([UITKERINGEN_HEADER, BENEFIT_1, BENEFIT_2]),
      ]),
    },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }),
  },
  {
    name: 'mixed line endings (CRLF and LF)',
    files: {
      'clienten.csv': iconv.encode(`${CLIENTEN_HEADER}\r\n${CLIENT_1}\n${CLIENT_2}\r\n${CLIENT_3}\n`, 'windows-1252'),
    },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 3 }),
  },
  {
    name: 'old Mac line endings (CR only)',
    files: { 'clienten.csv': cp1252([CLIENTEN_HEADER, CLIENT_1, CLIENT_2], '\r') },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_UNRECOGNISED', 'clienten.csv'),
  },
  {
    name: 'wrong encoding: UTF-8 without BOM where Windows-1252 is declared (header with ë)',
    files: { 'uitkeringen.csv': utf8([UITKERINGEN_HEADER, BENEFIT_1, BENEFIT_2]) },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_ENCODING', 'uitkeringen.csv', 'utf-8'),
  },
  {
    name: 'Windows-1252 as declared, with € and ë in the data',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;V;3012CD;5a;Zoë €;Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }),
  },
  {
    name: 'invalid UTF-8 bytes in a UTF-8 (BOM) file',
    files: {
      'clienten.csv': Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(`${CLIENTEN_HEADER}\n${CLIENT_1}\n111222333;15-06-1990;V;3012CD;5a;Centr`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(`um;Eenoudergezin\n`),
      ]),
    },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [['clienten.csv', 2, null, 'row.encoding']]),
  },
  {
    name: 'wrong encoding: UTF-16LE',
    files: {
      'clienten.csv': Buffer.concat([
        Buffer.from([0xff, 0xfe]),
        Buffer.from(`${CLIENTEN_HEADER}\n${CLIENT_1}\n`, 'utf16le'),
      ]),
    },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_UNRECOGNISED', 'clienten.csv'),
  },
  {
    name: 'wrong separator: comma where the mapping says ;',
    files: { 'clienten.csv': cp1252([CLIENTEN_HEADER, CLIENT_1].map((l) => l.replaceAll(';', ','))) },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_UNRECOGNISED', 'clienten.csv'),
  },
  {
    name: 'wrong separator: tab',
    files: { 'clienten.csv': cp1252([CLIENTEN_HEADER, CLIENT_1].map((l) => l.replaceAll(';', '\t'))) },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_UNRECOGNISED', 'clienten.csv'),
  },
  {
    name: 'a quoted separator inside a field',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;V;3012CD;5a;"Noord;Oost";Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }),
  },
  {
    name: 'a quoted newline inside a field',
    files: {
      'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;V;3012CD;5a;"Noord', 'Oost";Eenoudergezin', CLIENT_3),
    },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 4 }, [
      ['clienten.csv', 2, null, 'row.quote'],
      ['clienten.csv', 3, null, 'row.quote'],
    ]),
  },
  {
    name: 'a stray quote inside a code value',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;V;3012CD;5a;Noord;Eenouder"gezin', CLIENT_3) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 3 }, [['clienten.csv', 2, 'household_type', 'code.unknown']]),
  },
  {
    name: 'a very long field (100 000 characters of district)',
    files: {
      'clienten.csv': clienten(CLIENT_1, `111222333;15-06-1990;V;3012CD;5a;${'N'.repeat(100_000)};Eenoudergezin`),
    },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [['clienten.csv', 2, 'district', 'district.length']]),
  },
  {
    name: 'a line longer than the CSV reader allows (3 MB)',
    files: {
      'clienten.csv': clienten(
        CLIENT_1,
        `111222333;15-06-1990;V;3012CD;5a;${'N'.repeat(3_000_000)};Eenoudergezin`,
        CLIENT_3,
      ),
    },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 3 }, [['clienten.csv', 2, null, 'row.parse']]),
  },
  {
    name: 'a NUL byte inside a row',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;V;3012CD;5a;No\u0000rd;Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }),
  },
  {
    name: 'a trailing separator on every line, header too',
    files: { 'clienten.csv': cp1252([CLIENTEN_HEADER, CLIENT_1, CLIENT_2].map((l) => `${l};`)) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }),
  },
  {
    name: 'a trailing separator on the data rows only',
    files: { 'clienten.csv': cp1252([CLIENTEN_HEADER, `${CLIENT_1};`, CLIENT_2]) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }),
  },
  {
    name: 'an empty line in the middle (counted as a row)',
    files: { 'clienten.csv': clienten(CLIENT_1, '', CLIENT_2) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 3 }, [['clienten.csv', 2, null, 'row.empty']]),
  },
  {
    name: 'a whitespace-only line',
    files: { 'clienten.csv': clienten(CLIENT_1, '   ', CLIENT_2) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 3 }, [['clienten.csv', 2, null, 'row.columns']]),
  },
  {
    name: 'no newline after the last row',
    files: { 'clienten.csv': iconv.encode(`${CLIENTEN_HEADER}\n${CLIENT_1}\n${CLIENT_2}`, 'windows-1252') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }),
  },
  {
    name: 'headers with stray spaces around them',
    files: {
      'clienten.csv': cp1252([
        CLIENTEN_HEADER.split(';')
          .map((h) => ` ${h} `)
          .join(';'),
        CLIENT_1,
      ]),
    },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 1 }),
  },
  {
    name: 'an exact duplicate row',
    files: { 'clienten.csv': clienten(CLIENT_1, CLIENT_2, CLIENT_1) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 3 }, [['clienten.csv', 3, null, 'duplicate_row']]),
  },

  // --- dates ---
  {
    name: 'a date that does not exist: 31-02-2020',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;31-02-2020;;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'start_date', 'date.format']]),
  },
  {
    name: 'a month 13: 2020-13-01 (ISO order in a DD-MM-YYYY file)',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;2020-13-01;;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'start_date', 'date.format']]),
  },
  {
    name: 'an ISO date that exists, in a DD-MM-YYYY file',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;2020-01-13;;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'start_date', 'date.format']]),
  },
  {
    name: 'an Excel date serial (43831)',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;43831;;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'start_date', 'date.format']]),
  },
  {
    name: 'a date with slashes (01/01/2019)',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;01/01/2019;;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'start_date', 'date.format']]),
  },
  {
    name: 'a date written as text (onbekend)',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;01-01-2019;onbekend;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'end_date', 'date.format']]),
  },
  {
    name: 'an end date before the start date',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;01-05-2020;01-04-2020;Overig') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'end_date', 'date.order']]),
  },
  {
    name: 'a missing start date',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;;;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'start_date', 'value.missing']]),
  },
  // Plausible ranges (schemas/inputs.ts): births 1900-01-01 … the day of the run; starts 1965-01-01 … a year after it.
  {
    name: 'a birth date in 1850 (a mistyped year)',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1850;V;3012CD;5a;Noord;Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [['clienten.csv', 2, 'birth_date', 'date.range']]),
  },
  {
    name: 'a birth date in the future (next year)',
    files: { 'clienten.csv': clienten(CLIENT_1, `111222333;15-06-${NEXT_YEAR};V;3012CD;5a;Noord;Eenoudergezin`) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [['clienten.csv', 2, 'birth_date', 'date.range']]),
  },
  {
    name: 'a birth date on 01-01-1900, the earliest accepted',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;01-01-1900;V;3012CD;5a;Noord;Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }),
  },
  {
    name: 'a birth date on 31-12-1899, a day before the earliest',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;31-12-1899;V;3012CD;5a;Noord;Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [['clienten.csv', 2, 'birth_date', 'date.range']]),
  },
  {
    name: 'a benefit start on 01-01-1965, the earliest accepted',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;01-01-1965;31-12-1970;Werk') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }),
  },
  {
    name: 'a benefit start in 2150',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;01-01-2150;;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'start_date', 'date.range']]),
  },
  {
    name: 'an intervention start in 1964, before the bijstand existed',
    files: { 'trajecten.csv': trajecten(TRAJECT_1, '111222333;WerkLoont;Controle;2;31-12-1964;') },
    mapping: 'gemeente',
    expect: ok({ 'trajecten.csv': 2 }, [['trajecten.csv', 2, 'start_date', 'date.range']]),
  },
  {
    name: 'a benefit end of 31-12-9999 (an "open" marker) is kept',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;IOAW;01-01-2019;31-12-9999;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }),
  },
  {
    name: 'Parquet: a job start typed DATE 2150-03-01 and a birth year 1850 in persons',
    files: {
      'jobs.parquet': {
        parquetSql: `SELECT * FROM (VALUES ${JOB_SQL_1}, ('111222333', 'E2', DATE '2150-03-01', NULL::DATE, 'agency', 12.0, 13.0)) AS ${JOBS_COLUMNS}`,
      },
      'persons.parquet': {
        parquetSql: `SELECT * FROM (VALUES ('123456782', DATE '1850-02-01', 'M', 'GM0599', '3011 AB', '12'), ('111222333', DATE '1980-02-01', 'F', 'GM0599', '3012 CD', '5')) AS t(bsn, birth_date, sex, municipality_code, postcode, house_number)`,
      },
    },
    mapping: 'none',
    expect: ok({ 'jobs.parquet': 2, 'persons.parquet': 2 }, [
      ['jobs.parquet', 2, 'start_date', 'date.range'],
      ['persons.parquet', 1, 'birth_date', 'date.range'],
    ]),
  },

  // --- codes and numbers ---
  {
    name: 'an unknown code (Geslacht X)',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;X;3012CD;5a;Noord;Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [['clienten.csv', 2, 'sex', 'code.unknown']]),
  },
  {
    name: 'a code in the wrong case (v for V)',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;v;3012CD;5a;Noord;Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [['clienten.csv', 2, 'sex', 'code.unknown']]),
  },
  {
    name: 'an unknown benefit type (WW-uitkering)',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1, '111222333;WW-uitkering;01-01-2019;;') },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 2 }, [['uitkeringen.csv', 2, 'benefit_type', 'code.unknown']]),
  },
  {
    name: 'a ladder step out of range (7)',
    files: { 'trajecten.csv': trajecten(TRAJECT_1, '111222333;WerkLoont;Controle;7;01-03-2019;') },
    mapping: 'gemeente',
    expect: ok({ 'trajecten.csv': 2 }, [['trajecten.csv', 2, 'ladder_step', 'number.range']]),
  },
  {
    name: 'a ladder step with a decimal comma (3,5)',
    files: { 'trajecten.csv': trajecten(TRAJECT_1, '111222333;WerkLoont;Controle;3,5;01-03-2019;') },
    mapping: 'gemeente',
    expect: ok({ 'trajecten.csv': 2 }, [['trajecten.csv', 2, 'ladder_step', 'number.format']]),
  },
  {
    name: 'a huge number (ladder step 99999999999999999999)',
    files: { 'trajecten.csv': trajecten(TRAJECT_1, '111222333;WerkLoont;Controle;99999999999999999999;01-03-2019;') },
    mapping: 'gemeente',
    expect: ok({ 'trajecten.csv': 2 }, [['trajecten.csv', 2, 'ladder_step', 'number.format']]),
  },
  {
    name: 'a postcode that is not Dutch',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;V;0123 AB;5a;Noord;Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [['clienten.csv', 2, 'postcode', 'postcode.format']]),
  },
  {
    name: 'a house number 0',
    files: { 'clienten.csv': clienten(CLIENT_1, '111222333;15-06-1990;V;3012CD;0;Noord;Eenoudergezin') },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 2 }, [['clienten.csv', 2, 'house_number', 'house_number.format']]),
  },

  // --- BSN as spreadsheets and typists deliver it ---
  {
    name: 'a BSN as a float (1.23456782E8): fallback pseudonym from the address',
    files: { 'clienten.csv': clienten(CLIENT_1.replace('123456782', '1.23456782E8')) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 1 }, [], async (out) =>
      expect(await idStatuses(out, 'clients')).toEqual(['fallback']),
    ),
  },
  {
    name: 'a benefit row whose BSN is a float and has no clients row',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1.replace('123456782', '1.23456782E8')) },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 1 }, [['uitkeringen.csv', 1, 'bsn', 'bsn.not_digits']]),
  },
  {
    name: 'a BSN that lost its leading zero (8 digits): repaired',
    files: { 'clienten.csv': clienten(CLIENT_3.replace('012345672', '12345672')) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 1 }, [], async (out) =>
      expect(await idStatuses(out, 'clients')).toEqual(['bsn_repaired']),
    ),
  },
  {
    name: 'a BSN with spaces and dots: repaired to the same person',
    files: { 'clienten.csv': clienten(CLIENT_1.replace('123456782', '1234.56 782')) },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 1 }, [], async (out) => expect(await idStatuses(out, 'clients')).toEqual(['bsn'])),
  },
  {
    name: 'a BSN failing the elfproef, no clients row',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1.replace('123456782', '123456789')) },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 1 }, [['uitkeringen.csv', 1, 'bsn', 'bsn.elfproef']]),
  },
  {
    name: 'a BSN of all zeros, no clients row',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1.replace('123456782', '000000000')) },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 1 }, [['uitkeringen.csv', 1, 'bsn', 'bsn.all_zero']]),
  },
  {
    name: 'a BSN of 10 digits, no clients row',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1.replace('123456782', '1234567820')) },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 1 }, [['uitkeringen.csv', 1, 'bsn', 'bsn.wrong_length']]),
  },
  {
    name: 'a BSN in Unicode look-alike digits (full-width), no clients row',
    files: {
      'uitkeringen.csv': Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        utf8([UITKERINGEN_HEADER, BENEFIT_1.replace('123456782', '１２３４５６７８２')]),
      ]),
    },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 1 }, [['uitkeringen.csv', 1, 'bsn', 'bsn.not_digits']]),
  },
  {
    name: 'a BSN in Arabic-Indic digits: fallback, never a P1',
    files: {
      'clienten.csv': Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        utf8([CLIENTEN_HEADER, CLIENT_1.replace('123456782', '١٢٣٤٥٦٧٨٢')]),
      ]),
    },
    mapping: 'gemeente',
    expect: ok({ 'clienten.csv': 1 }, [], async (out) =>
      expect(await idStatuses(out, 'clients')).toEqual(['fallback']),
    ),
  },
  {
    name: 'a missing BSN on a benefit row with no clients row',
    files: { 'uitkeringen.csv': uitkeringen(BENEFIT_1.replace('123456782', '')) },
    mapping: 'gemeente',
    expect: ok({ 'uitkeringen.csv': 1 }, [['uitkeringen.csv', 1, 'bsn', 'bsn.missing']]),
  },

  // --- the holder's files: canonical CSV and Parquet ---
  {
    name: 'canonical CSV: negative hours per week',
    files: { 'jobs.csv': jobsCsv(JOB_1, '111222333,E2,2019-01-01,2019-06-30,agency,-20,12.25') },
    mapping: 'none',
    expect: ok({ 'jobs.csv': 2 }, [['jobs.csv', 2, 'hours_per_week', 'number.range']]),
  },
  {
    name: 'canonical CSV: an hourly wage of zero',
    files: { 'jobs.csv': jobsCsv(JOB_1, '111222333,E2,2019-01-01,2019-06-30,agency,20,0') },
    mapping: 'none',
    expect: ok({ 'jobs.csv': 2 }, [['jobs.csv', 2, 'hourly_wage', 'number.range']]),
  },
  {
    name: 'canonical CSV: zero hours (an on-call contract) is accepted',
    files: { 'jobs.csv': jobsCsv(JOB_1, '111222333,E2,2019-01-01,2019-06-30,on_call,0,12.25') },
    mapping: 'none',
    expect: ok({ 'jobs.csv': 2 }),
  },
  {
    name: 'Parquet: an hourly wage of 0.0',
    files: {
      'jobs.parquet': {
        parquetSql: `SELECT * FROM (VALUES ${JOB_SQL_1}, ('111222333', 'E2', DATE '2019-01-01', NULL::DATE, 'agency', 12.0, 0.0)) AS ${JOBS_COLUMNS}`,
      },
    },
    mapping: 'none',
    expect: ok({ 'jobs.parquet': 2 }, [['jobs.parquet', 2, 'hourly_wage', 'number.range']]),
  },
  {
    name: 'canonical CSV: a decimal comma in a comma-separated file',
    files: { 'jobs.csv': jobsCsv(JOB_1, '111222333,E2,2019-01-01,2019-06-30,agency,20,"12,25"') },
    mapping: 'none',
    expect: ok({ 'jobs.csv': 2 }, [['jobs.csv', 2, 'hourly_wage', 'number.format']]),
  },
  {
    name: 'canonical CSV: an unknown contract type (zzp)',
    files: { 'jobs.csv': jobsCsv(JOB_1, '111222333,E2,2019-01-01,2019-06-30,zzp,20,12.25') },
    mapping: 'none',
    expect: ok({ 'jobs.csv': 2 }, [['jobs.csv', 2, 'contract_type', 'code.unknown']]),
  },
  {
    name: 'canonical CSV: a DD-MM-YYYY date where ISO is expected',
    files: { 'jobs.csv': jobsCsv(JOB_1, '111222333,E2,01-01-2019,,agency,20,12.25') },
    mapping: 'none',
    expect: ok({ 'jobs.csv': 2 }, [['jobs.csv', 2, 'start_date', 'date.format']]),
  },
  {
    name: 'canonical CSV: hours beyond a week (200)',
    files: { 'jobs.csv': jobsCsv(JOB_1, '111222333,E2,2019-01-01,,agency,200,12.25') },
    mapping: 'none',
    expect: ok({ 'jobs.csv': 2 }, [['jobs.csv', 2, 'hours_per_week', 'number.range']]),
  },
  {
    name: 'canonical CSV: a job ending before it starts',
    files: { 'jobs.csv': jobsCsv(JOB_1, '111222333,E2,2019-06-01,2019-01-01,agency,20,12.25') },
    mapping: 'none',
    expect: ok({ 'jobs.csv': 2 }, [['jobs.csv', 2, 'end_date', 'date.order']]),
  },
  {
    name: 'canonical CSV: a missing employer id',
    files: { 'jobs.csv': jobsCsv(JOB_1, '111222333,,2019-01-01,,agency,20,12.25') },
    mapping: 'none',
    expect: ok({ 'jobs.csv': 2 }, [['jobs.csv', 2, 'employer_id', 'value.missing']]),
  },
  {
    name: 'Parquet: a negative hourly wage and NaN hours',
    files: {
      'jobs.parquet': {
        parquetSql: `SELECT * FROM (VALUES ${JOB_SQL_1}, ('111222333', 'E2', DATE '2019-01-01', NULL::DATE, 'agency', 'NaN'::DOUBLE, 12.0), ('111222333', 'E3', DATE '2019-01-01', NULL::DATE, 'agency', 12.0, -1.0)) AS ${JOBS_COLUMNS}`,
      },
    },
    mapping: 'none',
    expect: ok({ 'jobs.parquet': 3 }, [
      ['jobs.parquet', 2, 'hours_per_week', 'number.format'],
      ['jobs.parquet', 3, 'hourly_wage', 'number.range'],
    ]),
  },
  {
    name: 'Parquet: a BSN stored as a number (leading zero lost, repaired)',
    files: {
      'jobs.parquet': {
        parquetSql: `SELECT 12345672::BIGINT AS bsn, 'E1' AS employer_id, DATE '2020-01-01' AS start_date, NULL::DATE AS end_date, 'permanent' AS contract_type, 36.0 AS hours_per_week, 14.5 AS hourly_wage`,
      },
    },
    mapping: 'none',
    expect: ok({ 'jobs.parquet': 1 }, [], async (out) =>
      expect(await idStatuses(out, 'jobs')).toEqual(['bsn_repaired']),
    ),
  },
  {
    name: 'Parquet: hours delivered as text',
    files: {
      'jobs.parquet': {
        parquetSql: `SELECT * FROM (VALUES ('123456782', 'E1', DATE '2020-04-01', NULL::DATE, 'permanent', '36', 14.5), ('111222333', 'E2', DATE '2020-04-01', NULL::DATE, 'permanent', 'zesendertig', 14.5)) AS ${JOBS_COLUMNS}`,
      },
    },
    mapping: 'none',
    expect: ok({ 'jobs.parquet': 2 }, [['jobs.parquet', 2, 'hours_per_week', 'number.format']]),
  },
  {
    name: 'Parquet: no rows at all',
    files: { 'jobs.parquet': { parquetSql: `SELECT * FROM (VALUES ${JOB_SQL_1}) AS ${JOBS_COLUMNS} WHERE false` } },
    mapping: 'none',
    expect: ok({ 'jobs.parquet': 0 }),
  },
  {
    name: 'Parquet: a truncated file',
    files: { 'jobs.parquet': { parquetSql: `TRUNCATE` } },
    mapping: 'none',
    expect: refused(1, 'INPUT_UNREADABLE', 'jobs.parquet'),
  },
  {
    name: 'Parquet: an intact footer over corrupt data pages',
    files: { 'jobs.parquet': { parquetSql: `CORRUPT` } },
    mapping: 'none',
    expect: refused(1, 'INPUT_CORRUPT', 'jobs.parquet', 'column'),
  },
  {
    name: 'Parquet: garbage bytes with a .parquet name',
    files: { 'jobs.parquet': Buffer.from('PAR1 this is not parquet at all PAR1') },
    mapping: 'none',
    expect: refused(1, 'INPUT_UNREADABLE', 'jobs.parquet'),
  },
  {
    name: 'a spreadsheet (.xlsx) given as input',
    files: { 'clienten.xlsx': Buffer.from('PK\u0003\u0004 not really a workbook') },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_FORMAT', 'clienten.xlsx'),
  },
  {
    name: 'a zip file renamed to .csv',
    files: {
      'clienten.csv': Buffer.from([
        0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x0a, 0x01, 0x02,
      ]),
    },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_UNRECOGNISED', 'clienten.csv'),
  },

  // --- mapping files ---
  {
    name: 'a mapping that maps two columns to one',
    files: {
      'clienten.csv': clienten(CLIENT_1),
      'mapping.json': mappingWith((m) => (m.tables.clients!.columns.Wijk = 'bsn')),
    },
    inputs: ['clienten.csv'],
    mapping: 'mapping.json',
    expect: refused(1, 'MAPPING_INVALID', 'mapping.json', 'Wijk'),
  },
  {
    name: 'a mapping with an unknown key (zod strict)',
    files: { 'clienten.csv': clienten(CLIENT_1), 'mapping.json': mappingWith((m) => (m.seperator = ';')) },
    inputs: ['clienten.csv'],
    mapping: 'mapping.json',
    expect: refused(1, 'MAPPING_INVALID', 'mapping.json', 'seperator'),
  },
  {
    name: 'a mapping with an unknown encoding',
    files: { 'clienten.csv': clienten(CLIENT_1), 'mapping.json': mappingWith((m) => (m.csv.encoding = 'latin-9')) },
    inputs: ['clienten.csv'],
    mapping: 'mapping.json',
    expect: refused(1, 'MAPPING_INVALID', 'mapping.json', 'encoding'),
  },
  {
    name: 'a mapping for an unknown table',
    files: {
      'clienten.csv': clienten(CLIENT_1),
      'mapping.json': mappingWith((m) => (m.tables.uitkeringen = { columns: {} })),
    },
    inputs: ['clienten.csv'],
    mapping: 'mapping.json',
    expect: refused(1, 'MAPPING_INVALID', 'mapping.json', 'uitkeringen'),
  },
  {
    name: 'a mapping that is not JSON',
    files: { 'clienten.csv': clienten(CLIENT_1), 'mapping.json': Buffer.from('{"format": "boldlink-mapping/v1",') },
    inputs: ['clienten.csv'],
    mapping: 'mapping.json',
    expect: refused(1, 'MAPPING_INVALID', 'mapping.json'),
  },
  {
    name: 'a mapping file that does not exist',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'no-such-mapping.json',
    expect: refused(1, 'MAPPING_MISSING', 'no-such-mapping.json'),
  },

  // --- key files ---
  {
    name: 'a key with the wrong role (ttp)',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    key: 'ttp.key',
    expect: refused(1, 'KEY_ROLE', 'ttp.key'),
  },
  {
    name: 'a key of the wrong length (16 bytes)',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    key: 'short.key',
    expect: refused(1, 'KEY_INVALID', 'short.key'),
  },
  {
    name: 'a key in hex instead of base64',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    key: 'hex.key',
    expect: refused(1, 'KEY_INVALID', 'hex.key'),
  },
  {
    name: 'a key file readable by others (0644)',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    key: 'loose.key',
    expect: refused(1, 'KEY_PERMISSIONS', 'loose.key'),
  },
  {
    name: 'a key file that is not JSON',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    key: 'garbage.key',
    expect: refused(1, 'KEY_INVALID', 'garbage.key'),
  },
  {
    name: 'a key file with an unknown field',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    key: 'extra.key',
    expect: refused(1, 'KEY_INVALID', 'extra.key'),
  },
  {
    name: 'a key file that does not exist',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    key: 'missing.key',
    expect: refused(1, 'KEY_MISSING', 'missing.key'),
  },

  // --- the command line ---
  {
    name: 'an input file that does not exist',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    inputs: ['clienten.csv', 'uitkeringen-2019.csv'],
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_MISSING', 'uitkeringen-2019.csv'),
  },
  {
    name: 'a directory given as an input file',
    files: { 'clienten.csv': clienten(CLIENT_1), 'exports.csv': { directory: true } },
    mapping: 'gemeente',
    expect: refused(1, 'INPUT_MISSING', 'exports.csv'),
  },
  {
    name: '--out pointing at an input file',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    args: (dir, base) => [...base.slice(0, -1), join(dir, 'clienten.csv')],
    expect: refused(1, 'OUTPUT_EXISTS', 'clienten.csv'),
  },
  {
    name: '--out pointing at the folder holding the inputs',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    args: (dir, base) => [...base.slice(0, -1), dir],
    expect: refused(1, 'OUTPUT_EXISTS'),
  },
  {
    name: "--out pointing at the raw exports' own stage directory (generate output)",
    files: { 'clienten.csv': clienten(CLIENT_1), 'manifest.json': Buffer.from('{}') },
    mapping: 'gemeente',
    inputs: ['clienten.csv'],
    args: (dir, base) => [...base.slice(0, -1), dir],
    expect: refused(1, 'OUTPUT_IS_INPUT', 'clienten.csv'),
  },
  {
    name: 'a source name with spaces',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    args: (_dir, base) => base.map((a) => (a === 'rotterdam' ? 'Den Haag' : a)),
    expect: refused(2, 'USAGE', '--source'),
  },
  {
    name: 'no --key at all',
    files: { 'clienten.csv': clienten(CLIENT_1) },
    mapping: 'gemeente',
    args: (_dir, base) => ['pseudonymize', ...base.slice(3)],
    expect: refused(2, undefined),
  },
];

describe('pseudonymize refuses or quarantines malformed input, never crashes or drops rows', {
  timeout: 60_000,
}, () => {
  let root: string;
  let keysDir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-malformed-'));
    keysDir = join(root, 'keys');
    await mkdir(keysDir, { mode: 0o700 });
    await createKeyFile(join(keysDir, 'source.key'), 'source', 'malformed-src');
    await createKeyFile(join(keysDir, 'ttp.key'), 'ttp', 'malformed-ttp');
    const good = JSON.parse(await readFile(join(keysDir, 'source.key'), 'utf8')) as Record<string, string>;
    const keyFile = async (name: string, text: string, mode = 0o600) => {
      await writeFile(join(keysDir, name), text, { mode });
      await chmod(join(keysDir, name), mode);
    };
    await keyFile('short.key', JSON.stringify({ ...good, key: Buffer.alloc(16, 7).toString('base64') }));
    await keyFile('hex.key', JSON.stringify({ ...good, key: Buffer.from(good.key!, 'base64').toString('hex') }));
    await keyFile('loose.key', JSON.stringify(good), 0o644);
    await keyFile('garbage.key', 'this is not a key');
    await keyFile('extra.key', JSON.stringify({ ...good, comment: 'from the old system' }));
    duck = await Duck.open({ threads: 1 });
  });
  afterAll(async () => {
    duck?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('covers at least 50 kinds of malformed input', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, testCase, index) => {
    const dir = join(root, `case-${index}`);
    await mkdir(dir);
    for (const [name, content] of Object.entries(testCase.files ?? {})) await writeCaseFile(dir, name, content);
    const inputs = (testCase.inputs ?? Object.keys(testCase.files ?? {}).filter((f) => f !== 'mapping.json')).map((f) =>
      join(dir, f),
    );
    const out = join(dir, 'out');
    const mapping =
      testCase.mapping === undefined || testCase.mapping === 'none'
        ? []
        : ['--mapping', testCase.mapping === 'gemeente' ? GEMEENTE_MAPPING : join(dir, testCase.mapping)];
    const base = [
      'pseudonymize',
      '--key',
      join(keysDir, testCase.key ?? 'source.key'),
      '--source',
      'rotterdam',
      ...mapping,
      '--input',
      ...inputs,
      '--out',
      out,
    ];
    const args = testCase.args?.(dir, base) ?? base;
    const result = await runInProcess(args);

    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(result.stderr).not.toContain('internal error');
    const expected = testCase.expect;
    if ('exit' in expected) {
      expect(result.code, result.stderr).toBe(expected.exit);
      if (expected.code !== undefined) expect(result.stderr).toContain(`[${expected.code}]`);
      for (const m of expected.mentions) expect(result.stderr).toContain(m);
      await expectNothingLeftBeside(out);
      expect(await exists(join(dir, 'out.quarantine', 'quarantine.csv'))).toBe(false);
      return;
    }
    expect(result.code, result.stderr).toBe(0);
    const quarantine = await readQuarantine(duck, join(dir, 'out.quarantine', 'quarantine.csv'));
    const manifest = await expectRowsAccountedFor(duck, out, quarantine);
    expect(Object.fromEntries(manifest.accounting.map((a) => [a.scope, a.rowsIn]))).toEqual(expected.rowsIn);
    expect(quarantine.map((q) => [q.file, q.row, q.column === '' ? null : q.column, q.rule])).toEqual(
      expected.quarantined,
    );
    for (const q of quarantine) expect(q.message.length).toBeGreaterThan(0);
    await expected.then?.(out);
  });
});

async function writeCaseFile(
  dir: string,
  name: string,
  content: Buffer | { parquetSql: string } | { directory: true },
): Promise<void> {
  const path = join(dir, name);
  if (Buffer.isBuffer(content)) return writeFile(path, content);
  if ('directory' in content) return void (await mkdir(path));
  if (content.parquetSql === 'TRUNCATE' || content.parquetSql === 'CORRUPT') {
    const whole = join(dir, `whole-${name}`);
    const rows = Array.from(
      { length: 2000 },
      (_, i) =>
        `('${String(100000000 + i)}', 'E${i}', DATE '2020-01-01' + ${i % 400}, NULL::DATE, 'permanent', ${(i % 40) + 1}.5, ${(i % 30) + 12}.25)`,
    ).join(', ');
    await duck.run(
      `COPY (SELECT * FROM (VALUES ${rows}) AS ${JOBS_COLUMNS}) TO ${sqlString(whole)} (FORMAT parquet, COMPRESSION uncompressed)`,
    );
    const bytes = await readFile(whole);
    await rm(whole);
    if (content.parquetSql === 'TRUNCATE') return writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    // Overwrite the middle of the data pages; the footer (and so the schema) still reads.
    const corrupt = Buffer.from(bytes);
    for (let i = 8; i < Math.floor(corrupt.length * 0.7); i += 3) corrupt[i] = 0xff;
    return writeFile(path, corrupt);
  }
  await duck.run(`COPY (${content.parquetSql}) TO ${sqlString(path)} (FORMAT parquet)`);
}
