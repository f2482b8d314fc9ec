import { resolve } from 'node:path';
import { z } from 'zod';
import type { LoadedKey } from '../../keys/keyFile.js';
import type { ManifestKey } from '../../schemas/manifest.js';
import { DataError, KeyError, UsageError } from '../core/errors.js';
import { StageInput } from '../core/stageInput.js';
import { HOLDER_TABLES, MUNICIPAL_TABLES, sourceFileName, type MunicipalTable } from './sourceTables.js';

/** What a source's pseudonymize manifest says about one table (docs/contracts.md); carried into the linkage report. */
const sourceTableSummary = z
  .object({
    rows: z.number().int().nonnegative().optional(),
    bsn: z.number().int().nonnegative().optional(),
    bsn_repaired: z.number().int().nonnegative().optional(),
    fallback: z.number().int().nonnegative().optional(),
    invalid_bsn: z.number().int().nonnegative().optional(),
    missing_bsn: z.number().int().nonnegative().optional(),
    duplicates: z.number().int().nonnegative().optional(),
  })
  .loose();
export type SourceTableSummary = z.infer<typeof sourceTableSummary>;

const pseudonymizeSummary = z.object({ tables: z.record(z.string(), sourceTableSummary).optional() }).loose();

/** A source name becomes the `municipality` column; the names pseudonymize accepts (e.g. `den_haag`). */
const sourceName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a source name of letters, digits, _ or - such as den_haag');

export interface MunicipalInput {
  readonly municipality: string;
  readonly input: StageInput;
  /** The municipal tables this source delivered (a municipality may deliver no interventions). */
  readonly tables: readonly MunicipalTable[];
  readonly sourceSummary: Readonly<Record<string, SourceTableSummary>>;
}

export interface HolderInput {
  readonly source: string;
  readonly input: StageInput;
  readonly sourceSummary: Readonly<Record<string, SourceTableSummary>>;
}

export interface LinkInputs {
  readonly holder: HolderInput;
  /** Sorted by municipality, so outputs and the report do not depend on the order of --input. */
  readonly municipalities: readonly MunicipalInput[];
  /** The one K_src every input was pseudonymized with (fingerprint only). */
  readonly sourceKey: ManifestKey;
}

/**
 * Open and check every pseudonymize output before anything is written: each
 * manifest and checksum (StageInput), which input is the microdata holder and
 * which are municipalities, one K_src for all, and a TTP key that is not that
 * K_src. Every refusal is a typed error a steward can act on.
 */
