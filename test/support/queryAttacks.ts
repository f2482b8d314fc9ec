import type { RefusalReason } from '../../pipeline/query/errors.js';

/**
 * Attacks on the query service, each with the exact outcome it must get, run
 * through both `boldlink query` and POST /api/query (queryAttacks.test.ts).
 * They cover every finding of issue #20 and the neighbours of each. The
 * release is the sample bundle (pipeline/query/sampleRelease.ts): in
 * outflow_by_year_municipality, to_work and durable are suppressed for
 * (2021, utrecht) and (2021, den_haag); every other cell is published.
 */

export const T = 'outflow_by_year_municipality';

export type AttackOutcome =
  /** Refused before it runs: the reason, and a pattern the message must match (naming the construct). */
  | { readonly refused: RefusalReason; readonly names: RegExp }
  /** Answered: exactly these rows (JSON rows, as POST /api/query writes them). */
  | { readonly rows: readonly Record<string, unknown>[] }
  /** Stopped by a limit. */
  | { readonly limit: 'RESULT_TOO_LARGE' | 'VALUE_TOO_LARGE' | 'QUERY_TIMEOUT' }
  /** Accepted but DuckDB cannot bind it: the message names the problem. */
  | { readonly failed: RegExp };

export interface Attack {
  /** The finding it belongs to (issue #20, point 1–5), or 'guard' for the guard's neighbours. */
  readonly finding: string;
  readonly name: string;
  readonly sql: string;
  readonly outcome: AttackOutcome;
}

const suppressed = (column: string) => [{ [column]: null, [`${column}_status`]: 'suppressed' }];
const UTRECHT_2021 = `FROM ${T} WHERE outflow_year = '2021' AND municipality = 'utrecht'`;
/** A row whose presence depends on a suppressed cell: every value NULL and marked. */
const markedRow = (...columns: string[]) =>
  Object.fromEntries(
    columns.flatMap((c) => [
      [c, null],
      [`${c}_status`, 'suppressed'],
    ]),
  );

