import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type Duck, sqlIdent, sqlString } from '../core/duckdb.js';
import { fsyncTree, fsyncPath } from '../core/fsyncTree.js';
import type { StageOutput } from '../core/stageOutput.js';
import type { BundleTable } from './bundleTable.js';
import type { DisclosureLogEntry } from './releaseTables.js';

export const RELEASE_TABLES_FORMAT = 'boldlink-release-tables/v1';

/** tables/<name>.parquet, .csv and .json, with the declared types (DuckDB writes all three from one typed table). */
export async function writeBundleTables(
  output: StageOutput,
  duck: Duck,
  tables: readonly BundleTable[],
): Promise<void> {
  for (const table of tables) {
    const scratch = join(output.scratchDir, `${table.name}.ndjson`);
    const lines = table.rows.map((row) =>
      JSON.stringify(Object.fromEntries(table.columns.map((c, i) => [c.name, row[i] ?? null]))),
    );
    await writeFile(scratch, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    const columnTypes = `{${table.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ')}}`;
    const selectList = table.columns.map((c) => sqlIdent(c.name)).join(', ');
    await duck.run(
      `CREATE OR REPLACE TEMP TABLE released AS SELECT ${selectList} FROM read_json(${sqlString(scratch)}, format = 'newline_delimited', columns = ${columnTypes})`,
    );
    if (table.rows.length === 0) await duck.run(`DELETE FROM released`);
    const base = `tables/${table.name}`;
    await duck.run(`COPY released TO ${sqlString(await output.file(`${base}.parquet`))} (FORMAT parquet)`);
    await duck.run(`COPY released TO ${sqlString(await output.file(`${base}.csv`))} (FORMAT csv, HEADER true)`);
    await duck.run(`COPY released TO ${sqlString(await output.file(`${base}.json`))} (FORMAT json, ARRAY true)`);
  }
}

/** The catalogue the query and serve stages and the audit read: names, titles, descriptions, every column's role, and the structure an attacker knows (relations, population, rates). */
export async function writeCatalogue(output: StageOutput, tables: readonly BundleTable[]): Promise<void> {
  const catalogue = {
    format: RELEASE_TABLES_FORMAT,
    tables: tables.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      rows: t.rows.length,
      files: { parquet: `tables/${t.name}.parquet`, csv: `tables/${t.name}.csv`, json: `tables/${t.name}.json` },
      columns: t.columns.map((c) => ({ name: c.name, type: c.type, role: c.role, description: c.description })),
      ...(t.relations === undefined ? {} : { relations: t.relations }),
      ...(t.population === undefined ? {} : { population: t.population }),
      ...(t.measures === undefined ? {} : { measures: t.measures }),
    })),
  };
  await writeFile(await output.file('tables.json'), `${JSON.stringify(catalogue, null, 2)}\n`);
}

/**
 * The internal disclosure log, beside the bundle (`<out>.disclosure-log/`),
 * never inside it: which rule made each suppression and whether it was
 * primary. Prepared in a temporary sibling and renamed into place only after
 * the bundle has been committed, so a log never describes a bundle that does
 * not exist. Readable by its owner only.
 */
export class DisclosureLogWriter {
  private constructor(
    readonly target: string,
    private readonly temporary: string,
  ) {}

  static async prepare(
    outDir: string,
    entries: readonly DisclosureLogEntry[],
    summary: unknown,
  ): Promise<DisclosureLogWriter> {
    const target = `${resolve(outDir)}.disclosure-log`;
    // Siblings left by a run killed before or during its commit (the caller holds the output's lock, so none is live).
    for (const entry of await readdir(dirname(target))) {
      if (entry.startsWith(`.${basename(target)}.tmp-`) || entry.startsWith(`${basename(target)}.old-`))
        await rm(join(dirname(target), entry), { recursive: true, force: true });
    }
    const temporary = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);
    try {
      await mkdir(temporary, { recursive: true, mode: 0o700 });
      const header = 'table,cell,column,suppression,rule,reason,interval_low,interval_high,protection_level';
      const csv = entries.map((e) =>
        [
          e.table,
          e.cell,
          e.column,
          e.suppression,
          e.rule,
          e.reason,
          e.intervalLow ?? '',
          e.intervalHigh ?? '',
          e.protectionLevel ?? '',
        ]
          .map(csvField)
          .join(','),
      );
      await writeFile(
        join(temporary, 'disclosure-log.csv'),
        `${header}\n${csv.join('\n')}${csv.length > 0 ? '\n' : ''}`,
        { mode: 0o600 },
      );
      await writeFile(join(temporary, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`, { mode: 0o600 });
      await fsyncTree(temporary);
    } catch (error) {
      // A full disk half-way: keep nothing partial.
      await rm(temporary, { recursive: true, force: true });
      throw error;
    }
    return new DisclosureLogWriter(target, temporary);
  }

  async commit(): Promise<void> {
    const old = `${this.target}.old-${process.pid}`;
    await rm(old, { recursive: true, force: true });
    try {
      await rename(this.target, old);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await rename(this.temporary, this.target);
    await fsyncPath(dirname(this.target));
    await rm(old, { recursive: true, force: true });
  }

  async abandon(): Promise<void> {
    await rm(this.temporary, { recursive: true, force: true });
  }
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
