import { extname, join } from 'node:path';
import { sqlIdent, sqlString, type Duck } from '../core/duckdb.js';
import { impliedCells, type SumRelation } from '../core/impliedValues.js';
import { structuralRows } from './structuralRows.js';
import { attackerIntervalsOnThread } from './attackerThread.js';
import { attackerSystem, type Occurrence } from './attackerSystem.js';
import { loadDisclosureRules, type DisclosureRules } from './disclosureRules.js';
import { finding, type CheckResult, type Finding } from './finding.js';
import { dimsKey, primaryRuleFindings, type CellInternals } from './primaryRules.js';
import {
  cellKey,
  readCatalogue,
  readReleasedTable,
  STATUSES,
  tableFilesOf,
  type ReleasedTable,
  type TableDescription,
} from './releasedTables.js';
import { tableSource } from './tableReader.js';
import { workspaceFile, type StageDir, type Workspace } from './workspace.js';

/**
 * The release re-checked as an attacker would see it: what may not be in the
 * bundle at all, every cell's status, the primary rules recomputed from the
 * published values, and the attacker's linear programmes over every table's
 * margins and over tables that count the same population.
 */
export interface ReleaseRecheckResult extends CheckResult {
  readonly rules: DisclosureRules;
}

/** Per-person or internal material that must never be inside a bundle. */
const FORBIDDEN = [
  {
    test: (f: string) => f.split('/').some((p) => p.endsWith('.quarantine')) || /(^|\/)quarantine\.csv$/.test(f),
    what: 'a quarantine file (raw source rows)',
  },
  {
    test: (f: string) => f.split('/').some((p) => p.endsWith('.disclosure-log')),
    what: 'the internal disclosure log (it points at the small cells)',
  },
  { test: (f: string) => /(^|\/)spells\.parquet$/.test(f), what: 'the per-spell metrics file (one row per person)' },
];

export async function checkRelease(workspace: Workspace, duck: Duck): Promise<ReleaseRecheckResult> {
  const bundles = workspace.stageDirs.filter((d) => d.stage === 'release' || d.stage === 'protect');
  const rules = await loadDisclosureRules(
    bundles.flatMap((b) => (b.manifest === null ? [] : [b.manifest])),
    workspace.root,
  );
  const metrics = workspace.stageDirs.find((d) => d.stage === 'metrics');
  const metricsCatalogue = metrics === undefined ? new Map<string, TableDescription>() : await readCatalogue(metrics);
  const findings: Finding[] = [];
  let tablesChecked = 0;
  let cellsChecked = 0;
  let suppressedCells = 0;
  let programmes = 0;

  for (const bundle of bundles) {
    for (const file of bundle.files) {
      const forbidden = FORBIDDEN.find((f) => f.test(file));
      if (forbidden !== undefined)
        findings.push(
          finding(
            'release',
            'release.forbidden-file',
            workspaceFile(bundle, file),
            `The release bundle holds ${forbidden.what}; nothing of the kind may leave the secure environment.`,
          ),
        );
    }
    const bundleCatalogue = await readCatalogue(bundle);
    const tables: ReleasedTable[] = [];
    const ruleFindings: Finding[] = [];
    for (const [name, formats] of tableFilesOf(bundle)) {
      const description = mergeDescriptions(metricsCatalogue.get(name), bundleCatalogue.get(name));
      const table = await readReleasedTable(duck, bundle, name, formats, description);
      if (table === null) {
        findings.push(
          finding(
            'release',
            'release.unreadable-table',
            workspaceFile(bundle, formats[0]?.rel ?? `tables/${name}`),
            'No format of this released table can be read as a table.',
          ),
        );
        continue;
      }
      tables.push(table);
      tablesChecked++;
      cellsChecked += table.rows.length * table.measures.length;
      findings.push(...(await statusFindings(duck, bundle, table)));
      const internals = metrics === undefined ? undefined : await metricsInternals(duck, metrics, table);
      ruleFindings.push(...primaryRuleFindings(table, rules, internals));
    }
    findings.push(...withoutImplied(ruleFindings, tables, rules));
    const lp = await attackerFindings(tables, rules);
    findings.push(...lp.findings);
    suppressedCells += lp.suppressed;
    programmes += lp.programmes;
  }

  return {
    rules,
    findings,
    summary: {
      check: 'release',
      title: 'Release re-check (disclosure control)',
      covered: [
        `${bundles.length} release bundle(s), ${tablesChecked} tables, ${cellsChecked} cells`,
        `rules from ${rules.source}: counts ≥ ${rules.minFrequency}${rules.zerosAreSensitive ? ' (zeros sensitive)' : ''}; rates' numerator ≥ ${rules.rateNumerator}, denominator ≥ ${rules.rateDenominator}, complement ≥ ${rules.rateComplement}; means ≥ ${rules.minContributors} contributors, (n,k) = (${rules.dominanceN}, ${Math.round(rules.dominanceK * 100)}%), p = ${Math.round(rules.pPercent * 100)}%; protection level ${rules.protectionLevel}`,
        `${suppressedCells} suppressed cells, each bounded by the attacker's linear programmes (${programmes} solved with HiGHS; a cell already seen to move by the protection level across earlier solutions, or shown to grow without limit, needs none of its own)`,
        metrics === undefined
          ? 'no metrics output in the workspace: counts of persons and mean-value contributors could not be checked'
          : `persons and mean-value contributors checked against the metrics output ${metrics.relDir}`,
      ],
    },
  };
}

