import { chmod, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { LoadedKey } from '../../keys/keyFile.js';
import { mappingFile, type CanonicalTable, type MappingFile } from '../../schemas/mapping.js';
import { Duck, sqlString } from '../core/duckdb.js';
import { DataError } from '../core/errors.js';
import { readJsonFile } from '../core/jsonFile.js';
import { log } from '../core/log.js';
import { StageOutput } from '../core/stageOutput.js';
import { takesClientsFallback } from './fileChecks.js';
import { profileOf, type FileProfile } from './fileProfile.js';
import { BSN_STATUSES, PseudonymFunctions, REPAIRED_CODE } from './pseudonymFunctions.js';
import { createClientsFallback, createEmptyQuarantine, createQuarantine, writeQuarantine } from './quarantine.js';
import { explainUnreadableInput, inputLabels, loadInputFile, type InputFile } from './inputFiles.js';
import { outputRows, TABLE_ORDER } from './outputTables.js';
import { roundSeconds } from '../core/elapsed.js';
import { digestFile } from '../core/fileDigest.js';
import { vectorFunctionTime } from '../core/vectorFunction.js';

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
 * schemas, replace BSNs by P1 (or F1) hashed inside the scan that writes the
 * output (once per distinct value of each row group),
 * drop direct identifiers, coarsen, and write one Parquet file per table.
 */
export async function pseudonymize(options: PseudonymizeOptions): Promise<PseudonymizeResult> {
  const mapping = options.mappingPath === undefined ? undefined : await readMapping(options.mappingPath);
  const output = await StageOutput.create({
    stage: 'pseudonymize',
    outDir: options.outDir,
    parameters: {
      source: options.source,
      inputs: inputLabels(options.inputs),
      mapping: options.mappingPath === undefined ? null : basename(options.mappingPath),
    },
  });
  const quarantineDir = quarantineDirFor(output.outDir);
  const quarantineFile = join(quarantineDir, 'quarantine.csv');
  const quarantineTemp = join(quarantineDir, `.quarantine.csv.tmp-${process.pid}`);
  // Scratch files hold BSNs (transcoded CSV exports, DuckDB's spill files) until they are deleted: owner only.
  await chmod(output.scratchDir, 0o700);
  // The inputs' checksums for the manifest are computed while DuckDB works, on the JS thread it leaves mostly idle.
  const inputDigests = options.inputs.map((path) => digestFile(path));
  for (const digest of inputDigests) digest.catch(() => undefined);
  const duck = await Duck.open({ tempDirectory: join(output.scratchDir, 'duckdb') });
  try {
    const labels = inputLabels(options.inputs);
    const files: InputFile[] = [];
    for (const [index, path] of options.inputs.entries()) {
      const file = await loadInputFile(duck, path, index, labels[index]!, mapping, output.scratchDir);
      log().info(
        { file: file.label, table: file.table, format: file.format, dropped: file.droppedHeaders.length },
        'input recognised',
      );
      files.push(file);
    }
    const byTable = (table: CanonicalTable) => files.filter((f) => f.table === table);
    const pseudonyms = PseudonymFunctions.register(duck, options.key.bytes());

    let stepStarted = process.hrtime.bigint();
    let stepCpu = process.cpuUsage();
    // CPU time beside wall time: on a shared machine it is the steadier measure of what a step costs.
    const stepDone = (step: string) => {
      const now = process.hrtime.bigint();
      const cpu = process.cpuUsage(stepCpu);
      const inFunctions = {
        seconds: roundSeconds(Number(vectorFunctionTime.nanoseconds) / 1e9),
        calls: vectorFunctionTime.calls,
        values: vectorFunctionTime.values,
      };
      log().debug(
        {
          step,
          seconds: roundSeconds(Number(now - stepStarted) / 1e9),
          cpuSeconds: roundSeconds((cpu.user + cpu.system) / 1e6),
          inFunctions,
        },
        'pseudonymize step done',
      );
      Object.assign(vectorFunctionTime, { nanoseconds: 0n, calls: 0, values: 0 });
      stepStarted = now;
      stepCpu = process.cpuUsage();
    };

    // 1. One scan per file profiles it: rows per BSN status (for the summary), whether any row breaks a schema rule,
    //    and a hash of each row for the duplicate check. A file that the profile shows clean is not scanned for its
    //    quarantine at all (the holder's files usually are).
    const profiles = new Map<number, FileProfile>();
    for (const file of files) {
      profiles.set(file.index, await profileOf(duck, file));
      stepDone(`profile ${file.label}`);
    }

    // 2. Quarantine per file: the first rule each row breaks (schemas/inputs.ts), a BSN without a way to pseudonymize
    //    the row, or a repeated row. Clients come first: benefits and interventions without a valid BSN take F1 from
    //    the clients row with the same raw BSN value.
    const accounting = new Map<number, FileAccounting>();
    const quarantineOf = async (file: InputFile) => {
      const profile = profiles.get(file.index)!;
      if (profile.mayQuarantine) await createQuarantine(duck, file);
      else await createEmptyQuarantine(duck, file);
      const rules = await duck.jsonRows<{ rule: string; n: number }>(
        `SELECT rule, count(*) AS n FROM q_${file.index} GROUP BY rule ORDER BY rule`,
      );
      accounting.set(file.index, { rowsIn: profile.rowsIn, byRule: new Map(rules.map((r) => [r.rule, Number(r.n)])) });
    };
    for (const file of files) if (!takesClientsFallback(file)) await quarantineOf(file);
    await createClientsFallback(duck, byTable('clients'));
    await pseudonyms.useClientsFallback(`SELECT raw, f1 FROM clients_f1 WHERE NOT ambiguous`);
    for (const file of files) if (takesClientsFallback(file)) await quarantineOf(file);
    // The output pass skips a file's quarantined rows through a filter; a file without any needs none.
    const heldBack = new Map<number, string>();
    for (const file of files) {
      const entry = accounting.get(file.index)!;
      if (quarantinedIn(entry) > 0)
        heldBack.set(
          file.index,
          await pseudonyms.holdBack(file.index, `SELECT row_no FROM q_${file.index}`, entry.rowsIn),
        );
    }
    stepDone('quarantine');

    // 3. The outputs per table: each row that passed, pseudonymized inside the scan, in input order. The tables are
    //    written at the same time, each on a connection of its own: while one waits for the pseudonym functions on
    //    the JS thread, DuckDB's threads encode another (the holder's persons and jobs at national: 50 s → 46 s).
    const written = await Promise.all(
      TABLE_ORDER.filter((table) => byTable(table).length > 0).map(async (table) => {
        const target = await output.file(`${table}.parquet`);
        // One table scanned, filtered and projected, and UNION ALL of such: DuckDB keeps their row order
        // (docs: "Order Preservation"), so the same inputs and key give byte-identical files without a sort.
        const rows = byTable(table)
          .map((f) => outputRows(f, heldBack.get(f.index)))
          .join(' UNION ALL ');
        const writer = await duck.sibling();
        try {
          await writer.run(`COPY (${rows}) TO ${sqlString(target)} (${OUTPUT_PARQUET})`);
        } finally {
          writer.close();
        }
        return { table, target };
      }),
    );
    stepDone('write');
    const tables: Partial<Record<CanonicalTable, TableSummary>> = {};
    for (const { table, target } of written) {
      const tableFiles = byTable(table);
      tables[table] = await summarise(duck, target, tableFiles, accounting);
      const rows = tables[table].rows;
      const expected = tableFiles.reduce((sum, f) => sum + rowsOutOf(accounting.get(f.index)!), 0);
      if (rows !== expected)
        throw new Error(`row accounting of ${table} does not add up (${rows} written, ${expected} expected)`);
    }

    await writeQuarantine(duck, files, quarantineDir, quarantineTemp);
    const quarantined = [...accounting.values()].reduce((sum, entry) => sum + quarantinedIn(entry), 0);

    for (const file of files) {
      const entry = accounting.get(file.index)!;
      const rowsQuarantined = quarantinedIn(entry);
      await output.addInputFile(file.path, entry.rowsIn, inputDigests[file.index]);
      output.addAccounting({
        scope: file.label,
        rowsIn: entry.rowsIn,
        rowsOut: entry.rowsIn - rowsQuarantined,
        rowsQuarantined,
        quarantinedByReason: Object.fromEntries(entry.byRule),
      });
    }
    if (options.mappingPath !== undefined) await output.addInputFile(options.mappingPath, null);
    output.addKey({
      role: 'source',
      keyId: options.key.keyId,
      fingerprint: options.key.fingerprint,
      use: 'pseudonymize',
    });
    output.setSummary('source', options.source);
    output.setSummary('tables', tables);
    output.setSummary(
      'inputs',
      files.map((f) => ({ file: f.label, table: f.table, format: f.format, droppedColumns: f.droppedHeaders })),
    );
    output.setSummary('quarantine', {
      location: `${basename(output.outDir)}.quarantine/quarantine.csv`,
      rows: quarantined,
    });
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

/** One input file's rows in, and its quarantined rows by rule. */
interface FileAccounting {
  readonly rowsIn: number;
  readonly byRule: ReadonlyMap<string, number>;
}

function quarantinedIn(entry: FileAccounting): number {
  return [...entry.byRule.values()].reduce((sum, n) => sum + n, 0);
}

function rowsOutOf(entry: FileAccounting): number {
  return entry.rowsIn - quarantinedIn(entry);
}

/** A mapping file (schemas/mapping.ts), parsed once; every problem names the file, field and rule. */
export async function readMapping(path: string): Promise<MappingFile> {
  return readJsonFile(path, mappingFile, {
    code: 'MAPPING_INVALID',
    rule: 'mapping',
    what: 'mapping file',
    hint: 'see examples/mappings/gemeente.json',
    unreadable: (missing, reason) =>
      DataError.single('MAPPING_MISSING', {
        file: missing,
        rule: 'mapping.read',
        message: `cannot read the mapping file (${reason})`,
      }),
  });
}

async function summarise(
  duck: Duck,
  target: string,
  files: readonly InputFile[],
  accounting: ReadonlyMap<number, FileAccounting>,
): Promise<TableSummary> {
  const byStatus = await duck.jsonRows<{ id_status: string; n: number }>(
    `SELECT id_status, count(*) AS n FROM read_parquet(${sqlString(target)}) GROUP BY 1`,
  );
  const count = (s: string) => Number(byStatus.find((r) => r.id_status === s)?.n ?? 0);
  const inputs = await duck.jsonRows<{ code: number; n: number }>(
    `SELECT code, sum(n) AS n FROM (${files.map((f) => `SELECT code, n FROM bsn_status_${f.index}`).join(' UNION ALL ')}) GROUP BY 1`,
  );
  const missing = inputs.filter((r) => BSN_STATUSES[r.code] === 'missing').reduce((s, r) => s + Number(r.n), 0);
  const invalid = inputs
    .filter((r) => r.code > REPAIRED_CODE && BSN_STATUSES[r.code] !== 'missing')
    .reduce((s, r) => s + Number(r.n), 0);
  const duplicates = files.reduce((s, f) => s + (accounting.get(f.index)?.byRule.get('duplicate_row') ?? 0), 0);
  return {
    rows: count('bsn') + count('bsn_repaired') + count('fallback'),
    bsn: count('bsn'),
    bsn_repaired: count('bsn_repaired'),
    fallback: count('fallback'),
    invalid_bsn: invalid,
    missing_bsn: missing,
    duplicates,
  };
}
