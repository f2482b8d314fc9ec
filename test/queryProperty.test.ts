import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryFailedError, QueryRefusedError } from '../pipeline/query/errors.js';
import { ReleaseBundle } from '../pipeline/query/releaseBundle.js';
import { ReleaseDatabase, toCell, type QueryResult } from '../pipeline/query/releaseDatabase.js';
import { writeSampleRelease } from '../pipeline/query/sampleRelease.js';
import type { Cell } from '../pipeline/query/suppressedResult.js';
import { openTwin, twinTables } from './support/releaseTwin.js';

/**
 * The query service's promise, as a property: for random queries from a
 * grammar over the released tables (projections, filters, comparisons,
 * arithmetic, CASE, aggregates with FILTER, GROUP BY/HAVING, ORDER BY with
 * LIMIT, window functions, subqueries, CTEs, joins, UNION ALL, DISTINCT),
 * every value the service returns either equals the same query's value on
 * the unsuppressed twin, or is NULL with status 'suppressed'; every row it
 * returns unmarked is a row of the twin's answer (in the twin's order, where
 * the query orders); and an answer with no marked row has exactly the twin's
 * rows.
 */

let dir: string;
let db: ReleaseDatabase;
let twin: DuckDBInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'boldlink-query-property-'));
  const release = await writeSampleRelease(join(dir, 'release'), twinTables(false));
  db = await ReleaseDatabase.open(await ReleaseBundle.open(release), { threads: 1 });
  twin = await openTwin();
});
afterAll(async () => {
  db.close();
  twin.closeSync();
  await rm(dir, { recursive: true, force: true });
});

interface Columns {
  readonly numbers: readonly string[];
  readonly statuses: readonly string[];
  readonly dimensions: readonly { name: string; values: readonly string[] }[];
}

const FLOWS: Columns = {
  numbers: ['n', 'm', 'r'],
  statuses: ['n_status', 'm_status', 'r_status'],
  dimensions: [
    { name: 'year', values: ['2019', '2020', '2021'] },
    { name: 'municipality', values: ['a', 'b', 'c', 'd'] },
  ],
};
const JOINED: Columns = {
  numbers: ['f.n', 'f.m', 'f.r', 'q.k', 'q.w'],
  statuses: ['f.n_status', 'q.k_status', 'q.w_status'],
  dimensions: [
    { name: 'f.municipality', values: ['a', 'b', 'c', 'd'] },
    { name: 'q.grp', values: ['x', 'y'] },
  ],
};

