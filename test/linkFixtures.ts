import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createKeyFile, LoadedKey } from '../keys/keyFile.js';
import { fallbackPseudonym, sourcePseudonym } from '../keys/pseudonyms.js';
import { Duck, sqlIdent, sqlString } from '../pipeline/core/duckdb.js';
import { StageOutput } from '../pipeline/core/stageOutput.js';
import { AS_DELIVERED, SOURCE_COLUMNS, type SourceTable } from '../pipeline/link/sourceTables.js';
import { parseBsn } from '../schemas/bsn.js';

/**
 * Hand-made pseudonymize outputs (docs/contracts.md, pseudonymize → link),
 * written the way the pseudonymize stage writes them: StageOutput, one
 * Parquet file per table, the source key in the manifest.
 */

export interface Person {
  readonly bsn: string;
  readonly birthDate: string;
  readonly sex: 'M' | 'F';
  readonly postcode: string;
  readonly houseNumber: string;
}

export type Row = Record<string, string | number | null>;

export async function newKey(dir: string, name: string, role: 'source' | 'ttp'): Promise<LoadedKey> {
  const file = join(dir, `${name}.key`);
  await createKeyFile(file, role, name);
  return LoadedKey.load(file);
}

/** A key file with the given role around another key's bytes: how a TTP that reuses K_src would look. */
export async function keyFileWithBytes(
  dir: string,
  name: string,
  role: 'source' | 'ttp',
  bytes: Uint8Array,
): Promise<string> {
  const file = join(dir, `${name}.key`);
  const contents = {
    format: 'boldlink-key/v1',
    role,
    keyId: name,
    created: new Date().toISOString(),
    key: Buffer.from(bytes).toString('base64'),
  };
  await writeFile(file, JSON.stringify(contents), { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

export function p1Of(key: LoadedKey, person: Person): string {
  const parsed = parseBsn(person.bsn);
  if (!parsed.ok) throw new Error('fixture BSN must be valid');
  return sourcePseudonym(key.bytes(), parsed.bsn);
}

export function f1Of(key: LoadedKey, person: Person): string {
  return fallbackPseudonym(key.bytes(), {
    birthDate: person.birthDate,
    sex: person.sex,
    postcode: person.postcode,
    houseNumber: person.houseNumber,
  });
}

export function birthMonth(person: Person): string {
  return `${person.birthDate.slice(0, 7)}-01`;
}

/** Identity columns of a municipal record: P1 when its BSN is valid, else F1 only. */
export function identified(key: LoadedKey, person: Person, how: 'bsn' | 'fallback'): Row {
  return how === 'bsn'
    ? { p1: p1Of(key, person), f1: null, id_status: 'bsn' }
    : { p1: null, f1: f1Of(key, person), id_status: 'fallback' };
}

function literal(value: string | number | null, type: string): string {
  if (value === null) return 'NULL';
  const text = typeof value === 'number' ? String(value) : sqlString(value);
  return type === AS_DELIVERED ? text : `CAST(${text} AS ${type})`;
}

/** Write one pseudonymize stage directory for `source` with the given tables. */
export async function writePseudonymized(
  outDir: string,
  source: string,
  key: LoadedKey,
  tables: Partial<Record<SourceTable, readonly Row[]>>,
  summary: Record<string, unknown> = {},
): Promise<string> {
  const output = await StageOutput.create({ stage: 'pseudonymize', outDir, parameters: { source } });
  const duck = await Duck.open({ threads: 1 });
  try {
    for (const [table, rows] of Object.entries(tables) as [SourceTable, readonly Row[]][]) {
      const columns = Object.entries(SOURCE_COLUMNS[table]).map(([name, type]) => ({
        name,
        type: type === AS_DELIVERED ? 'VARCHAR' : type,
      }));
      await duck.run(`CREATE OR REPLACE TABLE t (${columns.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')})`);
      for (const row of rows) {
        await duck.run(`INSERT INTO t VALUES (${columns.map((c) => literal(row[c.name] ?? null, c.type)).join(', ')})`);
      }
      await duck.run(`COPY t TO ${sqlString(await output.file(`${table}.parquet`))} (FORMAT parquet)`);
    }
  } finally {
    duck.close();
  }
  output.addKey({ role: 'source', keyId: key.keyId, fingerprint: key.fingerprint, use: 'pseudonymize' });
  output.setSummary('tables', summary);
  await output.commit();
  return outDir;
}
