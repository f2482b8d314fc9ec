/**
 * DuckDB's own parse tree, as `json_serialize_sql` writes it and
 * `json_deserialize_sql` reads it back. The guard and the rewrite work on this
 * tree rather than on SQL text, so what they see is what DuckDB will run.
 *
 * The deserializer wants every property present, so the constructors below
 * write nodes in full, in the shape DuckDB itself serializes (see
 * test/queryParseTree.test.ts, which round-trips each one).
 */

/** One node of the serialized tree: an expression, a table reference or a query node. */
export type Node = Record<string, unknown>;

export function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function text(node: Node, key: string): string {
  const value = node[key];
  return typeof value === 'string' ? value : '';
}

export function child(node: Node, key: string): Node | undefined {
  const value = node[key];
  return isNode(value) ? value : undefined;
}

export function children(node: Node, key: string): Node[] {
  const value = node[key];
  return Array.isArray(value) ? value.filter(isNode) : [];
}

export function strings(node: Node, key: string): string[] {
  const value = node[key];
  return Array.isArray(value) ? value.map(String) : [];
}

/** A deep copy: the rewrite places the same expression in more than one spot. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

// ---------------------------------------------------------------- expressions

export function column(...names: string[]): Node {
  return { class: 'COLUMN_REF', type: 'COLUMN_REF', alias: '', column_names: names };
}

function constant(id: string, value: unknown): Node {
  return {
    class: 'CONSTANT',
    type: 'VALUE_CONSTANT',
    alias: '',
    value:
      value === null
        ? { type: { id: 'NULL', type_info: null }, is_null: true }
        : { type: { id, type_info: null }, is_null: false, value },
  };
}

export const TRUE: Node = Object.freeze(constant('BOOLEAN', true)) as Node;
export const FALSE: Node = Object.freeze(constant('BOOLEAN', false)) as Node;
export const NULL: Node = Object.freeze(constant('NULL', null)) as Node;

export function stringConstant(value: string): Node {
  return constant('VARCHAR', value);
}

export function integerConstant(value: number): Node {
  return constant('BIGINT', value);
}

export function isFalse(node: Node): boolean {
  return isBooleanConstant(node, false);
}

export function isTrue(node: Node): boolean {
  return isBooleanConstant(node, true);
}

function isBooleanConstant(node: Node, expected: boolean): boolean {
  if (node.class !== 'CONSTANT') return false;
  const value = child(node, 'value');
  return child(value ?? {}, 'type')?.id === 'BOOLEAN' && value?.is_null === false && value.value === expected;
}

/** The integer a constant holds (ORDER BY 2, GROUP BY 1), if it is one. */
export function integerValue(node: Node): number | undefined {
  if (node.class !== 'CONSTANT') return undefined;
  const value = child(node, 'value');
  const id = String(child(value ?? {}, 'type')?.id ?? '');
  if (!/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/.test(id)) return undefined;
  const raw = value?.value;
  return typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : undefined;
}

export function fn(name: string, args: Node[], extra: Partial<Node> = {}): Node {
  return {
    class: 'FUNCTION',
    type: 'FUNCTION',
    alias: '',
    function_name: name,
    schema: '',
    children: args,
    filter: null,
    order_bys: { type: 'ORDER_MODIFIER', orders: [] },
    distinct: false,
    is_operator: false,
    export_state: false,
    catalog: '',
    ...extra,
  };
}

export function operator(type: string, args: Node[]): Node {
  return { class: 'OPERATOR', type, alias: '', children: args };
}

export function comparison(type: string, left: Node, right: Node): Node {
  return { class: 'COMPARISON', type, alias: '', left, right };
}

export function caseWhen(checks: readonly (readonly [Node, Node])[], otherwise: Node): Node {
  return {
    class: 'CASE',
    type: 'CASE_EXPR',
    alias: '',
    case_checks: checks.map(([when, then]) => ({ when_expr: when, then_expr: then })),
    else_expr: otherwise,
  };
}

/** OR of the operands, with constant false dropped and constant true absorbing. */
export function or(...operands: Node[]): Node {
  const kept = operands.filter((o) => !isFalse(o));
  if (kept.some(isTrue)) return TRUE;
  if (kept.length === 0) return FALSE;
  if (kept.length === 1) return kept[0] as Node;
  return { class: 'CONJUNCTION', type: 'CONJUNCTION_OR', alias: '', children: kept };
}

export function and(...operands: Node[]): Node {
  const kept = operands.filter((o) => !isTrue(o));
  if (kept.some(isFalse)) return FALSE;
  if (kept.length === 0) return TRUE;
  if (kept.length === 1) return kept[0] as Node;
  return { class: 'CONJUNCTION', type: 'CONJUNCTION_AND', alias: '', children: kept };
}