function grammar(columns: Columns) {
  const literal = fc.integer({ min: -5, max: 400 }).map(String);
  const status = fc
    .tuple(
      fc.constantFrom(...columns.statuses),
      fc.constantFrom("= 'suppressed'", "<> 'suppressed'", "= 'published'", "IN ('published', 'rounded')"),
    )
    .map(([c, test]) => `${c} ${test}`);
  const dimension = fc.constantFrom(...columns.dimensions).chain((d) =>
    fc.oneof(
      fc.constantFrom(...d.values).map((v) => `${d.name} = '${v}'`),
      fc.constantFrom(...d.values).map((v) => `${d.name} <> '${v}'`),
    ),
  );
  const tree = fc.letrec<{ number: string; condition: string }>((tie) => ({
    number: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom(...columns.numbers),
      literal,
      fc.constantFrom(...columns.numbers),
      fc.tuple(tie('number'), fc.constantFrom('+', '-', '*'), tie('number')).map(([a, op, b]) => `(${a} ${op} ${b})`),
      tie('number').map((a) => `abs(${a})`),
      tie('number').map((a) => `sign(${a})`),
      tie('number').map((a) => `round(${a}, 1)`),
      fc.tuple(tie('number'), tie('number')).map(([a, b]) => `least(${a}, ${b})`),
      fc.tuple(tie('number'), tie('number')).map(([a, b]) => `greatest(${a}, ${b})`),
      fc.tuple(tie('number'), tie('number')).map(([a, b]) => `coalesce(${a}, ${b})`),
      fc.tuple(tie('number'), literal).map(([a, b]) => `nullif(${a}, ${b})`),
      fc
        .tuple(tie('condition'), tie('number'), tie('number'))
        .map(([c, a, b]) => `CASE WHEN ${c} THEN ${a} ELSE ${b} END`),
      tie('condition').map((c) => `(${c})::INTEGER`),
    ),
    condition: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc
        .tuple(tie('number'), fc.constantFrom('<', '>', '=', '<=', '>=', '<>'), tie('number'))
        .map(([a, op, b]) => `${a} ${op} ${b}`),
      dimension,
      status,
      tie('number').map((a) => `${a} IS NULL`),
      tie('condition').map((c) => `NOT (${c})`),
      fc.tuple(tie('condition'), tie('condition')).map(([a, b]) => `(${a} AND ${b})`),
      fc.tuple(tie('condition'), tie('condition')).map(([a, b]) => `(${a} OR ${b})`),
    ),
  }));
  const aggregate = fc.oneof(
    fc.tuple(fc.constantFrom('sum', 'min', 'max', 'avg', 'count', 'median'), tree.number).map(([f, a]) => `${f}(${a})`),
    fc.constant('count(*)'),
    tree.number.map((a) => `count(DISTINCT ${a})`),
    fc.tuple(tree.number, tree.condition).map(([a, c]) => `sum(${a}) FILTER (WHERE ${c})`),
    fc.tuple(tree.number, status).map(([a, c]) => `min(${a}) FILTER (WHERE ${c})`),
    tree.condition.map((c) => `bool_or(${c})`),
  );
  return { ...tree, aggregate, status };
}

const flows = grammar(FLOWS);
const joined = grammar(JOINED);
const where = (condition: fc.Arbitrary<string>) =>
  fc.option(
    condition.map((c) => ` WHERE ${c}`),
    { nil: '' },
  );

const windowFunction = fc.oneof(
  flows.number.map((a) => `sum(${a}) OVER (PARTITION BY municipality ORDER BY year)`),
  flows.number.map((a) => `min(${a}) OVER (PARTITION BY municipality)`),
  flows.number.map((a) => `rank() OVER (ORDER BY ${a})`),
  flows.number.map((a) => `lag(${a}) OVER (PARTITION BY municipality ORDER BY year)`),
  flows.number.map((a) => `lead(${a}, 1, 0) OVER (PARTITION BY municipality ORDER BY year)`),
  fc.constant('row_number() OVER (PARTITION BY municipality ORDER BY year)'),
  fc.constant('count(*) OVER ()'),
  flows.number.map(
    (a) => `max(${a}) OVER (PARTITION BY year ORDER BY municipality ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)`,
  ),
  flows.number.map((a) => `first_value(${a}) OVER (PARTITION BY year ORDER BY municipality)`),
);

/** A generated query and how to line its rows up with the twin's. */
interface Case {
  readonly sql: string;
  /** Columns that identify a row (dimension columns); none for a one-row answer; 'set' for DISTINCT. */
  readonly keys: readonly string[] | 'set';
  readonly ordered: boolean;
}

const limit = fc.option(
  fc.integer({ min: 1, max: 6 }).map((n) => ` LIMIT ${n}`),
  { nil: '' },
);
const direction = fc.constantFrom('', ' DESC', ' NULLS FIRST', ' DESC NULLS LAST');

