import { writeFile } from 'node:fs/promises';
import { Duck } from '../core/duckdb.js';
import { StageOutput } from '../core/stageOutput.js';
import type { StageInput } from '../core/stageInput.js';
import type { Rules } from '../../schemas/rules.js';
import type { BundleTable } from './bundleTable.js';
import type { DisclosureLogEntry } from './disclosureLog.js';
import { overallUtility, publicUtility, type TableUtility } from './releaseUtility.js';
import { renderReport } from './report.js';
import { DisclosureLogWriter, writeBundleTables, writeCatalogue } from './writeBundle.js';

export interface PublishRequest {
  readonly stage: 'release' | 'protect';
  readonly outDir: string;
  readonly parameters: Record<string, unknown>;
  readonly rules: Rules;
  readonly rulesFile: string;
  readonly tables: readonly BundleTable[];
  /** What the release gives researchers, per table: published in the manifest and the report. */
  readonly utility: Readonly<Record<string, TableUtility>>;
  /** The same with the primary and secondary counts: for the internal disclosure log only. */
  readonly loss: Readonly<Record<string, unknown>>;
  readonly log: readonly DisclosureLogEntry[];
  readonly attack: { suppressedCells: number; exactlyRecoverable: number; narrowedBelowProtection: number };
  readonly lpSolves: number;
  readonly boundsRelaxed: readonly string[];
  readonly stageInput?: StageInput;
  readonly inputFile?: string;
  readonly title: string;
}

/**
 * Write the bundle (tables, catalogue, report, manifest) atomically through
 * StageOutput, then put the disclosure log beside it. The manifest carries
 * the loss per table but never which suppressions were primary.
 */
export async function publishBundle(request: PublishRequest): Promise<{ outDir: string; logDir: string }> {
  const output = await StageOutput.create({
    stage: request.stage,
    outDir: request.outDir,
    parameters: request.parameters,
    definitions: [{ name: 'disclosure-rules', version: request.rules.format }],
  });
  let logWriter: DisclosureLogWriter | undefined;
  try {
    if (request.stageInput !== undefined) output.addStageInput(request.stageInput);
    if (request.inputFile !== undefined) await output.addInputFile(request.inputFile);
    await output.addInputFile(request.rulesFile);
    const duck = await Duck.open({ tempDirectory: output.scratchDir, threads: 1 });
    try {
      await writeBundleTables(output, duck, request.tables);
    } finally {
      duck.close();
    }
    await writeCatalogue(output, request.tables);
    const tables = Object.fromEntries(Object.entries(request.utility).map(([name, u]) => [name, publicUtility(u)]));
    const utility = { tables, overall: overallUtility(tables) };
    await writeFile(
      await output.file('report.html'),
      renderReport({ title: request.title, basedOn: reportBasis(request), tables: request.tables, utility }),
    );
    output.setSummary('disclosure', { rules: request.rules, utility });
    logWriter = await DisclosureLogWriter.prepare(request.outDir, request.log, {
      loss: request.loss,
      attack: request.attack,
      lpSolves: request.lpSolves,
      boundsRelaxed: request.boundsRelaxed,
    });
    await output.commit();
  } catch (error) {
    await output.abandon();
    await logWriter?.abandon();
    throw error;
  }
  await logWriter.commit();
  return { outDir: output.outDir, logDir: logWriter.target };
}

/**
 * The report names its input by the input's own timestamp rather than the
 * time of writing, so that the same input always gives a byte-identical bundle.
 */
function reportBasis(request: PublishRequest): string {
  if (request.stageInput !== undefined)
    return `the ${request.stageInput.manifest.stage} output finished ${request.stageInput.manifest.finishedAt}`;
  return 'the table a steward brought to boldlink protect';
}
