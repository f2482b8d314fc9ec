import { chmod, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { F1_PREFIX, P1_PREFIX } from '../../keys/batchPseudonyms.js';
import type { LoadedKey } from '../../keys/keyFile.js';
import { mappingFile, type CanonicalTable, type MappingFile } from '../../schemas/mapping.js';
import { Duck, sqlIdent, sqlString } from '../core/duckdb.js';
import { DataError, outputErrorFrom } from '../core/errors.js';
import { log } from '../core/log.js';
import { besideModule } from '../core/projectPath.js';
import { StageOutput } from '../core/stageOutput.js';
import { hashDistinct } from './hashDistinct.js';
import { explainUnreadableInput, inputLabels, loadInputFile, STRPTIME_FORMAT, type InputFile } from './inputFiles.js';
import { OUTPUT_COLUMNS, TABLE_ORDER } from './outputTables.js';
import { deriveChecks, identifierColumn, ruleMessageSql } from './rowChecks.js';
import { roundSeconds } from '../core/elapsed.js';

export interface PseudonymizeOptions {
  readonly key: LoadedKey;
  readonly source: string;
  readonly mappingPath?: string;
  readonly inputs: readonly string[];
  readonly outDir: string;
}

export interface TableSummary {
  rows: number;
  bsn: number;
  bsn_repaired: number;
  fallback: number;
  invalid_bsn: number;
  missing_bsn: number;
  duplicates: number;
}

export interface PseudonymizeResult {
  readonly outDir: string;
  readonly quarantineFile: string;
  readonly quarantined: number;
  readonly tables: Partial<Record<CanonicalTable, TableSummary>>;
}

/** Where the quarantine of an output goes: beside it, never inside (it stays at the source). */
export function quarantineDirFor(outDir: string): string {
  const absolute = resolve(outDir);
  return join(dirname(absolute), `${basename(absolute)}.quarantine`);
}

const VALID = `('valid', 'repaired')`;

/**
 * How the output tables are written. P1 is 32 random hex characters, and encoding plus compressing it is most of the
 * write (measured on 5.5M jobs rows). lz4 or snappy would save some CPU but double the file that travels to the TTP.
 * zstd level 1 instead of DuckDB's default 3 took about a third less CPU for the write of city jobs in interleaved
 * rounds, and the file came out no larger (64 MB against 66 MB). The dictionary stays on: the holder's rows come
 * grouped by person, so P1 repeats within a row group and the dictionary pays (without it: 79 MB).
 */
const OUTPUT_PARQUET = `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1`;

/**
 * `boldlink pseudonymize`: read a source's exports, quarantine what breaks the
 * schemas, replace BSNs by P1 (or F1) hashed once per distinct identifier,
 * drop direct identifiers, coarsen, and write one Parquet file per table.
 */
export async function pseudonymize(options: PseudonymizeOptions): Promise<PseudonymizeResult> {
  const mapping = options.mappingPath === undefined ? undefined : await readMapping(options.mappingPath);
  const output = await StageOutput.create({
    stage: 'pseudonymize',
    outDir: options.outDir,
    parameters: { source: options.source, inputs: inputLabels(options.inputs), mapping: options.mappingPath === undefined ? null : basename(options.mappingPath) },
  });
  const quarantineDir = quarantineDirFor(output.outDir);
  const quarantineFile = join(quarantineDir, 'quarantine.csv');
  const quarantineTemp = join(quarantineDir, `.quarantine.csv.tmp-${process.pid}`);
  // Scratch files hold BSNs (distinct values, transcoded exports) until they are deleted: owner only.
  await chmod(output.scratchDir, 0o700);
  const duck = await Duck.open({ tempDirectory: join(output.scratchDir, 'duckdb') });
  try {
    const labels = inputLabels(options.inputs);
    const files: InputFile[] = [];
    for (const [index, path] of options.inputs.entries()) {
      const file = await loadInputFile(duck, path, index, labels[index]!, mapping, output.scratchDir);
      log().info({ file: file.label, table: file.table, format: file.format, dropped: file.droppedHeaders.length }, 'input recognised');
      files.push(file);
    }
    const byTable = (table: CanonicalTable) => files.filter((f) => f.table === table);
    // The BSN as delivered is the join key, untrimmed: trimming 5 million values costs more than the scan, and the
    // canonicalisation strips whitespace from each distinct value anyway (bsn_ids carries the trimmed form).
    const bsnKey = (file: InputFile) => `COALESCE(CAST(s.${sqlIdent(identifierColumn(file.table))} AS VARCHAR), '')`;

    // 1. Every distinct raw BSN: canonicalise, hash each valid one once.
    let stepStarted = process.hrtime.bigint();
    let stepCpu = process.cpuUsage();
    // CPU time beside wall time: on a shared machine it is the steadier measure of what a step costs.
    const stepDone = (step: string) => {
      const now = process.hrtime.bigint();
      const cpu = process.cpuUsage(stepCpu);
      log().debug({ step, seconds: roundSeconds(Number(now - stepStarted) / 1e9), cpuSeconds: roundSeconds((cpu.user + cpu.system) / 1e6) }, 'pseudonymize step done');
      stepStarted = now;
      stepCpu = process.cpuUsage();
    };
    // Rows per raw BSN value and file: the distinct values to canonicalise, and the summary's BSN counts without another scan.
    for (const f of files) await duck.run(`CREATE OR REPLACE TEMP TABLE bsn_counts_${f.index} AS SELECT ${bsnKey(f)} AS raw, count(*) AS n FROM ${f.relation} s GROUP BY 1`);
    // Distinct per file already; UNION (not ALL) makes them distinct across files.
    await duck.runFile(besideModule(import.meta.url, 'canonicalBsn.sql'), {
      rawValues: files.map((f) => `SELECT raw FROM bsn_counts_${f.index}`).join(' UNION '),
    });
    await hashDistinct(duck, options.key.bytes(), P1_PREFIX, `SELECT DISTINCT bsn AS message FROM bsn_canonical WHERE bsn IS NOT NULL`, output.scratchDir, 'p1_hashes');
    await duck.run(`CREATE OR REPLACE TEMP TABLE bsn_ids AS SELECT c.raw, trim(c.raw) AS trimmed, c.status, h.pseudonym AS p1 FROM bsn_canonical c LEFT JOIN p1_hashes h ON h.message = c.bsn`);
    stepDone('bsn');

    // 2. Per file: exact duplicates, then the schema checks derived from schemas/inputs.ts.
    // The quarantine pass needs a row's BSN only when it is not valid: its views join that short list instead of
    // every distinct BSN with its P1, which makes the probe of each of millions of rows cheap.
    await duck.run(`CREATE OR REPLACE TEMP TABLE bsn_ids_not_valid AS SELECT * FROM bsn_ids WHERE status NOT IN ${VALID}`);
    for (const file of files) {
      await findDuplicates(duck, file);
      await createCheckedView(duck, file, bsnKey(file), 'output');
      await createCheckedView(duck, file, bsnKey(file), 'quarantine');
    }
    stepDone('duplicates');

    // 3. F1 for the tables that carry the fallback fields, hashed once per distinct message.
    const withFallbackFields = [...byTable('clients'), ...byTable('persons')];
    const fallbackMessages = withFallbackFields.map(
      (f) => `SELECT fallback_message AS message FROM chkq_${f.index} WHERE failure IS NULL AND ${f.table === 'persons' ? 'TRUE' : `bsn_status NOT IN ${VALID}`}`,
    );
    if (fallbackMessages.length > 0) {
      await hashDistinct(duck, options.key.bytes(), F1_PREFIX, `SELECT DISTINCT message FROM (${fallbackMessages.join(' UNION ALL ')})`, output.scratchDir, 'f1_hashes');
    } else {
      await duck.run(`CREATE OR REPLACE TEMP TABLE f1_hashes (message VARCHAR, pseudonym VARCHAR)`);
    }
    for (const file of withFallbackFields) for (const purpose of PURPOSES) await createFinalView(duck, file, purpose);

    // Benefits and interventions without a valid BSN take F1 from the clients row with the same raw BSN value.
    const clientsFallback = byTable('clients').map((f) => `SELECT bsn_raw, f1 FROM finq_${f.index} WHERE reason IS NULL AND id_status = 'fallback' AND bsn_raw <> ''`);
    await duck.run(
      clientsFallback.length > 0
        ? `CREATE OR REPLACE TEMP TABLE clients_f1 AS SELECT bsn_raw AS raw, CASE WHEN count(DISTINCT f1) = 1 THEN any_value(f1) END AS f1, count(DISTINCT f1) > 1 AS ambiguous FROM (${clientsFallback.join(' UNION ALL ')}) GROUP BY bsn_raw`
        : `CREATE OR REPLACE TEMP TABLE clients_f1 (raw VARCHAR, f1 VARCHAR, ambiguous BOOLEAN)`,
    );
    for (const file of files) if (file.table !== 'clients' && file.table !== 'persons') for (const purpose of PURPOSES) await createFinalView(duck, file, purpose);
    stepDone('fallback');

    // 4. Quarantine and accounting per file; then the outputs per table.
    const accounting = new Map<number, { rowsIn: number; byRule: Map<string, number> }>();
    for (const file of files) {
      await duck.run(`CREATE OR REPLACE TEMP TABLE q_${file.index} AS
        SELECT row_no, NULLIF(split_part(reason, '|', 1), '') AS "column", split_part(reason, '|', 2) AS rule FROM finq_${file.index} WHERE reason IS NOT NULL
        ${file.rejects !== null ? `UNION ALL SELECT row_no, NULL, rule FROM ${file.rejects}` : ''}`);
      const rowsIn = Number(await duck.scalar<bigint>(`SELECT count(*) FROM ${file.relation}`)) + (file.rejects !== null ? Number(await duck.scalar<bigint>(`SELECT count(*) FROM ${file.rejects}`)) : 0);
      const rules = await duck.jsonRows<{ rule: string; n: number }>(`SELECT rule, count(*) AS n FROM q_${file.index} GROUP BY rule ORDER BY rule`);
      accounting.set(file.index, { rowsIn, byRule: new Map(rules.map((r) => [r.rule, Number(r.n)])) });
    }

    stepDone('quarantine');
    const tables: Partial<Record<CanonicalTable, TableSummary>> = {};
    for (const table of TABLE_ORDER) {
      const tableFiles = byTable(table);
      if (tableFiles.length === 0) continue;
      const target = await output.file(`${table}.parquet`);
      const columns = OUTPUT_COLUMNS[table].join(', ');
      // Rows not quarantined (q_n holds every failing row, so the checks need not run twice), in input order,
      // so the same inputs and key give byte-identical files. Even for one input file the rows are sorted back:
      // the hash joins of fin_n do not keep the scan's order (test/malformed-fuzz and test/determinism see it;
      // switching off the join_order and build_side_probe_side optimizers for this statement did not keep it either).
      // The sort is about a quarter of this statement's CPU at city scale; sorting only the joined columns and putting
      // them back beside the scanned values with a POSITIONAL JOIN was measured and cost half again as much.
      const kept = (f: InputFile) => `FROM fin_${f.index} WHERE row_no NOT IN (SELECT row_no FROM q_${f.index})`;
      const rows =
        tableFiles.length === 1
          ? `SELECT ${columns} ${kept(tableFiles[0]!)} ORDER BY row_no`
          : `SELECT * EXCLUDE (input_index, input_row) FROM (${tableFiles.map((f) => `SELECT ${f.index} AS input_index, row_no AS input_row, ${columns} ${kept(f)}`).join(' UNION ALL ')}) ORDER BY input_index, input_row`;
      await duck.run(`COPY (${rows}) TO ${sqlString(target)} (${OUTPUT_PARQUET})`);
      stepDone(`write ${table}`);
      tables[table] = await summarise(duck, target, tableFiles, accounting);
      stepDone(`summarise ${table}`);
      const written = tables[table].rows;
      const expected = tableFiles.reduce((sum, f) => sum + rowsOutOf(accounting.get(f.index)!), 0);
      if (written !== expected) throw new Error(`row accounting of ${table} does not add up (${written} written, ${expected} expected)`);
    }

    await writeQuarantine(duck, files, quarantineDir, quarantineTemp);
    const quarantined = [...accounting.values()].reduce((sum, a) => sum + [...a.byRule.values()].reduce((s, n) => s + n, 0), 0);

    for (const file of files) {
      const entry = accounting.get(file.index)!;
      const rowsQuarantined = [...entry.byRule.values()].reduce((s, n) => s + n, 0);
      await output.addInputFile(file.path, entry.rowsIn);
      output.addAccounting({ scope: file.label, rowsIn: entry.rowsIn, rowsOut: entry.rowsIn - rowsQuarantined, rowsQuarantined, quarantinedByReason: Object.fromEntries(entry.byRule) });
    }
    if (options.mappingPath !== undefined) await output.addInputFile(options.mappingPath, null);
    output.addKey({ role: 'source', keyId: options.key.keyId, fingerprint: options.key.fingerprint, use: 'pseudonymize' });
    output.setSummary('source', options.source);
    output.setSummary('tables', tables);
    output.setSummary('inputs', files.map((f) => ({ file: f.label, table: f.table, format: f.format, droppedColumns: f.droppedHeaders })));
    output.setSummary('quarantine', { location: `${basename(output.outDir)}.quarantine/quarantine.csv`, rows: quarantined });
    duck.close();
    // The quarantine replaces any earlier one just before the output does, so the two always belong together.
    await rename(quarantineTemp, quarantineFile);
    await output.commit();
    return { outDir: output.outDir, quarantineFile, quarantined, tables };
  } catch (error) {
    try {
      duck.close();
    } catch {
      // already closed
    }
    await rm(quarantineTemp, { force: true });
    await output.abandon();
    throw await explainUnreadableInput(error, options.inputs);
  }
}

function rowsOutOf(entry: { rowsIn: number; byRule: Map<string, number> }): number {
  return entry.rowsIn - [...entry.byRule.values()].reduce((s, n) => s + n, 0);
}

async function readMapping(path: string): Promise<MappingFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw DataError.single('MAPPING_MISSING', { file: path, rule: 'mapping.read', message: `cannot read the mapping file (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw DataError.single('MAPPING_INVALID', { file: path, rule: 'mapping.json', message: 'the mapping file is not valid JSON' });
  }
  const parsed = mappingFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw DataError.single('MAPPING_INVALID', { file: path, rule: 'mapping.schema', message: `field '${issue?.path.join('.') ?? ''}': ${issue?.message ?? 'invalid'}` });
  }
  return parsed.data;
}

/** Exact duplicate rows (all canonical columns equal): the first is kept, later ones listed in dup_<n>. Hash first, compare exactly only within colliding hashes. */
async function findDuplicates(duck: Duck, file: InputFile): Promise<void> {
  const columns = [...file.columns.keys()].map((c) => `s.${sqlIdent(c)}`).join(', ');
  await duck.runFile(besideModule(import.meta.url, 'duplicateHashes.sql'), { table: `dup_hashes_${file.index}`, relation: file.relation, columns });
  // Most files have no repeated row at all: then the second scan, for the exact comparison, is not needed.
  if (Number(await duck.scalar<bigint>(`SELECT count(*) FROM dup_hashes_${file.index}`)) === 0) {
    await duck.run(`CREATE OR REPLACE TEMP TABLE dup_${file.index} (row_no BIGINT)`);
    return;
  }
  await duck.run(`CREATE OR REPLACE TEMP TABLE dup_${file.index} AS
    WITH candidates AS (SELECT s.* FROM ${file.relation} s WHERE hash(${columns}) IN (SELECT h FROM dup_hashes_${file.index})),
    numbered AS (SELECT s.row_no, row_number() OVER (PARTITION BY ${columns} ORDER BY s.row_no) AS copy FROM candidates s)
    SELECT row_no FROM numbered WHERE copy > 1`);
}

/**
 * The checked (chk_n → fin_n) and final views exist twice. For the quarantine (chkq_n → finq_n): every rule and the
 * reason a row fails, joined only with the BSN values that are not valid, the rest counting as valid (their P1 and
 * exact status do not decide whether a row is quarantined); the F1 messages and clients' F1 come from these too.
 * For the output: the values, joined with every distinct BSN and its P1, without the rules, since the output pass
 * keeps the rows not in q_n (computing the rules again cost about 0.5 s of CPU per 5M rows).
 */
type Purpose = 'output' | 'quarantine';
const PURPOSES: readonly Purpose[] = ['output', 'quarantine'];
const checkedView = (file: InputFile, purpose: Purpose) => `${purpose === 'output' ? 'chk' : 'chkq'}_${file.index}`;

async function createCheckedView(duck: Duck, file: InputFile, bsnKey: string, purpose: Purpose): Promise<void> {
  const checks = deriveChecks(file.table, file.columns, { dateFormat: STRPTIME_FORMAT[file.dialect.dateFormat], decimalComma: file.dialect.decimalComma, values: file.valueMaps }, 's');
  const valueOf = new Map(checks.columns.map((c) => [c.name, c.value]));
  const failures = [
    ...checks.columns.map((c) => c.failure),
    ...checks.dateOrder.map(({ start, end }) => `CASE WHEN ${valueOf.get(end)} < ${valueOf.get(start)} THEN ${sqlString(`${end}|date.order`)} END`),
  ];
  const hasFallbackFields = file.table === 'clients' || file.table === 'persons';
  // The F1 message after its "fallback:" prefix (the hasher adds the prefix): YYYY-MM-DD|sex|PC6|house number.
  const fallbackMessage = hasFallbackFields
    ? `, strftime(${valueOf.get('birth_date')}, '%Y-%m-%d') || '|' || ${valueOf.get('sex')} || '|' || upper(regexp_replace(${valueOf.get('postcode')}, '\\s', '', 'g')) || '|' || ${valueOf.get('house_number')} AS fallback_message`
    : '';
  await duck.run(`CREATE OR REPLACE TEMP VIEW ${checkedView(file, purpose)} AS
    SELECT s.row_no, COALESCE(b.trimmed, '') AS bsn_raw, COALESCE(b.status, ${purpose === 'output' ? `'missing'` : `'valid'`}) AS bsn_status, b.p1,
      ${checks.columns.map((c) => `${c.value} AS ${sqlIdent(c.name)}`).join(', ')}
      ${purpose === 'quarantine' ? `, COALESCE(${failures.join(', ')}) AS failure` : ''}${fallbackMessage}
    FROM ${file.relation} s LEFT JOIN ${purpose === 'output' ? 'bsn_ids' : 'bsn_ids_not_valid'} b ON b.raw = ${bsnKey}`);
}

async function createFinalView(duck: Duck, file: InputFile, purpose: Purpose): Promise<void> {
  const idStatus = `CASE c.bsn_status WHEN 'valid' THEN 'bsn' WHEN 'repaired' THEN 'bsn_repaired' ELSE 'fallback' END`;
  const duplicate = `CASE WHEN d.row_no IS NOT NULL THEN '|duplicate_row' END`;
  const valid = `c.bsn_status IN ${VALID}`;
  let f1: string;
  let identifierFailure: string;
  let joins: string;
  if (file.table === 'clients' || file.table === 'persons') {
    f1 = file.table === 'persons' ? 'f.pseudonym' : `CASE WHEN ${valid} THEN NULL ELSE f.pseudonym END`;
    // Fallback fields are required columns, so a row that passed the checks always has its F1.
    identifierFailure = 'NULL';
    joins = `LEFT JOIN f1_hashes f ON f.message = c.fallback_message`;
  } else if (file.table === 'benefits' || file.table === 'interventions') {
    f1 = `CASE WHEN ${valid} THEN NULL ELSE cf.f1 END`;
    identifierFailure = `CASE WHEN NOT ${valid} AND cf.f1 IS NULL THEN CASE WHEN cf.ambiguous THEN 'bsn|bsn.fallback_ambiguous' ELSE 'bsn|bsn.' || c.bsn_status END END`;
    joins = `LEFT JOIN clients_f1 cf ON cf.raw = c.bsn_raw AND c.bsn_status NOT IN ${VALID}`;
  } else {
    f1 = 'NULL::VARCHAR';
    identifierFailure = `CASE WHEN NOT ${valid} THEN 'bsn|bsn.' || c.bsn_status END`;
    joins = '';
  }
  if (purpose === 'output') {
    await duck.run(`CREATE OR REPLACE TEMP VIEW fin_${file.index} AS SELECT c.*, ${f1} AS f1, ${idStatus} AS id_status FROM ${checkedView(file, purpose)} c ${joins}`);
    return;
  }
  await duck.run(`CREATE OR REPLACE TEMP VIEW finq_${file.index} AS
    SELECT c.*, ${f1} AS f1, ${idStatus} AS id_status, COALESCE(c.failure, ${identifierFailure}, ${duplicate}) AS reason
    FROM ${checkedView(file, purpose)} c ${joins} LEFT JOIN dup_${file.index} d ON d.row_no = c.row_no`);
}

async function summarise(duck: Duck, target: string, files: readonly InputFile[], accounting: ReadonlyMap<number, { byRule: Map<string, number> }>): Promise<TableSummary> {
  const byStatus = await duck.jsonRows<{ id_status: string; n: number }>(`SELECT id_status, count(*) AS n FROM read_parquet(${sqlString(target)}) GROUP BY 1`);
  const count = (s: string) => Number(byStatus.find((r) => r.id_status === s)?.n ?? 0);
  const inputs = await duck.jsonRows<{ status: string; n: number }>(
    `SELECT status, sum(n) AS n FROM (${files.map((f) => `SELECT b.status, c.n FROM bsn_counts_${f.index} c JOIN bsn_canonical b ON b.raw = c.raw`).join(' UNION ALL ')}) GROUP BY 1`,
  );
  const missing = Number(inputs.find((r) => r.status === 'missing')?.n ?? 0);
  const invalid = inputs.filter((r) => r.status !== 'missing' && r.status !== 'valid' && r.status !== 'repaired').reduce((s, r) => s + Number(r.n), 0);
  const duplicates = files.reduce((s, f) => s + (accounting.get(f.index)?.byRule.get('duplicate_row') ?? 0), 0);
  return { rows: count('bsn') + count('bsn_repaired') + count('fallback'), bsn: count('bsn'), bsn_repaired: count('bsn_repaired'), fallback: count('fallback'), invalid_bsn: invalid, missing_bsn: missing, duplicates };
}

async function writeQuarantine(duck: Duck, files: readonly InputFile[], dir: string, temp: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const rows = files.map((f) => `SELECT ${sqlString(f.label)} AS file, ${f.index} AS file_index, row_no AS "row", "column", rule FROM q_${f.index}`).join(' UNION ALL ');
    await duck.run(`COPY (SELECT file, "row", "column", rule, ${ruleMessageSql('rule')} AS message FROM (${rows}) ORDER BY file_index, "row") TO ${sqlString(temp)} (FORMAT csv, HEADER true)`);
    await chmod(temp, 0o600);
  } catch (error) {
    throw outputErrorFrom(error, temp);
  }
}