export function not(operand: Node): Node {
  if (isTrue(operand)) return FALSE;
  if (isFalse(operand)) return TRUE;
  return operator('OPERATOR_NOT', [operand]);
}

/** `x IS TRUE`: NULL counts as not true. */
export function isTrueTest(operand: Node): Node {
  if (isTrue(operand) || isFalse(operand)) return operand;
  return comparison('COMPARE_NOT_DISTINCT_FROM', operand, TRUE);
}

/** `x IS FALSE`. */
export function isFalseTest(operand: Node): Node {
  if (isTrue(operand)) return FALSE;
  if (isFalse(operand)) return TRUE;
  return comparison('COMPARE_NOT_DISTINCT_FROM', operand, FALSE);
}

export function isNull(operand: Node): Node {
  return operator('OPERATOR_IS_NULL', [operand]);
}

export function coalesce(...operands: Node[]): Node {
  return operator('OPERATOR_COALESCE', operands);
}

export function positional(index: number): Node {
  return { class: 'POSITIONAL_REFERENCE', type: 'POSITIONAL_REFERENCE', alias: '', index };
}

export function withAlias(node: Node, alias: string): Node {
  return { ...node, alias };
}

export function star(exclude: readonly string[], relation = ''): Node {
  return {
    class: 'STAR',
    type: 'STAR',
    alias: '',
    relation_name: relation,
    exclude_list: [...exclude],
    replace_list: [],
    columns: false,
    expr: null,
    qualified_exclude_list: [],
    rename_list: [],
  };
}

export function subqueryExpression(type: 'SCALAR' | 'EXISTS', node: Node): Node {
  return {
    class: 'SUBQUERY',
    type: 'SUBQUERY',
    alias: '',
    subquery_type: type,
    subquery: { node, named_param_map: [] },
    child: null,
    comparison_type: 'INVALID',
  };
}

/**
 * A window aggregate `name(args) OVER (PARTITION BY …)` on the frame of
 * `like`, or over the whole partition, or (`running`) from its first row to
 * the current one.
 */
export function windowAggregate(name: string, args: Node[], partitions: Node[], like?: Node | 'running'): Node {
  const base: Node = isNode(like)
    ? clone(like)
    : {
        class: 'WINDOW',
        type: 'WINDOW_AGGREGATE',
        alias: '',
        function_name: name,
        schema: '',
        catalog: '',
        children: [],
        partitions: [],
        orders: [],
        start: 'UNBOUNDED_PRECEDING',
        end: like === 'running' ? 'CURRENT_ROW_ROWS' : 'UNBOUNDED_FOLLOWING',
        start_expr: null,
        end_expr: null,
        offset_expr: null,
        default_expr: null,
        ignore_nulls: false,
        filter_expr: null,
        exclude_clause: 'NO_OTHER',
        distinct: false,
        arg_orders: [],
      };
  return {
    ...base,
    type: 'WINDOW_AGGREGATE',
    alias: '',
    function_name: name,
    schema: '',
    catalog: '',
    children: args,
    partitions,
    offset_expr: null,
    default_expr: null,
    ignore_nulls: false,
    filter_expr: null,
    distinct: false,
    arg_orders: [],
  };
}

// ------------------------------------------------------------ query nodes

export interface SelectParts {
  readonly selectList: Node[];
  readonly from?: Node;
  readonly where?: Node | null;
  readonly modifiers?: Node[];
}

export function selectNode(parts: SelectParts): Node {
  return {
    type: 'SELECT_NODE',
    modifiers: parts.modifiers ?? [],
    cte_map: { map: [] },
    select_list: parts.selectList,
    from_table: parts.from ?? emptyTable(),
    where_clause: parts.where ?? null,
    group_expressions: [],
    group_sets: [],
    aggregate_handling: 'STANDARD_HANDLING',
    having: null,
    sample: null,
    qualify: null,
  };
}

export function emptyTable(): Node {
  return { type: 'EMPTY', alias: '', sample: null };
}

export function subqueryTable(node: Node, alias: string, columnAliases: readonly string[] = []): Node {
  return {
    type: 'SUBQUERY',
    alias,
    sample: null,
    subquery: { node, named_param_map: [] },
    column_name_alias: [...columnAliases],
  };
}

export function orderModifier(orders: readonly { type: string; nullOrder: string; expression: Node }[]): Node {
  return {
    type: 'ORDER_MODIFIER',
    orders: orders.map((o) => ({ type: o.type, null_order: o.nullOrder, expression: o.expression })),
  };
}

/** The tree `json_deserialize_sql` takes for one statement. */
export function statementJson(node: Node): string {
  return JSON.stringify({ error: false, statements: [{ node, named_param_map: [] }] });
}