function mergeDescriptions(
  fromMetrics: TableDescription | undefined,
  fromBundle: TableDescription | undefined,
): TableDescription | undefined {
  if (fromMetrics === undefined) return fromBundle;
  if (fromBundle === undefined) return fromMetrics;
  return { ...fromBundle, ...fromMetrics };
}

/** Every value carries a known status; a suppressed value is absent in every format of the table. */
async function statusFindings(duck: Duck, bundle: StageDir, table: ReleasedTable): Promise<Finding[]> {
  const found: Finding[] = [];
  for (const column of table.unmarked) {
    found.push(
      finding(
        'release',
        'release.value-without-status',
        table.file,
        'A released value column has no status column beside it.',
        { column },
      ),
    );
  }
  for (const measure of table.measures) {
    const unknown = table.rows.filter((r) => !STATUSES.includes(r.statuses[measure.column] ?? '')).length;
    if (unknown > 0)
      found.push(
        finding(
          'release',
          'release.unknown-status',
          table.file,
          `${unknown} cells have a status other than published, suppressed or rounded.`,
          { column: `${measure.column}_status`, count: unknown },
        ),
      );
    const missing = table.rows.filter(
      (r) => r.statuses[measure.column] === 'published' && r.values[measure.column] === null,
    ).length;
    if (missing > 0)
      found.push(
        finding(
          'release',
          'release.published-value-missing',
          table.file,
          `${missing} cells are marked published but hold no value.`,
          { column: measure.column, count: missing },
        ),
      );
  }
  for (const format of table.formats) {
    const ext = extname(format.rel).toLowerCase();
    const source =
      ext === '.parquet'
        ? tableSource(format.abs, 'parquet')
        : ext === '.csv'
          ? tableSource(format.abs, 'csv')
          : `read_json(${sqlString(format.abs)}, format = 'array')`;
    const leakedByColumn = await suppressedValuesPresent(
      duck,
      source,
      table.measures.map((m) => m.column),
    );
    for (const [column, leaked] of leakedByColumn) {
      if (leaked > 0) {
        found.push(
          finding(
            'release',
            'release.suppressed-value-present',
            workspaceFile(bundle, format.rel),
            `${leaked} cells are marked suppressed but still carry their value.`,
            { column, count: leaked },
          ),
        );
      }
    }
  }
  return found;
}

/**
 * Per value column of one format: the cells marked suppressed that still carry
 * a value. One read of the file for all columns; when that fails (a format
 * lacking some column), each column on its own, skipping those it lacks.
 */
