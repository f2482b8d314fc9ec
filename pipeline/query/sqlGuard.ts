import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../core/duckdb.js';
import { QueryRefusedError } from './errors.js';

/** What the guard needs to know about the released tables. */
export interface GuardContext {
  readonly tables: ReadonlySet<string>;
  /** Count/value columns that have an `x_status` companion (they may hold suppressed cells). */
  readonly measures: ReadonlySet<string>;
  /** Columns of released tables that are never a measure: dimensions and statuses. */
  readonly cleanColumns: ReadonlySet<string>;
  /** Every aggregate function DuckDB knows (from duckdb_functions()). */
  readonly aggregates: ReadonlySet<string>;
}

/** Table functions that read nothing from outside: the rest read files, URLs, settings or run SQL. */
const SAFE_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);
const FILE_FUNCTION =
  /read_|parquet|csv|json|glob|text|blob|scan|http|s3|attach|sqlite|postgres|mysql|iceberg|delta|excel|xlsx|spatial|st_read|file/i;
const SCALAR_DENYLIST = new Set(['getenv', 'read_text', 'read_blob']);

/**
 * Aggregates for which a suppressed cell (NaN in the query engine) poisons the
 * result, so it comes out marked suppressed: sum, avg, max… `min`, `median`,
 * `quantile`, `mode`, `arg_max`, `list`… would skip or reorder it silently.
 */
const CONTAGIOUS_AGGREGATES = new Set([
  'sum',
  'sum_no_overflow',
  'fsum',
  'sumkahan',
  'kahan_sum',
  'avg',
  'mean',
  'favg',
  'max',
  'product',
  'count',
  'count_star',
  'stddev',
  'stddev_samp',
  'stddev_pop',
  'var_samp',
  'var_pop',
  'variance',
]);
/** Window functions that move a cell's value (NaN and all) rather than combine cells. */
const VALUE_WINDOW_TYPES = new Set([
  'WINDOW_LAG',
  'WINDOW_LEAD',
  'WINDOW_FIRST_VALUE',
  'WINDOW_LAST_VALUE',
  'WINDOW_NTH_VALUE',
  'WINDOW_ROW_NUMBER',
  'WINDOW_RANK',
  'WINDOW_RANK_DENSE',
  'WINDOW_PERCENT_RANK',
  'WINDOW_CUME_DIST',
  'WINDOW_NTILE',
]);
/** Scalar functions that pick among cells and so skip a suppressed one (least(NaN, 3) = 3). */
const NON_CONTAGIOUS_SCALAR = /^(least|list_|array_)(?!value$)/;

type Node = Record<string, unknown>;

/**
 * Decide whether a researcher's SQL may run. DuckDB's own parser classifies
 * the statement (`extractStatements` for the count, `json_serialize_sql`,
 * which only serialises SELECT statements, for the kind and the tree); the
 * tree is then walked for file and network access and for aggregates that
 * would silently skip suppressed cells. The engine itself is a second line:
 * external access is disabled and its configuration locked.
 */