export async function openLinkInputs(dirs: readonly string[], ttpKey: LoadedKey): Promise<LinkInputs> {
  const seen = new Set<string>();
  for (const dir of dirs) {
    const full = resolve(dir);
    if (seen.has(full)) throw new UsageError(`--input ${dir} is given twice; give each pseudonymized source once.`);
    seen.add(full);
  }
  const inputs: StageInput[] = [];
  for (const dir of dirs) inputs.push(await StageInput.open(dir, { stage: 'pseudonymize' }));

  const sourceKey = commonSourceKey(inputs);
  if (sourceKey.fingerprint === ttpKey.fingerprint) {
    throw new KeyError(
      'KEY_REUSED',
      ttpKey.file,
      `The TTP key ${ttpKey.file} (fingerprint ${ttpKey.fingerprint}) is the same key the sources pseudonymized with. The TTP must hold its own key: make one with 'boldlink keys new --role ttp'.`,
    );
  }

  let holder: HolderInput | undefined;
  const municipalities: MunicipalInput[] = [];
  for (const input of inputs) {
    const holderFiles = HOLDER_TABLES.filter((t) => input.has(sourceFileName(t)));
    const municipalTables = MUNICIPAL_TABLES.filter((t) => input.has(sourceFileName(t)));
    const name = sourceNameOf(input);
    const summary = summaryOf(input);
    if (holderFiles.length > 0 && municipalTables.length > 0) {
      throw DataError.single('LINK_INPUT_ROLE', {
        file: input.dir,
        rule: 'link.input_role',
        message: `holds both microdata-holder files (${holderFiles.map(sourceFileName).join(', ')}) and municipal files (${municipalTables.map(sourceFileName).join(', ')}); pseudonymize each source into its own directory`,
      });
    }
    if (holderFiles.length > 0) {
      const missing = HOLDER_TABLES.filter((t) => !holderFiles.includes(t));
      if (missing.length > 0) {
        throw DataError.single('LINK_INPUT_ROLE', {
          file: input.dir,
          rule: 'link.holder_files',
          message: `is the microdata holder's output but lacks ${missing.map(sourceFileName).join(', ')}`,
        });
      }
      if (holder !== undefined) {
        throw DataError.single('LINK_INPUT_ROLE', {
          file: input.dir,
          rule: 'link.one_holder',
          message: `is a second microdata-holder output (the first is ${holder.input.dir}); link takes exactly one`,
        });
      }
      holder = { source: name, input, sourceSummary: summary };
    } else if (municipalTables.length > 0) {
      if (!municipalTables.includes('clients')) {
        throw DataError.single('LINK_INPUT_ROLE', {
          file: input.dir,
          rule: 'link.municipal_files',
          message: `has no ${sourceFileName('clients')}; a municipality's output needs its clients file`,
        });
      }
      const twin = municipalities.find((m) => m.municipality === name);
      if (twin !== undefined) {
        throw DataError.single('LINK_INPUT_ROLE', {
          file: input.dir,
          rule: 'link.one_output_per_source',
          message: `is a second output of source '${name}' (the first is ${twin.input.dir}); give one directory per municipality`,
        });
      }
      municipalities.push({ municipality: name, input, tables: municipalTables, sourceSummary: summary });
    } else {
      throw DataError.single('LINK_INPUT_ROLE', {
        file: input.dir,
        rule: 'link.input_role',
        message: `holds none of ${[...MUNICIPAL_TABLES, ...HOLDER_TABLES].map(sourceFileName).join(', ')}; it is not a municipal or microdata-holder output`,
      });
    }
  }
  if (holder === undefined) {
    throw new UsageError(
      `None of the --input directories is the microdata holder's output (with ${HOLDER_TABLES.map(sourceFileName).join(' and ')}); link needs it.`,
    );
  }
  if (municipalities.length === 0) {
    throw new UsageError(
      `None of the --input directories is a municipality's output (with ${sourceFileName('clients')}); link needs at least one.`,
    );
  }
  municipalities.sort((a, b) => (a.municipality < b.municipality ? -1 : a.municipality > b.municipality ? 1 : 0));
  return { holder, municipalities, sourceKey };
}

/** Every input must have been pseudonymized with the same K_src, or P1 and F1 would not match across sources. */
function commonSourceKey(inputs: readonly StageInput[]): ManifestKey {
  const perInput = inputs.map((input) => {
    const keys = input.manifest.keys.filter((k) => k.role === 'source');
    const fingerprints = [...new Set(keys.map((k) => k.fingerprint))];
    if (fingerprints.length !== 1 || keys[0] === undefined) {
      throw new KeyError(
        'KEY_MISMATCH',
        input.dir,
        `${input.dir}: its manifest names ${fingerprints.length === 0 ? 'no' : fingerprints.length} source key${fingerprints.length === 1 ? '' : 's'}; a pseudonymize output must name exactly one.`,
      );
    }
    return { dir: input.dir, key: keys[0] };
  });
  const first = perInput[0];
  if (first === undefined) throw new UsageError('Give at least one --input directory.');
  const distinct = new Set(perInput.map((p) => p.key.fingerprint));
  if (distinct.size > 1) {
    const list = perInput.map((p) => `${p.dir}: ${p.key.fingerprint}`).join('; ');
    throw new KeyError(
      'KEY_MISMATCH',
      first.dir,
      `The inputs were pseudonymized with different source keys (${list}). Pseudonyms only match when every source uses the same K_src; have the sources rerun pseudonymize with the shared key.`,
    );
  }
  return { role: 'source', keyId: first.key.keyId, fingerprint: first.key.fingerprint, use: 'inherited' };
}

function sourceNameOf(input: StageInput): string {
  const parsed = sourceName.safeParse(input.manifest.parameters.source);
  if (!parsed.success) {
    throw DataError.single('LINK_INPUT_SOURCE', {
      file: input.dir,
      column: 'parameters.source',
      rule: 'link.source_name',
      message: `the manifest's parameters.source must be ${parsed.error.issues[0]?.message ?? 'a source name'}`,
    });
  }
  return parsed.data;
}

function summaryOf(input: StageInput): Readonly<Record<string, SourceTableSummary>> {
  const parsed = pseudonymizeSummary.safeParse(input.manifest.summary);
  // The carried-over counts are informative; a source whose manifest lacks them is reported with blanks, not refused.
  return parsed.success ? (parsed.data.tables ?? {}) : {};
}
