import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../core/duckdb.js';
import {
  AGGREGATE_FUNCTIONS,
  refusalKind,
  SCALAR_FUNCTIONS,
  TABLE_FUNCTIONS,
  WINDOW_TYPES,
} from './allowedFunctions.js';
import { QueryRefusedError } from './errors.js';
import { child, children, isNode, type Node, strings, text } from './parseTree.js';

/** What the guard needs to know about the released tables. */
export interface GuardContext {
  /** Released table names, lower case. */
  readonly tables: ReadonlySet<string>;
}

/** A query the guard accepted: DuckDB's parse tree and how each relation name resolved. */
export interface GuardedQuery {
  /** The statement's query node (SELECT_NODE or SET_OPERATION_NODE). */
  readonly statement: Node;
  /** Each BASE_TABLE reference that names a CTE, to that CTE's query node. */
  readonly cteOf: ReadonlyMap<Node, Node>;
}

/** Expression operators (class OPERATOR) a query may use. */
const OPERATOR_TYPES = new Set([
  'OPERATOR_NOT',
  'OPERATOR_IS_NULL',
  'OPERATOR_IS_NOT_NULL',
  'COMPARE_IN',
  'COMPARE_NOT_IN',
  'OPERATOR_COALESCE',
  'ARRAY_EXTRACT',
  'ARRAY_SLICE',
]);

/** Types a value may be cast to: scalars and lists of them; no STRUCT, MAP, UNION or user type. */
const CAST_TYPES = new Set([
  'BOOLEAN',
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'UHUGEINT',
  'FLOAT',
  'DOUBLE',
  'DECIMAL',
  'VARCHAR',
  'DATE',
  'TIME',
  'TIMESTAMP',
  'INTERVAL',
  'LIST',
  'ARRAY',
]);

/**
 * Decide whether a researcher's SQL may run, on DuckDB's own parse tree
 * (`json_serialize_sql`, which serialises SELECT statements only). The tree
 * is walked with scopes, the way DuckDB binds it: a CTE is visible in the
 * query that defines it (its body, its subqueries and the CTEs after it) and
 * nowhere else, so a relation name is either one of those CTEs or a released
 * table; anything else, catalog views included, is refused. Every node type,
 * operator, function and cast target must be on an allow-list. A refusal
 * names the construct. Behind the guard, the engine itself holds only the
 * released tables, with external access off and its configuration locked.
 */
