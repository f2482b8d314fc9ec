import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { Duck, sqlString } from '../../pipeline/core/duckdb.js';
import { log } from '../../pipeline/core/log.js';
import { besideModule } from '../../pipeline/core/projectPath.js';
import { StageOutput } from '../../pipeline/core/stageOutput.js';
import { LOSSY_DEFECTS, ROW_DEFECTS, type DefectRates } from './defects.js';
import { writeMunicipalCsv } from './municipalCsv.js';
import { CITY_NAMES, placePickSql, placeTableSql } from './places.js';
import { minimumWageTableSql, municipalDialect, MUNICIPAL_FILES, type MunicipalFile } from './reference.js';
import {
  DATA_END,
  PROGRAMME_RATE,
  PROGRAMME_TARGET,
  RECIPIENTS_PER_INHABITANT,
  SCALES,
  type ScaleName,
} from './scales.js';
import { truthMetrics } from './truthMetrics.js';
import { roundSeconds } from '../../pipeline/core/elapsed.js';

export interface GenerateOptions {
  readonly scale: ScaleName;
  readonly seed: number;
  readonly outDir: string;
  readonly defects: { readonly name: string; readonly rates: DefectRates };
  /** Override the scale's population (tests, benchmarks). */
  readonly persons?: number;
  readonly memoryLimit?: string;
}

export interface GenerateResult {
  readonly persons: number;
  readonly recipients: number;
  readonly spells: number;
  readonly jobs: number;
  readonly observationEnd: string;
}

/** Largest spell number a person can reach (rounds of the spell model). */
const MAX_SPELLS = 6;

/**
 * `boldlink generate`: a synthetic population, its municipal benefit and
 * re-integration exports, the holder's persons and jobs, dirty data at the
 * configured rates with a ledger, and the ground truth — all generated in
 * DuckDB (tables on disk in the scratch directory), so memory stays bounded
 * at national scale.
 */
