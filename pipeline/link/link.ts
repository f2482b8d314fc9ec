import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoadedKey } from '../../keys/keyFile.js';
import { projectKey } from '../../keys/pseudonyms.js';
import { Duck, fillSql, sqlString } from '../core/duckdb.js';
import { DataError } from '../core/errors.js';
import { log } from '../core/log.js';
import { besideModule } from '../core/projectPath.js';
import { StageOutput } from '../core/stageOutput.js';
import {
  buildLinkageReport,
  linkAccounting,
  type FileLinkCounts,
  type HolderCounts,
  type LinkageReport,
  type PersonCounts,
} from './linkageReport.js';
import { openLinkInputs, type LinkInputs } from './linkInputs.js';
import { assignResearchPseudonyms } from './researchPseudonyms.js';
import { checkSourceColumns, createSourceViews } from './sourceViews.js';
import { roundSeconds } from '../core/elapsed.js';

export interface LinkOptions {
  readonly keyFile: string;
  readonly project: string;
  readonly inputs: readonly string[];
  readonly out: string;
  /** DuckDB memory limit, e.g. '4GB'; beyond it DuckDB spills to the scratch folder beside the output. */
  readonly memoryLimit?: string;
}

export interface LinkResult {
  readonly outDir: string;
  readonly reportPath: string;
  readonly report: LinkageReport;
}

export const LINKAGE_REPORT_FILE = 'linkage-report.json';
export const LINKED_FILES = ['clients', 'benefits', 'interventions', 'persons', 'jobs'] as const;

/** The SQL link runs, in order; the benchmark runs the same files directly. */
export const LINK_SQL = {
  identityLinks: besideModule(import.meta.url, 'identityLinks.sql'),
  recordLinks: besideModule(import.meta.url, 'recordLinks.sql'),
  writeLinked: besideModule(import.meta.url, 'writeLinked.sql'),
  linkageCounts: besideModule(import.meta.url, 'linkageCounts.sql'),
  personCounts: besideModule(import.meta.url, 'personCounts.sql'),
  holderCounts: besideModule(import.meta.url, 'holderCounts.sql'),
} as const;

/**
 * `boldlink link`: the trusted third party links the municipalities'
 * pseudonymized records to the microdata holder's persons and jobs, replaces
 * source pseudonyms by project pseudonyms (RID) and writes the linked dataset
 * with its linkage quality report. Every refusal happens before anything is
 * written.
 */
export async function runLink(options: LinkOptions): Promise<LinkResult> {
  const phase = phaseTimer();
  const ttpKey = await LoadedKey.load(options.keyFile, 'ttp');
  const inputs = await openLinkInputs(options.inputs, ttpKey);
  phase('inputs verified');
  const footers = await Duck.open({ threads: 1 });
  try {
    await checkSourceColumns(footers, inputs);
  } finally {
    footers.close();
  }

  const output = await StageOutput.create({
    stage: 'link',
    outDir: options.out,
    parameters: {
      project: options.project,
      holder: inputs.holder.source,
      municipalities: inputs.municipalities.map((m) => m.municipality),
    },
  });
  try {
    const duck = await Duck.open({
      tempDirectory: output.scratchDir,
      ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
    });
    let counts: { files: FileLinkCounts[]; persons: PersonCounts; holder: HolderCounts };
    try {
      const outPaths: Record<string, string> = {};
      for (const name of LINKED_FILES) outPaths[`${name}Out`] = sqlString(await output.file(`${name}.parquet`));
      counts = await runLinkSql(duck, inputs, ttpKey, options.project, output.scratchDir, outPaths, phase);
    } catch (error) {
      throw outOfMemoryAsDataError(error, options.memoryLimit);
    } finally {
      duck.close();
    }
    const report = buildLinkageReport(options.project, inputs, counts.files, counts.persons, counts.holder);
    await writeFile(await output.file(LINKAGE_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`, { mode: 0o644 });
    output.addStageInput(inputs.holder.input);
    for (const m of inputs.municipalities) output.addStageInput(m.input);
    output.addKey({ role: 'ttp', keyId: ttpKey.keyId, fingerprint: ttpKey.fingerprint, use: 'link' });
    output.addKey(inputs.sourceKey);
    for (const entry of linkAccounting(report, counts.holder)) output.addAccounting(entry);
    output.setSummary('linkage', report);
    phase('report written');
    await output.commit();
    phase('output committed');
    log().info(
      { stage: 'link', municipalities: inputs.municipalities.length, persons: report.persons.linked },
      'linked',
    );
    return { outDir: output.outDir, reportPath: join(output.outDir, LINKAGE_REPORT_FILE), report };
  } catch (error) {
    await output.abandon();
    throw error;
  }
}

async function runLinkSql(
  duck: Duck,
  inputs: LinkInputs,
  ttpKey: LoadedKey,
  project: string,
  scratchDir: string,
  outPaths: Record<string, string>,
  phase: (name: string) => void,
): Promise<{ files: FileLinkCounts[]; persons: PersonCounts; holder: HolderCounts }> {
  await createSourceViews(duck, inputs);
  await duck.runFile(LINK_SQL.identityLinks);
  phase('identities resolved');
  const projKey = projectKey(ttpKey.bytes(), project);
  try {
    await assignResearchPseudonyms(duck, projKey, scratchDir);
  } finally {
    projKey.fill(0);
  }
  phase('RIDs assigned');
  await duck.runFile(LINK_SQL.recordLinks);
  await duck.runFile(LINK_SQL.writeLinked, outPaths);
  phase('linked files written');
  return {
    files: (await queryFile<FileLinkCounts>(duck, LINK_SQL.linkageCounts)).map(numbers),
    persons: numbers(
      (await queryFile<PersonCounts>(duck, LINK_SQL.personCounts))[0] ?? {
        linked_persons: 0,
        in_several_municipalities: 0,
      },
    ),
    holder: numbers(await oneRow<HolderCounts>(duck, LINK_SQL.holderCounts)),
  };
}

/** DuckDB spills joins and sorts to disk, but a limit far below its working set still fails: say what to do. */
function outOfMemoryAsDataError(error: unknown, memoryLimit: string | undefined): unknown {
  if (!(error instanceof Error) || !error.message.startsWith('Out of Memory Error')) return error;
  const limit = memoryLimit ?? process.env.BOLDLINK_MEMORY_LIMIT ?? "DuckDB's default";
  return new DataError(
    'LINK_OUT_OF_MEMORY',
    `Linking ran out of memory under the memory limit (${limit}), even spilling to disk. Raise --memory-limit (a few hundred MB suffices for a city, a few GB for the whole country) or lower BOLDLINK_THREADS. Nothing was written.`,
    [],
    { cause: error },
  );
}

/** Debug-level timings per phase, for finding where a slow run spends its time. */
function phaseTimer(): (name: string) => void {
  let last = process.hrtime.bigint();
  return (name) => {
    const now = process.hrtime.bigint();
    log().debug({ stage: 'link', phase: name, seconds: roundSeconds(Number(now - last) / 1e9) }, 'phase done');
    last = now;
  };
}

async function queryFile<T>(duck: Duck, path: string): Promise<T[]> {
  return duck.jsonRows<T>(fillSql(await readFile(path, 'utf8'), {}));
}

async function oneRow<T>(duck: Duck, path: string): Promise<T> {
  const row = (await queryFile<T>(duck, path))[0];
  if (row === undefined) throw new Error(`${path} returned no row`);
  return row;
}

/** DuckDB counts are BIGINT; as JSON they may arrive as strings. */
function numbers<T>(row: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row as Record<string, unknown>))
    out[k] = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  return out as T;
}