export const ATTACKS: readonly Attack[] = [
  // 1. Catalog relations behind a CTE name visible elsewhere: a CTE is visible only where SQL says.
  ...['sqlite_master', 'duckdb_tables', 'duckdb_columns', 'duckdb_indexes', 'pragma_database_list'].map(
    (name): Attack => ({
      finding: '1',
      name: `${name} behind a CTE of that name in another subquery`,
      sql: `SELECT * FROM (WITH ${name} AS (SELECT 1) SELECT 1) q, ${name}`,
      outcome: { refused: 'NOT_A_RELEASED_TABLE', names: new RegExp(`'${name}' is not a released table`) },
    }),
  ),
  {
    finding: '1',
    name: 'a CTE used in a sibling subquery',
    sql: 'SELECT * FROM (WITH c AS (SELECT 1 AS x) SELECT * FROM c) a, c',
    outcome: { refused: 'NOT_A_RELEASED_TABLE', names: /'c' is not a released table/ },
  },
  {
    finding: '1',
    name: 'a CTE read inside its own subquery (allowed: it is in scope)',
    sql: 'WITH duckdb_tables AS (SELECT 1 AS x) SELECT * FROM (SELECT * FROM duckdb_tables)',
    outcome: { rows: [{ x: 1 }] },
  },
  {
    finding: '1',
    name: 'a CTE shadowing a released table (allowed: the CTE is what the query reads)',
    sql: `WITH ${T} AS (SELECT 1 AS durable) SELECT * FROM ${T}`,
    outcome: { rows: [{ durable: 1 }] },
  },
  ...[
    'main.sqlite_master',
    'information_schema.tables',
    'pg_catalog.pg_tables',
    `memory.main.${T}`,
    'sqlite_schema',
  ].map(
    (name): Attack => ({
      finding: '1',
      name: `the catalog relation ${name}`,
      sql: `SELECT * FROM ${name}`,
      outcome: {
        refused: 'NOT_A_RELEASED_TABLE',
        names: new RegExp(`'${name.replaceAll('.', '\\.')}' is not a released table`),
      },
    }),
  ),
  ...['duckdb_settings', 'duckdb_tables', 'pragma_database_list', 'duckdb_secrets', 'duckdb_extensions'].map(
    (name): Attack => ({
      finding: '1',
      name: `the catalog function ${name}()`,
      sql: `SELECT * FROM ${name}()`,
      outcome: { refused: 'NOT_A_RELEASED_TABLE', names: new RegExp(`${name}\\(\\) is not available`) },
    }),
  ),

  // 2. Settings and the environment.
  ...[
    "current_setting('secret_directory')",
    "current_setting('allowed_directories')",
    "current_setting('threads')",
    "getvariable('x')",
    'version()',
    'current_database()',
    'current_schema()',
    "pg_catalog.current_setting('threads')",
    `"current_setting"('threads')`,
  ].map(
    (call): Attack => ({
      finding: '2',
      name: call,
      sql: `SELECT ${call}`,
      outcome: {
        refused: 'SETTINGS_OR_CATALOG',
        names: new RegExp(`${/^(?:pg_catalog\.)?"?([a-z_]+)/.exec(call)?.[1] ?? ''}\\(\\)`),
      },
    }),
  ),
  {
    finding: '2',
    name: 'current_setting() hidden in a LATERAL subquery and a comment',
    sql: `SELECT * FROM ${T}, LATERAL (SELECT/**/current_setting('threads'))`,
    outcome: { refused: 'SETTINGS_OR_CATALOG', names: /current_setting\(\)/ },
  },
  {
    finding: '2',
    name: "getenv('HOME')",
    sql: "SELECT getenv('HOME')",
    outcome: { refused: 'FILE_OR_NETWORK', names: /getenv\(\)/ },
  },

  // 3. Values computed from a suppressed cell: marked, never wrong.
  {
    finding: '3',
    name: 'sign()',
    sql: `SELECT sign(durable) AS x ${UTRECHT_2021}`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'a comparison cast to INT',
    sql: `SELECT (durable > 100)::INT AS x ${UTRECHT_2021}`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'a cast to text',
    sql: `SELECT durable::VARCHAR AS x ${UTRECHT_2021}`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'coalesce(nullif(…)) to a default',
    sql: `SELECT coalesce(nullif(durable, 'NaN'::DOUBLE), -1) AS x ${UTRECHT_2021}`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'isnan()',
    sql: `SELECT isnan(durable) AS x ${UTRECHT_2021}`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'arg_max() over a column with a suppressed cell',
    sql: `SELECT arg_max(outflow_year, durable) AS x FROM ${T} WHERE municipality = 'utrecht'`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'least() of a suppressed and a published cell',
    sql: `SELECT least(durable, 0) AS x ${UTRECHT_2021}`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'a CASE on a suppressed cell',
    sql: `SELECT CASE WHEN durable IS NULL THEN 'hidden' ELSE 'shown' END AS x ${UTRECHT_2021}`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'WHERE on a measure (rows it might keep are marked, not kept as if they passed)',
    sql: `SELECT municipality, durable FROM ${T} WHERE outflow_year = '2021' AND durable > 50`,
    outcome: {
      rows: [
        markedRow('municipality', 'durable'),
        { municipality: 'rotterdam', municipality_status: 'published', durable: 67, durable_status: 'published' },
        markedRow('municipality', 'durable'),
        { municipality: 'Total', municipality_status: 'published', durable: 214, durable_status: 'published' },
      ],
    },
  },
  {
    finding: '3',
    name: 'WHERE on a measure that names the published cells (nothing to mark)',
    sql: `SELECT municipality, durable FROM ${T} WHERE outflow_year = '2021' AND durable_status <> 'suppressed' AND durable > 50`,
    outcome: {
      rows: [
        { municipality: 'rotterdam', durable: 67 },
        { municipality: 'Total', durable: 214 },
      ],
    },
  },
  {
    finding: '3',
    name: 'count(*) of rows a measure filter keeps',
    sql: `SELECT count(*) AS n FROM ${T} WHERE durable > 50`,
    outcome: { rows: suppressed('n') },
  },
  {
    finding: '3',
    name: 'ORDER BY a measure with LIMIT (a suppressed cell could be in the top)',
    sql: `SELECT municipality, durable FROM ${T} WHERE outflow_year = '2021' ORDER BY durable DESC LIMIT 2`,
    outcome: { rows: [markedRow('municipality', 'durable'), markedRow('municipality', 'durable')] },
  },
  {
    finding: '3',
    name: 'ORDER BY a measure (rows of unknown place are marked and last)',
    sql: `SELECT municipality, durable FROM ${T} WHERE outflow_year = '2021' ORDER BY durable DESC`,
    outcome: {
      rows: [
        { municipality: 'Total', municipality_status: 'published', durable: 214, durable_status: 'published' },
        { municipality: 'rotterdam', municipality_status: 'published', durable: 67, durable_status: 'published' },
        { municipality: 'amsterdam', municipality_status: 'published', durable: 40, durable_status: 'published' },
        markedRow('municipality', 'durable'),
        markedRow('municipality', 'durable'),
      ],
    },
  },
  {
    finding: '3',
    name: 'a running sum over a window (exact until the suppressed cell)',
    sql: `SELECT outflow_year, sum(durable) OVER (ORDER BY outflow_year) AS running FROM ${T} WHERE municipality = 'utrecht' AND outflow_year <> 'Total' ORDER BY outflow_year`,
    outcome: {
      rows: [
        { outflow_year: '2019', running: 73, running_status: 'published' },
        { outflow_year: '2020', running: 150, running_status: 'published' },
        { outflow_year: '2021', running: null, running_status: 'suppressed' },
      ],
    },
  },
  {
    finding: '3',
    name: 'rank() over a measure',
    sql: `SELECT municipality, rank() OVER (ORDER BY durable) AS r FROM ${T} WHERE outflow_year = '2021' ORDER BY municipality`,
    outcome: {
      rows: ['Total', 'amsterdam', 'den_haag', 'rotterdam', 'utrecht'].map((municipality) => ({
        municipality,
        r: null,
        r_status: 'suppressed',
      })),
    },
  },
  {
    finding: '3',
    name: 'a scalar subquery over a suppressed cell',
    sql: `SELECT (SELECT max(durable) FROM ${T}) AS x`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'EXISTS over rows a measure filter may keep',
    sql: `SELECT EXISTS (SELECT 1 FROM ${T} WHERE durable > 1000) AS x`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '3',
    name: 'a measure in a join condition',
    sql: `SELECT a.municipality FROM ${T} a JOIN ${T} b ON a.durable = b.durable`,
    outcome: { refused: 'SUPPRESSION_BYPASS', names: /join condition reads a\.durable/ },
  },
  {
    finding: '3',
    name: 'GROUP BY a measure',
    sql: `SELECT durable, count(*) FROM ${T} GROUP BY durable`,
    outcome: { refused: 'SUPPRESSION_BYPASS', names: /GROUP BY on durable/ },
  },
  {
    finding: '3',
    name: 'PARTITION BY a measure',
    sql: `SELECT count(*) OVER (PARTITION BY to_work) FROM ${T}`,
    outcome: { refused: 'SUPPRESSION_BYPASS', names: /PARTITION BY to_work/ },
  },
  {
    finding: '3',
    name: 'a LIMIT inside a subquery, ordered by a measure',
    sql: `SELECT * FROM (SELECT municipality FROM ${T} ORDER BY durable DESC LIMIT 3) top`,
    outcome: { refused: 'SUPPRESSION_BYPASS', names: /LIMIT inside a subquery/ },
  },
  {
    finding: '3',
    name: 'the optional side of a LEFT JOIN filtered on a measure',
    sql: `SELECT a.municipality, b.durable FROM ${T} a LEFT JOIN (SELECT * FROM ${T} WHERE durable > 50) b ON a.municipality = b.municipality AND a.outflow_year = b.outflow_year`,
    outcome: { refused: 'SUPPRESSION_BYPASS', names: /optional side of this LEFT JOIN/ },
  },
  {
    finding: '3',
    name: 'SUMMARIZE',
    sql: `SUMMARIZE ${T}`,
    outcome: { refused: 'SUPPRESSION_BYPASS', names: /SUMMARIZE/ },
  },

  // 4. The FILTER clause is not a pass: its rows are judged like any others.
  {
    finding: '4',
    name: 'min() FILTER on a condition that is always true',
    sql: `SELECT min(durable) FILTER (WHERE durable_status = durable_status) AS x FROM ${T}`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '4',
    name: "quantile_disc() FILTER on another column's status",
    sql: `SELECT quantile_disc(durable, 0.5) FILTER (WHERE spells_status = 'published') AS x FROM ${T}`,
    outcome: { rows: suppressed('x') },
  },
  {
    finding: '4',
    name: 'min() FILTER on its own published cells (the answer asked for: nothing to mark)',
    sql: `SELECT min(durable) FILTER (WHERE durable_status <> 'suppressed') AS x FROM ${T}`,
    outcome: { rows: [{ x: 31 }] },
  },

  // 5. Size, time and text.
  {
    finding: '5',
    name: "repeat('x', 300000000)",
    sql: "SELECT repeat('x', 300000000)",
    outcome: { limit: 'VALUE_TOO_LARGE' },
  },
  {
    finding: '5',
    name: "repeat('x', 600000000)",
    sql: "SELECT repeat('x', 600000000)",
    outcome: { limit: 'VALUE_TOO_LARGE' },
  },
  {
    finding: '5',
    name: 'lpad() to 100 MB',
    sql: "SELECT lpad('x', 100000000, 'y')",
    outcome: { limit: 'VALUE_TOO_LARGE' },
  },
  {
    finding: '5',
    name: 'many 1 MB values (the result size)',
    sql: "SELECT repeat('x', 1000000) AS s FROM range(100)",
    outcome: { limit: 'RESULT_TOO_LARGE' },
  },
  {
    finding: '5',
    name: 'string_agg() to 100 MB',
    sql: "SELECT string_agg(repeat('x', 1000000), '') AS s FROM range(100)",
    outcome: { limit: 'RESULT_TOO_LARGE' },
  },
  { finding: '5', name: 'too many rows', sql: 'SELECT * FROM range(2000000)', outcome: { limit: 'RESULT_TOO_LARGE' } },
  {
    finding: '5',
    name: 'a query that runs too long',
    sql: 'SELECT count(*) FROM range(1000000000) a, range(1000) b',
    outcome: { limit: 'QUERY_TIMEOUT' },
  },
  {
    finding: '5',
    name: 'a NUL character in the SQL',
    sql: 'SELECT 1\u0000',
    outcome: { refused: 'INVALID_TEXT', names: /NUL character/ },
  },

  // The guard's neighbours: statements, files, constructs the rewrite does not take.
  ...[
    [`COPY ${T} TO '/tmp/boldlink-leak.csv'`, 'COPY'],
    ["ATTACH '/tmp/x.duckdb' AS x", 'ATTACH'],
    ['INSTALL httpfs', 'INSTALL'],
    ['LOAD httpfs', 'LOAD'],
    ['PRAGMA version', 'PRAGMA'],
    ['SET enable_external_access = true', 'SET'],
    ['RESET lock_configuration', 'RESET'],
    ['CALL pragma_version()', 'CALL'],
    ['EXPLAIN ANALYZE SELECT 1', 'EXPLAIN'],
    ['USE memory', 'USE'],
    [`CREATE TABLE x AS SELECT * FROM ${T}`, 'CREATE'],
    [`DELETE FROM ${T}`, 'DELETE'],
  ].map(
    ([sql, keyword]): Attack => ({
      finding: 'guard',
      name: keyword ?? '',
      sql: sql ?? '',
      outcome: { refused: 'NOT_A_QUERY', names: new RegExp(`${keyword} is not`) },
    }),
  ),
  {
    finding: 'guard',
    name: 'a second statement',
    sql: `SELECT 1; DROP TABLE ${T}`,
    outcome: { refused: 'MULTIPLE_STATEMENTS', names: /2 statements/ },
  },
  ...[
    ["SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\)/],
    ["SELECT * FROM read_text('/etc/passwd')", /read_text\(\)/],
    ["SELECT * FROM glob('/*')", /glob\(\)/],
    ["SELECT * FROM '/etc/passwd'", /'\/etc\/passwd'/],
    ["SELECT * FROM 'https://example.org/x.csv'", /example\.org/],
    ["SELECT * FROM query('SELECT 1')", /query\(\)/],
    ["SELECT json_execute_serialized_sql('{}')", /json_execute_serialized_sql\(\)/],
  ].map(
    ([sql, names]): Attack => ({
      finding: 'guard',
      name: String(sql),
      sql: String(sql),
      outcome: { refused: 'FILE_OR_NETWORK', names: names as RegExp },
    }),
  ),
  ...[
    ["SELECT {'v': 1, 't': false} AS x", 'FUNCTION_NOT_ALLOWED', /struct_pack\(\)/],
    ['SELECT row(1, 2)', 'FUNCTION_NOT_ALLOWED', /row\(\)/],
    ['SELECT random()', 'FUNCTION_NOT_ALLOWED', /random\(\)/],
    [`SELECT first(durable) FROM ${T}`, 'FUNCTION_NOT_ALLOWED', /first\(\)/],
    [`SELECT durable::STRUCT(v BIGINT) FROM ${T}`, 'UNSUPPORTED', /STRUCT/],
    [`SELECT "$row" FROM ${T}`, 'UNSUPPORTED', /\$row/],
    [`SELECT * FROM ${T} USING SAMPLE 10%`, 'UNSUPPORTED', /SAMPLE/],
    ['SELECT list_sort([2, 1], x -> x)', 'UNSUPPORTED', /Lambda/],
    ['SELECT $1', 'UNSUPPORTED', /parameters/],
    [`SELECT min(COLUMNS('dur.*')) FROM ${T}`, 'UNSUPPORTED', /COLUMNS/],
    ['WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r', 'UNSUPPORTED', /RECURSIVE/],
    [`DESCRIBE ${T}`, 'UNSUPPORTED', /DESCRIBE/],
    [`SELECT * FROM (PIVOT ${T} ON municipality IN ('utrecht') USING min(durable))`, 'UNSUPPORTED', /pivot/i],
    [`SELECT municipality FROM ${T} WHERE durable IN (SELECT durable FROM ${T})`, 'UNSUPPORTED', /IN \(SELECT/],
    [`SELECT * FROM ${T} NATURAL JOIN ${T} b`, 'UNSUPPORTED', /NATURAL JOIN/],
  ].map(
    ([sql, reason, names]): Attack => ({
      finding: 'guard',
      name: String(sql),
      sql: String(sql),
      outcome: { refused: reason as RefusalReason, names: names as RegExp },
    }),
  ),
  {
    finding: 'guard',
    name: "a pair's raw field (durable.v)",
    sql: `SELECT durable.v FROM ${T}`,
    outcome: { failed: /durable/ },
  },
];