const cases: fc.Arbitrary<Case> = fc.oneof(
  // Projections, filters and ordering.
  fc
    .tuple(
      flows.number,
      flows.number,
      where(flows.condition),
      fc.option(fc.tuple(fc.oneof(flows.number, fc.constant('c1')), direction, limit)),
    )
    .map(([a, b, w, order]) => ({
      sql: `SELECT year, municipality, ${a} AS c1, ${b} AS c2 FROM flows${w}${
        order === null ? '' : ` ORDER BY ${order[0]}${order[1]}, year, municipality${order[2]}`
      }`,
      keys: ['year', 'municipality'],
      ordered: order !== null,
    })),
  // Aggregates by a dimension, with HAVING and ORDER BY … LIMIT.
  fc
    .tuple(
      fc.constantFrom(['municipality', 'municipality'], ['year', 'year'], ['municipality', '1'], ['year', 'g']),
      flows.aggregate,
      flows.aggregate,
      where(flows.condition),
      fc.option(fc.tuple(flows.aggregate, fc.constantFrom('>', '<', '='), fc.integer({ min: 0, max: 400 }))),
      fc.option(limit),
    )
    .map(([[dim, groupBy], a1, a2, w, having, order]) => ({
      sql: `SELECT ${dim} AS g, ${a1} AS a1, ${a2} AS a2 FROM flows${w} GROUP BY ${groupBy}${
        having === null ? '' : ` HAVING ${having[0]} ${having[1]} ${having[2]}`
      }${order === null ? '' : ` ORDER BY a1 NULLS LAST, g${order}`}`,
      keys: ['g'],
      ordered: order !== null,
    })),
  // One-row aggregates.
  fc.tuple(flows.aggregate, flows.aggregate, where(flows.condition)).map(([a1, a2, w]) => ({
    sql: `SELECT ${a1} AS a1, ${a2} AS a2 FROM flows${w}`,
    keys: [],
    ordered: false,
  })),
  // Window functions.
  fc.tuple(windowFunction, windowFunction, where(flows.condition)).map(([w1, w2, w]) => ({
    sql: `SELECT year, municipality, ${w1} AS w1, ${w2} AS w2 FROM flows${w}`,
    keys: ['year', 'municipality'],
    ordered: false,
  })),
  // A subquery filtered again outside.
  fc
    .tuple(flows.number, where(flows.condition), fc.constantFrom('>', '<', '<>'), fc.integer({ min: 0, max: 300 }))
    .map(([a, w, op, k]) => ({
      sql: `SELECT year, municipality, c1 * 2 AS c2 FROM (SELECT year, municipality, ${a} AS c1 FROM flows${w}) s WHERE c1 ${op} ${k}`,
      keys: ['year', 'municipality'],
      ordered: false,
    })),
  // A CTE of aggregates, filtered and computed on.
  fc.tuple(flows.aggregate, where(flows.condition), fc.integer({ min: 0, max: 400 })).map(([a, w, k]) => ({
    sql: `WITH agg AS (SELECT municipality, ${a} AS s FROM flows${w} GROUP BY municipality) SELECT municipality, s AS c1, s - 1 AS c2 FROM agg WHERE s > ${k}`,
    keys: ['municipality'],
    ordered: false,
  })),
  // A join on dimensions.
  fc.tuple(joined.number, where(joined.condition)).map(([a, w]) => ({
    sql: `SELECT f.year, f.municipality, q.grp, ${a} AS c1 FROM flows f JOIN quality q ON f.year = q.year${w}`,
    keys: ['year', 'municipality', 'grp'],
    ordered: false,
  })),
  // An outer join, aggregated.
  fc.tuple(joined.aggregate, fc.constantFrom('x', 'y')).map(([a, grp]) => ({
    sql: `SELECT f.municipality AS g, ${a} AS a1 FROM flows f LEFT JOIN quality q ON f.year = q.year AND q.grp = '${grp}' GROUP BY f.municipality`,
    keys: ['g'],
    ordered: false,
  })),
  // UNION ALL of two tables.
  fc.tuple(flows.number, where(flows.condition)).map(([a, w]) => ({
    sql: `SELECT 'f' AS src, year, municipality AS key, ${a} AS c1 FROM flows${w} UNION ALL SELECT 'q', year, grp, k FROM quality`,
    keys: ['src', 'year', 'key'],
    ordered: false,
  })),
  // A scalar subquery.
  fc.tuple(flows.aggregate, flows.number).map(([a, b]) => ({
    sql: `SELECT year, municipality, ${b} - (SELECT ${a} FROM flows) AS c1 FROM flows`,
    keys: ['year', 'municipality'],
    ordered: false,
  })),
  // Grouping by a computed key: refused where the key may read a suppressed cell.
  fc.tuple(flows.condition, flows.aggregate, where(flows.condition)).map(([c, a, w]) => ({
    sql: `SELECT CASE WHEN ${c} THEN 'yes' ELSE 'no' END AS g, ${a} AS a1 FROM flows${w} GROUP BY 1`,
    keys: ['g'],
    ordered: false,
  })),
  // A LIMIT inside a subquery: refused where its rows or order may read a suppressed cell.
  fc
    .tuple(
      flows.number,
      where(flows.condition),
      fc.oneof(fc.constantFrom('year', 'municipality'), flows.number),
      fc.integer({ min: 1, max: 6 }),
    )
    .map(([a, w, order, k]) => ({
      sql: `SELECT year, municipality, c1 FROM (SELECT year, municipality, ${a} AS c1 FROM flows${w} ORDER BY ${order}, year, municipality LIMIT ${k}) s`,
      keys: ['year', 'municipality'],
      ordered: false,
    })),
  // An outer join whose optional side is filtered: refused where the filter may read a suppressed cell.
  fc
    .tuple(
      joined.aggregate,
      grammar({
        ...FLOWS,
        numbers: ['k', 'w'],
        statuses: ['k_status', 'w_status'],
        dimensions: [{ name: 'grp', values: ['x', 'y'] }],
      }).condition,
    )
    .map(([a, c]) => ({
      sql: `SELECT f.municipality AS g, ${a} AS a1 FROM flows f LEFT JOIN (SELECT * FROM quality WHERE ${c}) q ON f.year = q.year GROUP BY f.municipality`,
      keys: ['g'],
      ordered: false,
    })),
  // DISTINCT values.
  fc.tuple(flows.number, where(flows.condition)).map(([a, w]) => ({
    sql: `SELECT DISTINCT ${a} AS c FROM flows${w}`,
    keys: 'set' as const,
    ordered: false,
  })),
);