export async function guardQuery(
  connection: DuckDBConnection,
  sql: string,
  context: GuardContext,
): Promise<GuardedQuery> {
  if (sql.includes('\u0000'))
    throw new QueryRefusedError(
      'INVALID_TEXT',
      'The SQL contains a NUL character (\\u0000), which is not valid in SQL text; remove it.',
    );
  if (sql.trim().replace(/;\s*$/, '').trim() === '')
    throw new QueryRefusedError('EMPTY', 'The SQL is empty: give one SELECT query over the released tables.');
  // json_serialize_sql takes a constant only; the literal is escaped, and it only parses.
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
  // Source positions are dropped: they are 64-bit (past what a JS number holds) and optional when read back.
  const serialized = JSON.parse(String(reader.getRows()[0]?.[0]), (key, value: unknown) =>
    key === 'query_location' ? undefined : value,
  ) as {
    error: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (serialized.error) await refuseUnserializable(connection, sql, serialized.error_message ?? '');
  const statements = (serialized.statements ?? []).filter(isNode);
  if (statements.length === 0)
    throw new QueryRefusedError('EMPTY', 'The SQL is empty: give one SELECT query over the released tables.');
  if (statements.length > 1)
    throw new QueryRefusedError(
      'MULTIPLE_STATEMENTS',
      `The SQL holds ${statements.length} statements; give exactly one SELECT query.`,
    );
  const statement = statements[0] as Node;
  if (strings(statement, 'named_param_map').length > 0 || children(statement, 'named_param_map').length > 0)
    throw new QueryRefusedError('UNSUPPORTED', 'Query parameters ($1, ?) are not supported: write the values in.');
  const node = child(statement, 'node');
  if (node === undefined) throw new QueryRefusedError('NOT_A_QUERY', 'Only a SELECT query is allowed.');
  const walk = new ScopedWalk(context);
  walk.query(node, new Map());
  return { statement: node, cteOf: walk.cteOf };
}

/** json_serialize_sql refused: a syntax error, a statement that is not a SELECT, or several statements. */
async function refuseUnserializable(connection: DuckDBConnection, sql: string, message: string): Promise<never> {
  let count: number;
  try {
    count = (await connection.extractStatements(sql)).count;
  } catch (error) {
    throw new QueryRefusedError('SYNTAX', `The SQL does not parse: ${cleanDuckMessage(error)}`);
  }
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
  if (/syntax|parser/i.test(message) && !/only select/i.test(message))
    throw new QueryRefusedError('SYNTAX', `The SQL does not parse: ${cleanDuckMessage(message)}`);
  const keyword = /^\s*(?:\(\s*)?([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'this statement';
  throw new QueryRefusedError(
    'NOT_A_QUERY',
    `Only a read-only SELECT query over the released tables is allowed; ${keyword} is not (no COPY, ATTACH, INSTALL/LOAD, PRAGMA, SET, CALL, CREATE, INSERT, EXPORT…).`,
  );
}

type Scope = ReadonlyMap<string, Node>;

class ScopedWalk {
  readonly cteOf = new Map<Node, Node>();

  constructor(private readonly context: GuardContext) {}

  query(node: Node, scope: Scope): void {
    const type = text(node, 'type');
    if (type === 'RECURSIVE_CTE_NODE')
      throw refuse(
        'UNSUPPORTED',
        'WITH RECURSIVE is not supported: released tables are aggregates; query them directly.',
      );
    if (type !== 'SELECT_NODE' && type !== 'SET_OPERATION_NODE')
      throw refuse('UNSUPPORTED', `A ${describeNodeType(type)} is not supported here; write a SELECT.`);
    const inner = this.ctes(node, scope);
    for (const modifier of children(node, 'modifiers')) this.modifier(modifier, inner);
    if (type === 'SET_OPERATION_NODE') {
      const left = child(node, 'left');
      const right = child(node, 'right');
      if (left !== undefined) this.query(left, inner);
      if (right !== undefined) this.query(right, inner);
      return;
    }
    if (node.sample !== null && node.sample !== undefined)
      throw refuse('UNSUPPORTED', 'USING SAMPLE draws rows at random; query the whole table.');
    const from = child(node, 'from_table');
    if (from !== undefined) this.table(from, inner);
    for (const item of children(node, 'select_list')) this.selectItem(item, inner);
    for (const key of ['where_clause', 'having', 'qualify']) {
      const expression = child(node, key);
      if (expression !== undefined) this.expression(expression, inner);
    }
    for (const expression of children(node, 'group_expressions')) this.expression(expression, inner);
  }

  /** The CTEs a query node defines: each sees the ones before it; the node's body sees all. */
  private ctes(node: Node, scope: Scope): Scope {
    const entries = children(child(node, 'cte_map') ?? {}, 'map');
    if (entries.length === 0) return scope;
    const inner = new Map(scope);
    for (const entry of entries) {
      const name = text(entry, 'key');
      reserved(name, 'CTE name');
      const value = child(entry, 'value') ?? {};
      for (const alias of strings(value, 'aliases')) reserved(alias, 'column alias');
      const cteQuery = child(child(value, 'query') ?? {}, 'node');
      if (cteQuery === undefined) throw refuse('UNSUPPORTED', `CTE '${truncate(name)}' has no query.`);
      this.query(cteQuery, inner);
      inner.set(name.toLowerCase(), cteQuery);
    }
    return inner;
  }

  private modifier(modifier: Node, scope: Scope): void {
    const type = text(modifier, 'type');
    if (type === 'ORDER_MODIFIER') {
      for (const order of children(modifier, 'orders')) {
        const expression = child(order, 'expression');
        if (expression === undefined) continue;
        // ORDER BY ALL is a STAR with columns set.
        if (expression.class === 'STAR' && expression.columns === true && expression.expr === null) continue;
        this.expression(expression, scope);
      }
    } else if (type === 'LIMIT_MODIFIER') {
      for (const key of ['limit', 'offset']) {
        const expression = child(modifier, key);
        if (expression !== undefined) this.expression(expression, scope);
      }
    } else if (type === 'DISTINCT_MODIFIER') {
      if (children(modifier, 'distinct_on_targets').length > 0)
        throw refuse(
          'UNSUPPORTED',
          'DISTINCT ON is not supported; use GROUP BY with min/max, or QUALIFY row_number().',
        );
    } else if (type === 'LIMIT_PERCENT_MODIFIER') {
      throw refuse('UNSUPPORTED', 'LIMIT … % is not supported; give a number of rows.');
    } else {
      throw refuse('UNSUPPORTED', `The query modifier ${type} is not supported.`);
    }
  }

  private table(ref: Node, scope: Scope): void {
    const type = text(ref, 'type');
    reserved(text(ref, 'alias'), 'table alias');
    for (const alias of strings(ref, 'column_name_alias')) reserved(alias, 'column alias');
    if (ref.sample !== null && ref.sample !== undefined)
      throw refuse('UNSUPPORTED', 'TABLESAMPLE draws rows at random; query the whole table.');
    switch (type) {
      case 'EMPTY':
        return;
      case 'BASE_TABLE':
        this.relationName(ref, scope);
        return;
      case 'JOIN': {
        for (const side of ['left', 'right']) {
          const sideRef = child(ref, side);
          if (sideRef !== undefined) this.table(sideRef, scope);
        }
        const condition = child(ref, 'condition');
        if (condition !== undefined) this.expression(condition, scope);
        for (const name of strings(ref, 'using_columns')) reserved(name, 'column');
        return;
      }
      case 'SUBQUERY': {
        const node = child(child(ref, 'subquery') ?? {}, 'node');
        if (node !== undefined) this.query(node, scope);
        return;
      }
      case 'EXPRESSION_LIST':
        for (const row of (ref.values as unknown[] | undefined) ?? [])
          for (const value of Array.isArray(row) ? row.filter(isNode) : []) this.expression(value, scope);
        return;
      case 'TABLE_FUNCTION': {
        const fn = child(ref, 'function') ?? {};
        const name = text(fn, 'function_name').toLowerCase();
        if (!TABLE_FUNCTIONS.has(name) || !unqualified(fn)) {
          const kind = refusalKind(name);
          throw refuse(
            kind === 'FILE_OR_NETWORK' ? kind : 'NOT_A_RELEASED_TABLE',
            kind === 'FILE_OR_NETWORK'
              ? `${truncate(name)}() reads outside the released tables (files, URLs or SQL text), which is not allowed: only the released tables can be queried.`
              : `Table function ${truncate(name)}() is not available: only the released tables (and range/generate_series) can be queried.`,
          );
        }
        for (const arg of children(fn, 'children')) {
          if (containsNode(arg, (n) => n.class === 'COLUMN_REF' || n.class === 'SUBQUERY'))
            throw refuse('UNSUPPORTED', `${name}() takes constant arguments here.`);
          this.expression(arg, scope);
        }
        return;
      }
      default:
        if (type === 'SHOW_REF' && ref.show_type === 'SUMMARY')
          throw refuse(
            'SUPPRESSION_BYPASS',
            'SUMMARIZE computes statistics over every cell of a column without marking the suppressed ones; ask for min, max, avg or count of the columns you need (they are marked where they depend on suppressed cells).',
          );
        throw refuse(
          'UNSUPPORTED',
          type === 'SHOW_REF'
            ? 'DESCRIBE is not supported; GET /api/tables (or the web page) describes every released table and column.'
            : `${describeNodeType(type)} is not supported; write it with GROUP BY and CASE (PIVOT) or UNION ALL (UNPIVOT).`,
        );
    }
  }

  private relationName(ref: Node, scope: Scope): void {
    const name = text(ref, 'table_name');
    if (ref.at_clause !== null && ref.at_clause !== undefined)
      throw refuse('UNSUPPORTED', `AT (…) on '${truncate(name)}' is not supported.`);
    if (/[/\\:.]/.test(name) || /^[a-z]+:\/\//i.test(name))
      throw refuse(
        'FILE_OR_NETWORK',
        `Reading files or URLs ('${truncate(name)}') is not allowed: only the released tables can be queried.`,
      );
    const qualified = text(ref, 'catalog_name') !== '' || text(ref, 'schema_name') !== '';
    const cte = qualified ? undefined : scope.get(name.toLowerCase());
    if (cte !== undefined) {
      this.cteOf.set(ref, cte);
      return;
    }
    if (!qualified && this.context.tables.has(name.toLowerCase())) return;
    const full = [text(ref, 'catalog_name'), text(ref, 'schema_name'), name].filter((p) => p !== '').join('.');
    const catalog =
      /^(sqlite_|duckdb_|pragma_|pg_|information_schema)/i.test(full) ||
      /^(information_schema|pg_catalog|system|temp)\b/i.test(full);
    throw refuse(
      'NOT_A_RELEASED_TABLE',
      `'${truncate(full)}' is not a released table${catalog ? ' (the engine catalog is not readable)' : ''}. Available: ${[...this.context.tables].join(', ')}.`,
    );
  }

  private selectItem(item: Node, scope: Scope): void {
    reserved(text(item, 'alias'), 'column alias');
    if (item.class !== 'STAR') {
      this.expression(item, scope);
      return;
    }
    if (item.columns === true || item.expr !== null)
      throw refuse('UNSUPPORTED', 'COLUMNS(…) is not supported; list the columns.');
    for (const entry of children(item, 'replace_list')) {
      const value = child(entry, 'value');
      if (value !== undefined) this.expression(value, scope);
    }
    for (const entry of children(item, 'rename_list')) reserved(text(entry, 'value'), 'column alias');
  }

  expression(node: Node, scope: Scope): void {
    const kind = text(node, 'class');
    switch (kind) {
      case 'COLUMN_REF':
        for (const part of strings(node, 'column_names')) reserved(part, 'column');
        return;
      case 'CONSTANT':
        return;
      case 'FUNCTION':
        this.function(node);
        break;
      case 'OPERATOR':
        if (!OPERATOR_TYPES.has(text(node, 'type')))
          throw refuse('UNSUPPORTED', `The operator ${describeNodeType(text(node, 'type'))} is not supported.`);
        break;
      case 'COMPARISON':
      case 'CONJUNCTION':
      case 'CASE':
      case 'BETWEEN':
      case 'COLLATE':
        break;
      case 'CAST':
        checkCastType(child(node, 'cast_type') ?? {});
        break;
      case 'SUBQUERY': {
        const type = text(node, 'subquery_type');
        if (type !== 'SCALAR' && type !== 'EXISTS' && type !== 'NOT_EXISTS')
          throw refuse(
            'UNSUPPORTED',
            'IN (SELECT …), ANY and ALL over a subquery are not supported; write a JOIN, or EXISTS (SELECT … WHERE …).',
          );
        const subquery = child(child(node, 'subquery') ?? {}, 'node');
        if (subquery !== undefined) this.query(subquery, scope);
        const operand = child(node, 'child');
        if (operand !== undefined) this.expression(operand, scope);
        return;
      }
      case 'WINDOW': {
        const type = text(node, 'type');
        const name = text(node, 'function_name').toLowerCase();
        if (!WINDOW_TYPES.has(type) || (type === 'WINDOW_AGGREGATE' && !AGGREGATE_FUNCTIONS.has(name)))
          throw refuse('FUNCTION_NOT_ALLOWED', `The window function ${truncate(name)}() is not allowed.`);
        if (!unqualified(node))
          throw refuse('FUNCTION_NOT_ALLOWED', `${truncate(name)}() with a schema is not allowed.`);
        break;
      }
      case 'STAR':
        throw refuse(
          'UNSUPPORTED',
          node.columns === true
            ? 'COLUMNS(…) is not supported; list the columns.'
            : '* is allowed only as a select-list item (and in count(*)).',
        );
      case 'LAMBDA':
        throw refuse('UNSUPPORTED', 'Lambda functions (x -> …) are not supported.');
      case 'PARAMETER':
        throw refuse('UNSUPPORTED', 'Query parameters ($1, ?) are not supported: write the values in.');
      case 'POSITIONAL_REFERENCE':
        throw refuse('UNSUPPORTED', 'Positional references (#1) are not supported: name the column.');
      default:
        throw refuse('UNSUPPORTED', `The expression ${describeNodeType(kind)} is not supported.`);
    }
    this.nested(node, scope);
  }

  /** Walk every expression below `node` (children, filters, window parts). */
  private nested(node: Node, scope: Scope): void {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'cast_type' || key === 'value') continue;
      if (key === 'order_bys' && isNode(value)) {
        for (const order of children(value, 'orders')) {
          const expression = child(order, 'expression');
          if (expression !== undefined) this.expression(expression, scope);
        }
      } else if (key === 'orders' || key === 'arg_orders') {
        for (const order of Array.isArray(value) ? value.filter(isNode) : []) {
          const expression = child(order, 'expression');
          if (expression !== undefined) this.expression(expression, scope);
        }
      } else if (key === 'case_checks') {
        for (const check of Array.isArray(value) ? value.filter(isNode) : []) {
          for (const part of ['when_expr', 'then_expr']) {
            const expression = child(check, part);
            if (expression !== undefined) this.expression(expression, scope);
          }
        }
      } else if (Array.isArray(value)) {
        for (const item of value) if (isNode(item) && typeof item.class === 'string') this.expression(item, scope);
      } else if (isNode(value) && typeof value.class === 'string') {
        this.expression(value, scope);
      }
    }
  }

  private function(node: Node): void {
    const name = text(node, 'function_name').toLowerCase();
    if (!unqualified(node))
      throw refuse(
        refusalKind(name) === 'FUNCTION_NOT_ALLOWED' ? 'FUNCTION_NOT_ALLOWED' : refusalKind(name),
        `${truncate([text(node, 'catalog'), text(node, 'schema'), name].filter((p) => p !== '').join('.'))}() is not allowed.`,
      );
    if (SCALAR_FUNCTIONS.has(name) || AGGREGATE_FUNCTIONS.has(name)) return;
    const kind = refusalKind(name);
    throw refuse(
      kind,
      kind === 'FILE_OR_NETWORK'
        ? `${truncate(name)}() reads outside the released tables, which is not allowed.`
        : kind === 'SETTINGS_OR_CATALOG'
          ? `${truncate(name)}() reads the engine's settings, catalog or environment, which is not allowed.`
          : `${truncate(name)}() is not on the list of functions a query may call (see docs/query.md).`,
    );
  }
}

/** A function called without a schema, or with DuckDB's default one. */
function unqualified(node: Node): boolean {
  return text(node, 'catalog') === '' && ['', 'main'].includes(text(node, 'schema').toLowerCase());
}

function checkCastType(type: Node): void {
  const id = text(type, 'id');
  if (!CAST_TYPES.has(id))
    throw refuse(
      'UNSUPPORTED',
      `Casting to ${truncate(id)} is not supported; cast to a number, text, date, timestamp, interval or a list of those.`,
    );
  const info = child(type, 'type_info');
  const element = info === undefined ? undefined : child(info, 'child_type');
  if (element !== undefined) checkCastType(element);
}

/** Names that start with $ belong to the rewrite (markedQuery.ts). */
function reserved(name: string, what: string): void {
  if (name.startsWith('$'))
    throw refuse('UNSUPPORTED', `The ${what} '${truncate(name)}' starts with $, which is reserved; rename it.`);
}

function containsNode(value: unknown, test: (node: Node) => boolean): boolean {
  if (Array.isArray(value)) return value.some((v) => containsNode(v, test));
  if (!isNode(value)) return false;
  return test(value) || Object.values(value).some((v) => containsNode(v, test));
}

function describeNodeType(type: string): string {
  return type.toLowerCase().replaceAll('_', ' ').trim() || 'construct';
}

function refuse(reason: ConstructorParameters<typeof QueryRefusedError>[0], message: string): QueryRefusedError {
  return new QueryRefusedError(reason, message);
}

export function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** DuckDB error text without its class prefix; no data values are in parser/binder messages. */
export function cleanDuckMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^[A-Za-z ]+Error: /, '').trim();
}