async function suppressedValuesPresent(
  duck: Duck,
  source: string,
  columns: readonly string[],
): Promise<Map<string, number>> {
  const leakedIn = (column: string) =>
    `CAST(${sqlIdent(`${column}_status`)} AS VARCHAR) = 'suppressed' AND ${sqlIdent(column)} IS NOT NULL AND trim(CAST(${sqlIdent(column)} AS VARCHAR)) <> ''`;
  const counts = new Map<string, number>();
  if (columns.length === 0) return counts;
  try {
    const rows = await duck.jsonRows<Record<string, number | string>>(
      `SELECT ${columns.map((c, i) => `count(*) FILTER (WHERE ${leakedIn(c)}) AS n${i}`).join(', ')} FROM ${source}`,
    );
    columns.forEach((c, i) => counts.set(c, Number(rows[0]?.[`n${i}`] ?? 0)));
    return counts;
  } catch {
    // fall through: column by column
  }
  for (const column of columns) {
    try {
      counts.set(column, Number(await duck.scalar<bigint>(`SELECT count(*) FROM ${source} WHERE ${leakedIn(column)}`)));
    } catch {}
  }
  return counts;
}

/** The metrics table behind a released table, by cell: its persons count and mean-value contributors (internal columns). */
async function metricsInternals(
  duck: Duck,
  metrics: StageDir,
  table: ReleasedTable,
): Promise<CellInternals | undefined> {
  const file = `tables/${table.name}.parquet`;
  if (!metrics.files.includes(file)) return undefined;
  const source = tableSource(join(metrics.absDir, file), 'parquet');
  let columns: string[];
  try {
    columns = (await duck.rows<{ column_name: string }>(`DESCRIBE SELECT * FROM ${source}`)).map((c) => c.column_name);
  } catch {
    return undefined;
  }
  if (!table.dimensions.every((d) => columns.includes(d))) return undefined;
  const wanted = new Set(['persons']);
  for (const m of table.description?.measures ?? [])
    for (const c of [m.contributors, m.sum, m.top1, m.top2]) if (c !== undefined) wanted.add(c);
  const numeric = [...wanted].filter((c) => columns.includes(c));
  if (numeric.length === 0) return undefined;
  const rows = await duck.jsonRows<Record<string, string | number | null>>(
    `SELECT ${[...table.dimensions.map((d) => `CAST(${sqlIdent(d)} AS VARCHAR) AS ${sqlIdent(`d:${d}`)}`), ...numeric.map((c) => `TRY_CAST(${sqlIdent(c)} AS DOUBLE) AS ${sqlIdent(`v:${c}`)}`)].join(', ')} FROM ${source}`,
  );
  const byCell = new Map<string, Record<string, number | null>>();
  for (const row of rows) {
    const dims = Object.fromEntries(table.dimensions.map((d) => [d, String(row[`d:${d}`] ?? '')]));
    byCell.set(
      dimsKey(dims),
      Object.fromEntries(numeric.map((c) => [c, typeof row[`v:${c}`] === 'number' ? (row[`v:${c}`] as number) : null])),
    );
  }
  return byCell;
}

/**
 * The attacker's programmes over one bundle's tables, and the findings they
 * lead to: published values that contradict their margins, and suppressed
 * cells narrowed below the protection level.
 */