interface PlainAnswer {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

async function onTwin(sql: string): Promise<PlainAnswer | undefined> {
  const connection = await twin.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    const types = reader.columnTypes().map((t) => t.toString());
    return {
      columns: reader.columnNames(),
      rows: reader.getRowsJS().map((row) => row.map((v, i) => toCell(v, types[i] ?? ''))),
    };
  } catch {
    return undefined; // the query is not valid SQL on the twin either (a runtime error, say)
  } finally {
    connection.closeSync();
  }
}

function same(a: Cell, b: Cell): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) || (Number.isNaN(a) && Number.isNaN(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Check one marked answer against the twin's; returns how many values were marked. */
function check(testCase: Case, marked: QueryResult, truth: PlainAnswer): number {
  const index = new Map(marked.columns.map((c, i) => [c.name, i]));
  const column = (row: readonly Cell[], name: string): Cell => row[index.get(name) ?? -1] ?? null;
  const isMarked = (row: readonly Cell[], name: string) =>
    name.endsWith('_status') ? column(row, name) === 'suppressed' : column(row, `${name}_status`) === 'suppressed';
  const valueColumns = truth.columns;
  for (const name of valueColumns) expect(index.has(name), `${testCase.sql}: column ${name}`).toBe(true);
  let markedValues = 0;
  const certain: (readonly Cell[])[] = [];
  let uncertain = 0;
  for (const row of marked.rows) {
    const marks = valueColumns.map((name) => isMarked(row, name));
    for (const [i, name] of valueColumns.entries()) {
      if (marks[i] === true) {
        markedValues++;
        if (!name.endsWith('_status')) expect(column(row, name), `${testCase.sql}: marked ${name} is NULL`).toBeNull();
      }
    }
    const keyNames = testCase.keys === 'set' ? [] : testCase.keys;
    if (keyNames.some((k) => marks[valueColumns.indexOf(k)] === true)) {
      // A row of unknown presence: every value in it is marked.
      expect(marks.every(Boolean), `${testCase.sql}: a row with a marked key is marked whole`).toBe(true);
      uncertain++;
    } else certain.push(row);
  }
  const truthRow = (row: readonly Cell[]) => Object.fromEntries(valueColumns.map((n, i) => [n, row[i] ?? null]));
  if (testCase.keys === 'set') {
    const truthValues = truth.rows.map((r) => r[0] ?? null);
    for (const row of certain) {
      if (isMarked(row, valueColumns[0] ?? '')) {
        uncertain++;
        continue;
      }
      const value = column(row, valueColumns[0] ?? '');
      expect(
        truthValues.some((t) => same(t, value)),
        `${testCase.sql}: DISTINCT value ${String(value)}`,
      ).toBe(true);
    }
    if (uncertain === 0) expect(marked.rows.length, `${testCase.sql}: DISTINCT count`).toBe(truth.rows.length);
    return markedValues;
  }
  const keys = testCase.keys;
  const keyOf = (get: (name: string) => Cell) => JSON.stringify(keys.map(get));
  const truthByKey = new Map(
    truth.rows.map((r, position) => [keyOf((n) => r[valueColumns.indexOf(n)] ?? null), { r, position }]),
  );
  let lastPosition = -1;
  for (const row of certain) {
    const found = truthByKey.get(keyOf((n) => column(row, n)));
    expect(found, `${testCase.sql}: row ${keyOf((n) => column(row, n))} is in the twin's answer`).toBeDefined();
    if (found === undefined) continue;
    const expected = truthRow(found.r);
    for (const name of valueColumns) {
      if (isMarked(row, name)) continue;
      expect(
        same(column(row, name), expected[name] ?? null),
        `${testCase.sql}: ${name} = ${JSON.stringify(column(row, name))}, twin ${JSON.stringify(expected[name])}`,
      ).toBe(true);
    }
    if (testCase.ordered) {
      expect(found.position > lastPosition, `${testCase.sql}: rows in the twin's order`).toBe(true);
      lastPosition = found.position;
    }
  }
  if (uncertain === 0) expect(marked.rows.length, `${testCase.sql}: row count`).toBe(truth.rows.length);
  return markedValues;
}

describe('query: every value right or marked (property)', () => {
  it('holds for random queries over a release and its unsuppressed twin', { timeout: 300_000 }, async () => {
    const tally = { ran: 0, refused: 0, invalid: 0, overflow: 0, marked: 0 };
    await fc.assert(
      fc.asyncProperty(cases, async (testCase) => {
        const truth = await onTwin(testCase.sql);
        let marked: QueryResult;
        try {
          marked = await db.query(testCase.sql);
        } catch (error) {
          if (error instanceof QueryRefusedError && error.reason === 'SUPPRESSION_BYPASS') {
            tally.refused++;
            return;
          }
          // A query the twin cannot run either may fail here too; any other failure is a bug.
          if (truth === undefined && (error instanceof QueryFailedError || error instanceof QueryRefusedError)) {
            tally.invalid++;
            return;
          }
          // A row that may not belong is still computed: an overflow in it fails the query (never a wrong value).
          if (error instanceof QueryFailedError && /Overflow|out of range/i.test(error.message)) {
            tally.overflow++;
            return;
          }
          throw new Error(`${testCase.sql}: ${(error as Error).message}`);
        }
        expect(truth, `${testCase.sql}: the twin runs it`).toBeDefined();
        if (truth === undefined) return;
        tally.ran++;
        tally.marked += check(testCase, marked, truth);
      }),
      { numRuns: 400 },
    );
    process.stderr.write(`query property: ${JSON.stringify(tally)}\n`);
    // The property is only worth something if most queries ran and some answers were marked.
    expect(tally.ran).toBeGreaterThan(250);
    expect(tally.refused).toBeGreaterThan(5);
    expect(tally.overflow).toBeLessThan(8);
    expect(tally.marked).toBeGreaterThan(50);
  });
});