export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const scale = SCALES[options.scale];
  const persons = options.persons ?? scale.persons;
  const output = await StageOutput.create({
    stage: 'generate',
    outDir: options.outDir,
    parameters: {
      scale: options.scale,
      seed: options.seed,
      persons,
      defects: options.defects.name,
      defectRates: options.defects.rates,
    },
    definitions: [{ name: 'generator', version: '1' }],
  });
  const duck = await Duck.open({
    tempDirectory: join(output.scratchDir, 'spill'),
    ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
  });
  try {
    await duck.run(`ATTACH ${sqlString(join(output.scratchDir, 'generate.duckdb'))} AS generator; USE generator;`);
    const step = async (name: string, work: () => Promise<void>) => {
      const started = Date.now();
      await work();
      log().info({ step: name, seconds: roundSeconds((Date.now() - started) / 1000) }, 'generate step done');
    };
    const sql = (name: string) => besideModule(import.meta.url, name);
    const { bsnA, bsnB } = bsnPermutation(options.seed);
    const common = { seed: String(options.seed), dataEnd: DATA_END };
    const dialect = await municipalDialect();

    await step('reference', async () => {
      await duck.run(placeTableSql());
      await duck.run(await minimumWageTableSql());
    });
    await step('population', () =>
      duck.runFile(sql('population.sql'), {
        ...common,
        persons: String(persons),
        candidates: String(Math.ceil(persons * 1.2) + 1000),
        bsnA: String(bsnA),
        bsnB: String(bsnB),
        placePick: placePickSql("rnd(person_id, 0, 'city')", "rnd(person_id, 0, 'place')", scale.cityShare),
        recipientRate: String(RECIPIENTS_PER_INHABITANT),
      }),
    );
    const generated = Number(await duck.scalar('SELECT count(*) FROM person'));
    if (generated !== persons) throw new Error(`generated ${generated} persons instead of ${persons}`);
    await step('spells', async () => {
      for (let round = 1; round <= MAX_SPELLS; round++) {
        const entrants =
          round === 1
            ? 'SELECT person_id, 1 AS spell_no, first_start AS start_date, stock FROM recipient'
            : `SELECT person_id, spell_no + 1 AS spell_no, next_start AS start_date, false AS stock FROM spell WHERE spell_no = ${round - 1} AND next_start IS NOT NULL`;
        await duck.runFile(sql('spells.sql'), {
          ...common,
          entrants,
          programmeRate: String(PROGRAMME_RATE),
          targetTreatment: String(PROGRAMME_TARGET.treatment),
          targetControl: String(PROGRAMME_TARGET.control),
        });
      }
      // The last round may not open another spell.
      await duck.run(`UPDATE spell SET next_start = NULL WHERE spell_no = ${MAX_SPELLS}`);
    });
    await step('periods', () => duck.runFile(sql('periods.sql'), common));
    await step('jobs', () => duck.runFile(sql('jobs.sql'), common));
    await step('exports', async () => {
      await duck.run(dialect.macrosSql);
      await duck.runFile(sql('exports.sql'), {
        ...common,
        rowDefect: defectCase("rnd(row_key, 0, 'defect')", options.defects.rates, ROW_DEFECTS),
        jobDefect: defectCase("rnd(j.person_id, j.job_no, 'defect')", options.defects.rates, [
          'lost_leading_zero',
          'bsn_spaces',
          'bsn_dots',
        ]),
        duplicateRate: String(options.defects.rates.duplicate_row),
        overlapRate: String(options.defects.rates.overlapping_period),
        emptyLineRate: String(options.defects.rates.empty_line),
        byteOrderMarkRate: String(options.defects.rates.byte_order_mark),
      });
    });
    // T: the latest date in the benefit and job data the pipeline can link (the recipients').
    const observationEnd = String(
      await duck.scalar(`SELECT strftime(max(d), '%Y-%m-%d') FROM (
        SELECT greatest(start_date, coalesce(end_date, start_date)) AS d FROM period
        UNION ALL SELECT greatest(start_date, coalesce(end_date, start_date)) FROM job WHERE person_id IN (SELECT person_id FROM recipient))`),
    );
    await step('truth', () =>
      duck.runFile(sql('truth.sql'), {
        ...common,
        observationEnd,
        lossyKinds: LOSSY_DEFECTS.map(sqlString).join(', '),
      }),
    );

    await step('write', async () => {
      const files = await duck.rows<{ source: string; file: string; byte_order_mark: boolean }>(
        'SELECT * FROM export_file',
      );
      for (const city of CITY_NAMES) {
        for (const file of Object.keys(MUNICIPAL_FILES) as MunicipalFile[]) {
          const entry = files.find((f) => f.source === city && f.file === file);
          const relative = `gemeente/${city}/${file}`;
          await writeMunicipalCsv(duck, {
            source: city,
            file,
            header: dialect.headers[file],
            byteOrderMark: entry?.byte_order_mark ?? false,
            scratchPath: join(output.scratchDir, `${city}-${file}`),
            outPath: await output.file(relative),
          });
        }
      }
      const copy = async (query: string, relative: string) =>
        duck.run(`COPY (${query}) TO ${sqlString(await output.file(relative))} (FORMAT parquet)`);
      await copy(
        'SELECT bsn, birth_date, sex, municipality_code, postcode, house_number FROM person ORDER BY person_id',
        'microdata/persons.parquet',
      );
      // job_out was written in row order and DuckDB preserves insertion order
      // on a plain scan: sorting its ~150M national rows again ran out of memory.
      await copy(
        'SELECT bsn, employer_id, start_date, end_date, contract_type, hours_per_week, hourly_wage FROM job_out',
        'microdata/jobs.parquet',
      );
      await copy(
        `SELECT p.person_id, p.bsn, p.birth_date, p.sex, p.municipality_code, p.postcode, p.house_number, p.household_type, p.district,
           r.person_id IS NOT NULL AS recipient
         FROM person p LEFT JOIN recipient r USING (person_id) ORDER BY p.person_id`,
        'truth/persons.parquet',
      );
      await duck.runFile(sql('records.sql'), {});
      await copy('SELECT * FROM record_out', 'truth/records.parquet');
      await copy('SELECT * FROM ledger ORDER BY source, file, row NULLS FIRST, kind', 'truth/ledger.parquet');
      await copy('SELECT * FROM truth_spell ORDER BY person_id, spell_no', 'truth/spells.parquet');
      await copy('SELECT * FROM truth_assignment ORDER BY person_id, assigned_on', 'truth/assignments.parquet');
      await copy('SELECT * FROM truth_affected ORDER BY person_id, spell_no', 'truth/affected_spells.parquet');
      const metrics = await truthMetrics(duck, observationEnd);
      await writeFile(await output.file('truth/metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    });

    const counts = await duck.jsonRows<{ persons: number; recipients: number; spells: number; jobs: number }>(
      `SELECT (SELECT count(*) FROM person) AS persons, (SELECT count(*) FROM recipient) AS recipients,
              (SELECT count(*) FROM truth_spell) AS spells, (SELECT count(*) FROM job_out) AS jobs`,
    );
    const defects = await duck.jsonRows<{ kind: string; n: number }>(
      'SELECT kind, count(*) AS n FROM ledger GROUP BY kind ORDER BY kind',
    );
    const result: GenerateResult = { ...counts[0]!, observationEnd };
    output.setSummary('population', result);
    output.setSummary('defects', Object.fromEntries(defects.map((d) => [d.kind, Number(d.n)])));
    duck.close();
    await output.commit();
    return result;
  } catch (error) {
    try {
      duck.close();
    } catch {
      // already closed
    }
    await output.abandon();
    throw error;
  }
}

/**
 * The seed's affine permutation of 8-digit BSN prefixes: a coprime to 10
 * (odd, not a multiple of 5), so i → a·i + b mod 10^8 never repeats.
 */
export function bsnPermutation(seed: number): { bsnA: number; bsnB: number } {
  const digest = sha256(utf8ToBytes(`boldlink/generate/bsn/${seed}`));
  const word = (offset: number) =>
    ((digest[offset]! << 24) | (digest[offset + 1]! << 16) | (digest[offset + 2]! << 8) | digest[offset + 3]!) >>> 0;
  let a = 10_000_001 + 2 * (word(0) % 40_000_000);
  if (a % 5 === 0) a += 2;
  return { bsnA: a, bsnB: word(4) % 100_000_000 };
}

/** A SQL CASE drawing one mutually exclusive defect kind from a uniform draw, by cumulative rate. */
function defectCase(draw: string, rates: DefectRates, kinds: readonly (typeof ROW_DEFECTS)[number][]): string {
  let cumulative = 0;
  const branches: string[] = [];
  for (const kind of kinds) {
    if (rates[kind] <= 0) continue;
    cumulative += rates[kind];
    branches.push(`WHEN ${draw} < ${cumulative} THEN '${kind}'`);
  }
  return branches.length === 0 ? 'NULL::VARCHAR' : `CASE ${branches.join(' ')} END`;
}