async function attackerFindings(
  tables: readonly ReleasedTable[],
  rules: DisclosureRules,
): Promise<{ findings: Finding[]; suppressed: number; programmes: number }> {
  const system = attackerSystem(tables, rules);
  const found: Finding[] = [...system.findings];
  const { occurrences, targets } = system;
  const outcome = await attackerIntervalsOnThread(system.bounds, system.equations, targets, rules.protectionLevel);
  for (const bad of outcome.inconsistent) {
    const first = bad.cells.map((k) => occurrences.get(k)?.[0]).find((o) => o !== undefined);
    found.push(
      finding(
        'release',
        'release.inconsistent-margins',
        first?.table.file ?? 'release',
        `Published values do not add up to their published margins (${bad.origin}): the table was changed after disclosure control, or its margins are wrong.`,
        first === undefined ? {} : { column: first.column, cell: { ...first.dims } },
      ),
    );
  }
  for (const key of targets) {
    const interval = outcome.intervals.get(key);
    if (interval === undefined) continue;
    const width = interval.max - interval.min;
    if (width >= rules.protectionLevel - 1e-6) continue;
    const list = occurrences.get(key) ?? [];
    const suppressedAt = list.filter((o) => o.status === 'suppressed');
    const where = suppressedAt[0] as Occurrence;
    const elsewhere = list.filter((o) => o.status !== 'suppressed').map((o) => o.table.name);
    const how = elsewhere.length > 0 ? ` It is published or rounded in ${[...new Set(elsewhere)].join(', ')}.` : '';
    found.push(
      finding(
        'release',
        width <= 1e-6 ? 'release.cell-recomputable' : 'release.interval-too-narrow',
        where.table.file,
        `A suppressed cell can be narrowed by adding and subtracting published cells to an interval of width ${formatWidth(width)}, less than the protection level ${rules.protectionLevel}.${how}`,
        {
          column: where.column,
          cell: { ...where.dims },
          ...(suppressedAt.length > 1 ? { count: suppressedAt.length } : {}),
        },
      ),
    );
  }
  return { findings: found, suppressed: targets.length, programmes: outcome.programmesSolved };
}

/**
 * A published cell breaks a primary rule only where publishing it tells the
 * attacker something: a cell whose value the cells known by their nature
 * already fix (a Total over years each fixed at 0, or of no units) tells
 * nothing, and release publishes it rather than refuse. Known by nature are
 * the published zeros (where zeros are not sensitive) and the values a row's
 * dimensions fix; a count published by choice is not, or a margin published
 * beside a small cell would excuse the cell. The same rule as release's
 * (core/impliedValues.ts), over the attacker's equations of the bundle.
 */
function withoutImplied(
  found: readonly Finding[],
  tables: readonly ReleasedTable[],
  rules: DisclosureRules,
): Finding[] {
  if (found.length === 0) return [];
  const system = attackerSystem(tables, rules);
  const byFile = new Map(tables.map((t) => [t.file, t]));
  const keyOf = (f: Finding): string | undefined => {
    const table = byFile.get(f.file);
    if (table === undefined || f.column === undefined || f.cell === undefined) return undefined;
    return cellKey(table.description?.population ?? `table:${table.name}`, f.column, f.cell);
  };
  const flagged = new Set(found.flatMap((f) => keyOf(f) ?? []));
  const known = new Set<string>();
  const zeros = new Set<string>();
  if (!rules.zerosAreSensitive) {
    for (const [key, bounds] of system.bounds) {
      if (bounds.lower !== 0 || bounds.upper !== 0 || flagged.has(key)) continue;
      known.add(key);
      zeros.add(key);
    }
  }
  for (const table of tables) {
    const population = table.description?.population ?? `table:${table.name}`;
    for (const measure of table.description?.measures ?? []) {
      structuralRows(table, measure)?.forEach((structural, at) => {
        const row = table.rows[at]!;
        if (structural === undefined || row.statuses[measure.column] !== 'published') return;
        const key = cellKey(population, measure.column, row.dims);
        known.add(key);
        if (structural.equals === 0) zeros.add(key);
      });
    }
  }
  // Every equation is Σ parts − total = 0 (margins, relations) or a fixed row (x = 0, x − y = 0).
  const relations: SumRelation<string>[] = system.equations.map((e) => {
    const total = e.terms.find((t) => t.coefficient < 0)?.key;
    const parts = e.terms.filter((t) => t.coefficient > 0).map((t) => t.key);
    return total === undefined ? { parts } : { total, parts };
  });
  const implied = impliedCells(relations, known, zeros);
  return found.filter((f) => {
    const key = keyOf(f);
    return key === undefined || !implied.has(key);
  });
}

function formatWidth(width: number): string {
  return Number.isFinite(width) ? String(Math.round(width * 100) / 100) : 'unbounded';
}