export async function guardQuery(connection: DuckDBConnection, sql: string, context: GuardContext): Promise<void> {
  if (sql.trim().replace(/;\s*$/, '').trim() === '')
    throw new QueryRefusedError('EMPTY', 'The SQL is empty: give one SELECT query over the released tables.');
  let count: number;
  try {
    count = (await connection.extractStatements(sql)).count;
  } catch (error) {
    throw new QueryRefusedError('SYNTAX', `The SQL does not parse: ${cleanDuckMessage(error)}`);
  }
  if (count === 0)
    throw new QueryRefusedError('EMPTY', 'The SQL is empty: give one SELECT query over the released tables.');
  if (count > 1) {
    // DuckDB expands a PIVOT without an IN list into a type definition plus the query.
    const hint = /\bpivot\b/i.test(sql)
      ? ` (a PIVOT needs its values listed: PIVOT t ON municipality IN ('amsterdam', 'rotterdam') USING sum(x))`
      : '';
    throw new QueryRefusedError(
      'MULTIPLE_STATEMENTS',
      `The SQL holds ${count} statements; give exactly one SELECT query${hint}.`,
    );
  }

  // json_serialize_sql takes a constant only; the literal is escaped, and it only parses.
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
  const serialized = JSON.parse(String(reader.getRows()[0]?.[0])) as {
    error: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (serialized.error) {
    const keyword = /^\s*(?:\(\s*)?([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'this statement';
    throw new QueryRefusedError(
      'NOT_A_QUERY',
      `Only a read-only SELECT query over the released tables is allowed; ${keyword} is not (no COPY, ATTACH, INSTALL/LOAD, PRAGMA, SET, CREATE, INSERT, EXPORT…).`,
    );
  }
  const tree = serialized.statements?.[0];
  checkSources(tree, context, collectCteNames(tree));
  checkSuppression(tree, context);
}

/** Every relation the query reads must be a released table or one of its own CTEs. */
function checkSources(tree: unknown, context: GuardContext, cteNames: ReadonlySet<string>): void {
  walk(tree, (node) => {
    const type = node.type;
    if (type === 'BASE_TABLE') {
      const table = String(node.table_name ?? '');
      const qualified = [node.catalog_name, node.schema_name].some(
        (part) => typeof part === 'string' && part !== '' && part !== 'main',
      );
      if (/[/\\:.]/.test(table) || /^[a-z]+:\/\//i.test(table)) {
        throw new QueryRefusedError(
          'FILE_OR_NETWORK',
          `Reading files or URLs ('${truncate(table)}') is not allowed: only the released tables can be queried.`,
        );
      }
      if (qualified || (!context.tables.has(table) && !cteNames.has(table))) {
        throw new QueryRefusedError(
          'NOT_A_RELEASED_TABLE',
          `'${truncate(table)}' is not a released table. Available: ${[...context.tables].join(', ')}.`,
        );
      }
    } else if (type === 'TABLE_FUNCTION') {
      const name = String((node.function as Node | undefined)?.function_name ?? '');
      if (!SAFE_TABLE_FUNCTIONS.has(name.toLowerCase())) {
        if (FILE_FUNCTION.test(name))
          throw new QueryRefusedError(
            'FILE_OR_NETWORK',
            `${name}() reads files or the network, which is not allowed: only the released tables can be queried.`,
          );
        throw new QueryRefusedError(
          'NOT_A_RELEASED_TABLE',
          `Table function ${name}() is not available: only the released tables can be queried.`,
        );
      }
    } else if (type === 'SHOW_REF' && node.show_type === 'SUMMARY') {
      throw new QueryRefusedError(
        'SUPPRESSION_BYPASS',
        'SUMMARIZE computes min, quantiles and distinct counts that would skip suppressed cells; query the columns with sum/avg/max or filter on the *_status columns instead.',
      );
    } else if (node.class === 'FUNCTION' && SCALAR_DENYLIST.has(String(node.function_name).toLowerCase())) {
      throw new QueryRefusedError(
        'FILE_OR_NETWORK',
        `${String(node.function_name)}() reads outside the released tables, which is not allowed.`,
      );
    }
  });
}

function collectCteNames(tree: unknown): Set<string> {
  const names = new Set<string>();
  walk(tree, (node) => {
    const map = (node.cte_map as Node | undefined)?.map;
    if (Array.isArray(map)) for (const entry of map) names.add(String((entry as Node).key));
  });
  return names;
}

/**
 * Suppressed cells are NaN inside the engine, so arithmetic, sum, avg and max
 * carry them into the result, where they come out NULL with status
 * 'suppressed'. Aggregates that would skip a NaN (min, median, quantiles,
 * mode, arg_max, list…) are allowed only over columns that cannot hold one:
 * dimensions, statuses, and names the query derives from those alone. A
 * FILTER clause on a `*_status` column is the researcher saying explicitly
 * which cells to use, and is allowed. Names are followed through aliases,
 * CTE and subquery column lists, set operations, STAR renames and PIVOT;
 * anything the guard cannot follow counts as possibly suppressed.
 */
function checkSuppression(tree: unknown, context: GuardContext): void {
  const relationNames = new Set<string>(context.tables);
  const dirty = new Set<string>(context.measures);
  const definitions: { name: string; expression: unknown }[] = [];
  walk(tree, (node) => {
    if (
      typeof node.alias === 'string' &&
      node.alias !== '' &&
      node.type !== undefined &&
      typeof node.class !== 'string'
    ) {
      relationNames.add(node.alias); // a table reference's alias
    }
    const map = (node.cte_map as Node | undefined)?.map;
    if (Array.isArray(map)) {
      for (const entry of map as Node[]) {
        relationNames.add(String(entry.key));
        for (const alias of ((entry.value as Node | undefined)?.aliases as unknown[] | undefined) ?? [])
          dirty.add(String(alias));
      }
    }
    for (const alias of (node.column_name_alias as unknown[] | undefined) ?? []) dirty.add(String(alias));
    if (node.type === 'PIVOT') collectStrings(node, dirty);
    if (node.class === 'STAR') {
      collectStrings(node.rename_list, dirty);
      collectStrings(node.replace_list, dirty);
    }
    if (node.type === 'SELECT_NODE' && Array.isArray(node.select_list)) {
      for (const expression of node.select_list as Node[]) {
        if (typeof expression.alias === 'string' && expression.alias !== '')
          definitions.push({ name: expression.alias, expression });
      }
    }
  });
  const definedNames = new Set(definitions.map((d) => d.name));
  // Columns of a UNION/EXCEPT/INTERSECT are positional: a measure in one branch
  // lands under the other branch's name.
  const setOperations: Node[][] = [];
  walk(tree, (node) => {
    if (node.type !== 'SET_OPERATION_NODE') return;
    const lists: Node[][] = [];
    collectSetOperationSelects(node, lists);
    setOperations.push(lists.flat());
  });
  const clean = (expression: unknown) => isClean(expression, dirty, relationNames, definedNames, context);
  for (let round = 0; round < 20; round++) {
    const before = dirty.size;
    for (const { name, expression } of definitions) if (!clean(expression)) dirty.add(name);
    for (const expressions of setOperations) {
      if (expressions.some((e) => !clean(e)))
        for (const name of expressions.map(outputName)) if (name !== undefined) dirty.add(name);
    }
    if (dirty.size === before) break;
  }

  walk(tree, (node) => {
    const name = String(node.function_name ?? '').toLowerCase();
    if (node.class === 'FUNCTION' && node.is_operator !== true) {
      const aggregate = context.aggregates.has(name) && !CONTAGIOUS_AGGREGATES.has(name);
      const picking = NON_CONTAGIOUS_SCALAR.test(name);
      if (
        (aggregate || picking) &&
        !filtersOnStatus(node.filter) &&
        !(node.children as unknown[]).every((child) => clean(child))
      ) {
        throw suppressionRefusal(name);
      }
    } else if (node.class === 'WINDOW' && !VALUE_WINDOW_TYPES.has(String(node.type))) {
      if (
        !CONTAGIOUS_AGGREGATES.has(name) &&
        !filtersOnStatus(node.filter_expr) &&
        !((node.children as unknown[] | undefined) ?? []).every((child) => clean(child))
      ) {
        throw suppressionRefusal(name);
      }
    }
  });
}

function suppressionRefusal(name: string): QueryRefusedError {
  return new QueryRefusedError(
    'SUPPRESSION_BYPASS',
    `${name}() over a column that may hold suppressed cells would silently skip them. Use sum/avg/max (a result that depends on a suppressed cell comes back NULL with status 'suppressed'), or say which cells to use: ${name}(x) FILTER (WHERE x_status <> 'suppressed').`,
  );
}

function filtersOnStatus(filter: unknown): boolean {
  let found = false;
  walk(filter, (node) => {
    if (node.class === 'COLUMN_REF' && (node.column_names as unknown[]).some((n) => String(n).endsWith('_status')))
      found = true;
  });
  return found;
}

/** True when every column the expression reads is known to hold no suppressed cell. */
function isClean(
  expression: unknown,
  dirty: ReadonlySet<string>,
  relationNames: ReadonlySet<string>,
  definedNames: ReadonlySet<string>,
  context: GuardContext,
): boolean {
  let clean = true;
  walk(expression, (node) => {
    if (node.class === 'STAR' || node.class === 'SUBQUERY' || node.class === 'LAMBDA') {
      clean = false;
    } else if (node.class === 'COLUMN_REF') {
      const parts = (node.column_names as unknown[]).map(String);
      const last = parts[parts.length - 1] ?? '';
      const prefixOk = parts.slice(0, -1).every((p) => relationNames.has(p) && !dirty.has(p));
      const known = context.cleanColumns.has(last) || definedNames.has(last);
      if (!prefixOk || dirty.has(last) || !known) clean = false;
    }
  });
  return clean;
}

function collectSetOperationSelects(node: Node, lists: Node[][]): void {
  for (const side of [node.left, node.right] as (Node | undefined)[]) {
    if (side === undefined) continue;
    if (side.type === 'SET_OPERATION_NODE') collectSetOperationSelects(side, lists);
    else if (Array.isArray(side.select_list)) lists.push(side.select_list as Node[]);
  }
}

function outputName(expression: Node): string | undefined {
  if (typeof expression.alias === 'string' && expression.alias !== '') return expression.alias;
  if (expression.class === 'COLUMN_REF') return (expression.column_names as unknown[]).map(String).at(-1);
  return undefined;
}

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (value !== null && typeof value === 'object')
    for (const item of Object.values(value)) collectStrings(item, into);
}

function walk(value: unknown, visit: (node: Node) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (value !== null && typeof value === 'object') {
    visit(value as Node);
    for (const item of Object.values(value)) walk(item, visit);
  }
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** DuckDB error text without its class prefix; no data values are in parser/binder messages. */
export function cleanDuckMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^[A-Za-z ]+Error: /, '').trim();
}
