import { basename, extname, resolve } from 'node:path';
import { DataError, UsageError } from '../core/errors.js';
import { Duck, sqlIdent, sqlString } from '../core/duckdb.js';
import { log } from '../core/log.js';
import { bundleFromAggregate } from '../release/bundleTable.js';
import { loadRules } from '../release/loadRules.js';
import { publishBundle } from '../release/publishBundle.js';
import type { LoadedTable } from '../release/loadedTable.js';
import { dimensionGroups } from '../release/preparedTable.js';
import { releaseTables } from '../release/releaseTables.js';
import { tableFromInnerCells } from '../release/sdc/innerTable.js';
import { TOTAL } from '../release/sdc/dimension.js';

export interface ProtectOptions {
  readonly input: string;
  readonly dimensions: string;
  readonly count: string;
  readonly hierarchy?: string[];
  readonly rules?: string;
  readonly out: string;
}

/** A steward's count table of inner cells: margins added, primary and secondary suppression, a release-format bundle. */
export async function runProtect(options: ProtectOptions): Promise<{ outDir: string; logDir: string }> {
  const dimensions = options.dimensions
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  if (dimensions.length === 0) throw new UsageError('--dimensions needs at least one column name.');
  if (new Set(dimensions).size !== dimensions.length) throw new UsageError('--dimensions names a column twice.');
  if (dimensions.includes(options.count)) throw new UsageError(`--count '${options.count}' is also a dimension.`);
  const hierarchies = (options.hierarchy ?? []).map((h) => {
    const levels = h.split('>').map((x) => x.trim());
    if (levels.length < 2 || levels.some((l) => !dimensions.includes(l)))
      throw new UsageError(`--hierarchy '${h}' must name dimensions from --dimensions, parent first: a>b.`);
    return levels;
  });
  const { rules, file: rulesFile } = await loadRules(options.rules);
  const file = resolve(options.input);
  const name =
    basename(file, extname(file))
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^[^a-z]+/, '') || 'table';
  const inner = await readInnerCells(file, dimensions, options.count);
  const groups = dimensionGroups(dimensions, hierarchies);
  const groupColumns = groups.flat();
  const built = tableFromInnerCells(
    name,
    groups,
    inner.map((row) => ({ values: groupColumns.map((c) => row.values[dimensions.indexOf(c)]!), count: row.count })),
  );
  const columns = built.layout.columns;
  const rows = Array.from({ length: built.layout.size }, (_, local) => {
    const values = built.layout.valuesOf(local);
    const row: Record<string, string | number | null> = Object.fromEntries(columns.map((c, i) => [c, values[i]!]));
    row[options.count] = built.value[local]!;
    return row;
  });
  const loaded: LoadedTable = {
    file,
    rows,
    spec: {
      name,
      title: `${basename(file)} protected`,
      description: `Counts '${options.count}' by ${dimensions.join(', ')} with all margins, after primary and secondary cell suppression.`,
      dimensions,
      hierarchies,
      population: 'input',
      measures: [
        {
          column: options.count,
          kind: 'count',
          nature: 'units',
          description: `Count '${options.count}' from ${basename(file)}.`,
        },
      ],
      internal: [],
    },
  };
  const result = await releaseTables([loaded], rules);
  const tables = result.tables.map(bundleFromAggregate);
  const written = await publishBundle({
    stage: 'protect',
    outDir: options.out,
    parameters: { input: file, dimensions, count: options.count, hierarchies, rules: rulesFile },
    rules,
    rulesFile,
    tables,
    utility: result.loss,
    loss: result.loss,
    log: result.log,
    attack: result.attack,
    lpSolves: result.lpSolves,
    boundsRelaxed: result.boundsRelaxed,
    inputFile: file,
    title: `boldlink protect: ${basename(file)}`,
  });
  const loss = result.loss[name]!;
  log().info({ cells: loss.cells, suppressed: loss.suppressed }, 'protected table written');
  process.stdout.write(
    `Protected ${basename(file)}: ${loss.cells} cells with margins, ${loss.suppressed} suppressed; written to ${written.outDir}.\nDisclosure log (keep it in the secure environment): ${written.logDir}\n`,
  );
  return written;
}

async function readInnerCells(
  file: string,
  dimensions: readonly string[],
  count: string,
): Promise<{ values: string[]; count: number }[]> {
  const extension = extname(file).toLowerCase();
  const source =
    extension === '.parquet'
      ? `read_parquet(${sqlString(file)})`
      : extension === '.csv'
        ? `read_csv(${sqlString(file)}, all_varchar = true)`
        : undefined;
  if (source === undefined) throw new UsageError(`--input ${file}: expected a .csv or .parquet file.`);
  const duck = await Duck.open({ threads: 1 });
  try {
    let available: string[];
    try {
      available = (
        await duck.rows<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${source})`)
      ).map((r) => r.column_name);
    } catch (error) {
      throw DataError.single('PROTECT_INPUT', {
        file,
        rule: 'input.read',
        message: `cannot be read: ${(error as Error).message.split('\n')[0]}`,
      });
    }
    for (const c of [...dimensions, count]) {
      if (!available.includes(c))
        throw DataError.single('PROTECT_INPUT', {
          file,
          column: c,
          rule: 'input.column',
          message: `column '${c}' is missing (the file has ${available.join(', ')})`,
        });
    }
    const dims = dimensions.map((d) => `CAST(${sqlIdent(d)} AS VARCHAR) AS ${sqlIdent(d)}`).join(', ');
    const numbered = `SELECT row_number() OVER () AS input_row, ${dims}, TRY_CAST(${sqlIdent(count)} AS DOUBLE) AS n, CAST(${sqlIdent(count)} AS VARCHAR) AS raw FROM ${source}`;
    const bad = await duck.jsonRows<{ input_row: number; problem: string; column_name: string }>(
      `WITH numbered AS (${numbered})
       SELECT input_row, column_name, problem FROM (
         ${dimensions.map((d) => `SELECT input_row, ${sqlString(d)} AS column_name, CASE WHEN ${sqlIdent(d)} IS NULL THEN 'is empty' WHEN ${sqlIdent(d)} = ${sqlString(TOTAL)} THEN 'is the reserved value Total (give inner cells only)' END AS problem FROM numbered`).join(' UNION ALL ')}
         UNION ALL SELECT input_row, ${sqlString(count)}, CASE WHEN n IS NULL OR n < 0 OR n <> floor(n) THEN 'is not a non-negative whole number' END FROM numbered
       ) WHERE problem IS NOT NULL ORDER BY input_row LIMIT 20`,
    );
    if (bad.length > 0) {
      const issues = bad.map((b) => ({
        file,
        row: Number(b.input_row),
        column: b.column_name,
        rule: 'input.cell',
        message: b.problem,
      }));
      throw new DataError(
        'PROTECT_INPUT',
        `${file}: ${issues.length}${issues.length === 20 ? '+' : ''} bad cells, first at row ${issues[0]!.row}, column '${issues[0]!.column}': ${issues[0]!.message}. Nothing was written.`,
        issues,
      );
    }
    const rows = await duck.jsonRows<Record<string, string | number>>(
      `WITH numbered AS (${numbered}) SELECT ${dimensions.map(sqlIdent).join(', ')}, sum(n) AS n FROM numbered GROUP BY ALL`,
    );
    return rows.map((r) => ({ values: dimensions.map((d) => String(r[d])), count: Number(r.n) }));
  } finally {
    duck.close();
  }
}
