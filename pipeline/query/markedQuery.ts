import { AGGREGATE_FUNCTIONS, SIZED_FUNCTIONS, TABLE_FUNCTIONS } from './allowedFunctions.js';
import { QueryRefusedError } from './errors.js';
import {
  and,
  caseWhen,
  child,
  children,
  clone,
  coalesce,
  column,
  comparison,
  FALSE,
  fn,
  integerConstant,
  integerValue,
  isFalse,
  isFalseTest,
  isNode,
  isNull,
  isTrueTest,
  type Node,
  NULL,
  not,
  operator,
  or,
  orderModifier,
  positional,
  selectNode,
  star,
  strings,
  stringConstant,
  subqueryExpression,
  subqueryTable,
  text,
  TRUE,
  windowAggregate,
  withAlias,
} from './parseTree.js';
import { outputName, type PossiblySuppressed } from './possiblySuppressed.js';
import { truncate } from './sqlGuard.js';

/**
 * How a researcher's query is made to answer "right or marked".
 *
 * In the query engine every column of every released table is a pair
 * STRUCT(v, t): the value (NULL where the cell is suppressed) and its taint
 * (true where the cell is suppressed). Every relation also has a column
 * `$row`: true where the row's membership is uncertain, because a filter, a
 * HAVING or a QUALIFY read a suppressed cell. The rewrite turns the query
 * into one over those pairs: each expression e becomes (v(e), t(e)), where
 * t(e) is true whenever v(e) may differ from the value e has on the
 * unsuppressed table:
 *
 * - a column reads its own t; a constant is clean;
 * - a scalar function, operator, comparison or cast is tainted when any
 *   argument is (so `sign(x)`, `x::VARCHAR`, `isnan(x)`, `coalesce(x, -1)`
 *   all come out marked: it needs no list of "bad" functions);
 * - AND/OR, CASE and COALESCE are tainted only when the answer depends on a
 *   tainted operand (`x_status <> 'suppressed' AND x > 100` is clean:
 *   a clean FALSE decides it);
 * - an aggregate is tainted when any row it reads has a tainted argument,
 *   FILTER condition or ORDER BY key, or is itself uncertain;
 * - a window function is tainted when its frame (for aggregates) or its
 *   partition (for ranks, lags, the order itself) holds such a row;
 * - a row a WHERE/HAVING/QUALIFY condition with a tainted answer would keep
 *   or drop is kept, with `$row` set, so a later count over it is marked;
 * - at the outermost query, a row whose ORDER BY key is tainted is marked
 *   (its place is not known), and if any row before a LIMIT is uncertain or
 *   has a tainted key, every row after the LIMIT is marked.
 *
 * Values are computed on NULLs: no suppressed number is in the engine at
 * all, so nothing can leak, and a published value is never computed from a
 * suppressed one without being marked. The few constructs whose answer
 * cannot be marked row by row (join conditions, GROUP BY and PARTITION BY
 * keys, a LIMIT inside a subquery, the optional side of an outer join) are
 * allowed only where the static analysis (possiblySuppressed.ts) shows they
 * read no suppressed cell; otherwise the query is refused with the reason.
 *
 * Names the rewrite adds start with `$`; the guard reserves them. The
 * rewritten tree is printed back to SQL by DuckDB (`json_deserialize_sql`).
 */

/** A rewritten expression: its value and whether that value depends on a suppressed cell. */
interface Pair {
  readonly v: Node;
  readonly t: Node;
}

interface ExpressionContext {
  /** Whether the current input row may not belong (row level). */
  readonly rowTaint: Node;
  /** The same for a row as window functions and HAVING see it (a group, in a grouped query). */
  readonly windowRowTaint: Node;
  /** True in a grouped query's select list, HAVING, QUALIFY and ORDER BY. */
  readonly grouped: boolean;
}

/** An unaliased computed select item: DuckDB names it after its own text, which only DuckDB can print. */
export interface ComputedName {
  readonly placeholder: string;
  readonly expression: Node;
}

export interface MarkedQuery {
  readonly tree: Node;
  readonly computedNames: readonly ComputedName[];
}

export const ROW = '$row';
const VALUE_TOO_LARGE = 'boldlink:VALUE_TOO_LARGE';
const RESULT_TOO_LARGE = 'boldlink:RESULT_TOO_LARGE';
const TOO_MANY_ROWS = 'boldlink:TOO_MANY_ROWS';

export interface MarkOptions {
  /** Placeholders for computed names carry this, so no user text can collide with one. */
  readonly nonce: string;
  /** Largest value a sized function (repeat, lpad…) may build, in bytes. */
  readonly maxValueBytes: number;
  /** Largest answer, in bytes of its text: checked as the rows are made, so a larger one is stopped in the engine. */
  readonly maxBytes: number;
  /** Most rows an answer may have; checked the same way. */
  readonly maxRows: number;
}

/** Rewrite a guarded query's tree into its marked form (see the comment above). */
export function markQuery(statement: Node, analysis: PossiblySuppressed, options: MarkOptions): MarkedQuery {
  const rewrite = new Rewrite(analysis, options);
  const tree = rewrite.relation(statement, { top: true, distinctRows: false });
  return { tree: sizeChecked(tree, options), computedNames: rewrite.computedNames };
}

/** The DuckDB error that a sized function raises when its value would be too large. */
export function isValueTooLarge(message: string): boolean {
  return message.includes(VALUE_TOO_LARGE);
}

/** The DuckDB error the answer's size check raises: 'bytes' or 'rows', or undefined for another error. */
export function resultLimitHit(message: string): 'bytes' | 'rows' | undefined {
  return message.includes(RESULT_TOO_LARGE) ? 'bytes' : message.includes(TOO_MANY_ROWS) ? 'rows' : undefined;
}

/**
 * The answer with a running count of its rows and size (each row as text),
 * raising an error in the engine once either passes its limit: the rows past
 * the limit are never made, and what was made is freed with the query, not
 * left to the JavaScript garbage collector. The check is part of `$row`, so
 * it cannot be optimised away.
 */
function sizeChecked(tree: Node, limits: { readonly maxBytes: number; readonly maxRows: number }): Node {
  const answer = '$answer';
  const rowText = fn('strlen', [
    {
      class: 'CAST',
      type: 'OPERATOR_CAST',
      alias: '',
      child: column(answer),
      cast_type: { id: 'VARCHAR', type_info: null },
      try_cast: false,
    },
  ]);
  const past = (running: Node, limit: number, error: string): Node =>
    caseWhen(
      [[comparison('COMPARE_GREATERTHAN', running, integerConstant(limit)), fn('error', [stringConstant(error)])]],
      FALSE,
    );
  return selectNode({
    selectList: [
      star([ROW]),
      withAlias(
        or(
          column(ROW),
          past(windowAggregate('count_star', [], [], 'running'), limits.maxRows, TOO_MANY_ROWS),
          past(windowAggregate('sum', [rowText], [], 'running'), limits.maxBytes, RESULT_TOO_LARGE),
        ),
        ROW,
      ),
    ],
    from: subqueryTable(tree, answer),
  });
}

interface RelationOptions {
  /** The outermost query: ORDER BY and LIMIT mark rows instead of being refused. */
  readonly top: boolean;
  /** A branch of UNION (not ALL): a row with a tainted value is uncertain. */
  readonly distinctRows: boolean;
}

type OrderTerm =
  | { readonly kind: 'position'; readonly index: number; readonly order: Node }
  | { readonly kind: 'name'; readonly name: string; readonly order: Node; readonly item?: Node }
  | { readonly kind: 'expression'; readonly expression: Node; readonly order: Node };

class Rewrite {
  readonly computedNames: ComputedName[] = [];
  private counter = 0;

  constructor(
    private readonly analysis: PossiblySuppressed,
    private readonly options: MarkOptions,
  ) {}

  private fresh(prefix: string): string {
    this.counter += 1;
    return `$${prefix}${this.counter}`;
  }

  // ------------------------------------------------------------ relations

  relation(node: Node, options: RelationOptions): Node {
    const type = text(node, 'type');
    const modifiers = children(node, 'modifiers');
    const order = modifiers.find((m) => m.type === 'ORDER_MODIFIER');
    const limit = modifiers.find((m) => m.type === 'LIMIT_MODIFIER');
    if (type === 'SET_OPERATION_NODE') {
      const body = this.setOperation(node, options);
      return order === undefined && limit === undefined ? body : this.sorted(node, body, [], order, limit, options);
    }
    if (type !== 'SELECT_NODE') throw unsupported(`A ${type.toLowerCase()} is not supported here.`);
    const terms = order === undefined ? [] : this.orderTerms(node, order);
    const hidden = terms.filter((t): t is Extract<OrderTerm, { kind: 'expression' }> => t.kind === 'expression');
    const body = this.select(node, options, hidden);
    return order === undefined && limit === undefined
      ? body
      : this.sorted(node, body, terms, order, limit, options, hidden.length);
  }

  private withCtes(original: Node, rewritten: Node): Node {
    const map = children(child(original, 'cte_map') ?? {}, 'map').map((entry) => {
      const value = child(entry, 'value') ?? {};
      const query = child(value, 'query') ?? {};
      const cteNode = child(query, 'node');
      if (cteNode === undefined) return clone(entry);
      return {
        ...entry,
        value: {
          ...value,
          query: { ...query, node: this.relation(cteNode, { top: false, distinctRows: false }) },
        },
      };
    });
    return { ...rewritten, cte_map: { map } };
  }

  private setOperation(node: Node, options: RelationOptions): Node {
    const setType = text(node, 'setop_type');
    if (setType !== 'UNION' && setType !== 'UNION_BY_NAME')
      throw unsupported(
        `${setType} is not supported: write it with a JOIN on the dimension columns (or a LEFT JOIN … WHERE right_key IS NULL).`,
      );
    const distinctRows = options.distinctRows || node.setop_all !== true;
    const side = (key: string): Node => {
      const branch = child(node, key);
      if (branch === undefined) throw unsupported('A set operation without two sides is not supported.');
      return this.relation(branch, { top: false, distinctRows });
    };
    const rewritten: Node = {
      ...node,
      modifiers: children(node, 'modifiers').filter((m) => m.type !== 'ORDER_MODIFIER' && m.type !== 'LIMIT_MODIFIER'),
      left: side('left'),
      right: side('right'),
    };
    return this.withCtes(node, rewritten);
  }

  /** ORDER BY terms of a SELECT node, classified the way DuckDB binds them. */
  private orderTerms(node: Node, order: Node): OrderTerm[] {
    const items = children(node, 'select_list');
    const distinct = children(node, 'modifiers').some((m) => m.type === 'DISTINCT_MODIFIER');
    const terms: OrderTerm[] = [];
    for (const entry of children(order, 'orders')) {
      const expression = child(entry, 'expression') ?? NULL;
      if (expression.class === 'STAR') {
        // ORDER BY ALL: every select-list column, left to right.
        if (items.some((i) => i.class === 'STAR'))
          throw unsupported('ORDER BY ALL over SELECT * is not supported; list the ORDER BY columns.');
        items.forEach((_item, i) => {
          terms.push({ kind: 'position', index: i + 1, order: entry });
        });
        continue;
      }
      const position = integerValue(expression);
      if (position !== undefined) {
        terms.push({ kind: 'position', index: position, order: entry });
        continue;
      }
      const names = strings(expression, 'column_names');
      if (expression.class === 'COLUMN_REF' && names.length === 1) {
        // A bare name means a select-list column first (DuckDB binds ORDER BY names to the output).
        const wanted = (names[0] ?? '').toLowerCase();
        const matches = items.filter((item) => itemNames(item).some((n) => n.toLowerCase() === wanted));
        if (matches.length > 1)
          throw unsupported(`ORDER BY ${truncate(names[0] ?? '')} is ambiguous: several columns have that name.`);
        if (matches.length === 1) {
          const match = matches[0] as Node;
          terms.push({
            kind: 'name',
            name: itemNames(match).find((n) => n.toLowerCase() === wanted) ?? wanted,
            order: entry,
            ...(match.class === 'STAR' ? {} : { item: match }),
          });
          continue;
        }
      }
      if (distinct) {
        const index = items.findIndex((item) => sameExpression(item, expression));
        if (index < 0)
          throw unsupported(
            'With SELECT DISTINCT, ORDER BY may use only columns of the select list (name or position).',
          );
        terms.push({ kind: 'position', index: index + 1, order: entry });
        continue;
      }
      terms.push({ kind: 'expression', expression, order: entry });
    }
    return terms;
  }

  /**
   * ORDER BY and LIMIT on the rewritten body: sort on the values, and at the
   * outermost query mark rows whose place is not known. Inside a subquery a
   * LIMIT is allowed only where the rows and their order cannot depend on a
   * suppressed cell.
   */
  private sorted(
    original: Node,
    body: Node,
    terms: readonly OrderTerm[],
    order: Node | undefined,
    limit: Node | undefined,
    options: RelationOptions,
    hiddenCount = 0,
  ): Node {
    const setOperation = original.type === 'SET_OPERATION_NODE';
    const allTerms: OrderTerm[] =
      setOperation && order !== undefined ? this.setOperationOrder(original, order) : [...terms];
    const items = setOperation ? [] : children(original, 'select_list');
    if (limit !== undefined) {
      for (const key of ['limit', 'offset']) {
        const expression = child(limit, key);
        if (expression !== undefined && containsColumnOrQuery(expression))
          throw unsupported('LIMIT and OFFSET take constant numbers.');
      }
      if (!options.top) {
        const reason = this.subqueryLimitReason(original, allTerms, items);
        if (reason !== undefined)
          throw bypass(
            `A LIMIT inside a subquery would keep rows chosen by ${reason}, which may depend on suppressed cells; the rows it drops could not be marked. Put the LIMIT on the outermost query (its rows are then marked), or order by dimension columns.`,
          );
      }
    }
    let expressionIndex = 0;
    const keys = allTerms.map((term) => {
      let reference: Node;
      let value: Node | undefined;
      if (term.kind === 'position') {
        if (
          !setOperation &&
          (term.index < 1 || term.index > items.length || items.slice(0, term.index).some((i) => i.class === 'STAR'))
        )
          throw unsupported(`ORDER BY ${term.index} needs the select list to name its columns (no * before it).`);
        reference = positional(term.index + hiddenCount);
      } else if (term.kind === 'name') {
        reference = column(term.name);
      } else if (setOperation) {
        const pair = this.expression(term.expression, rowContext(FALSE));
        value = pair.v;
        reference = NULL;
        return { order: term.order, v: value, t: pair.t };
      } else {
        expressionIndex += 1;
        reference = column(`$o${expressionIndex}`);
      }
      return {
        order: term.order,
        v: fn('struct_extract', [reference, stringConstant('v')]),
        t: coalesce(fn('struct_extract', [clone(reference), stringConstant('t')]), FALSE),
      };
    });
    const hiddenNames = Array.from({ length: hiddenCount }, (_v, i) => `$o${i + 1}`);
    const sortKeys = keys.map((k) => ({
      type: text(k.order, 'type'),
      nullOrder: text(k.order, 'null_order'),
      expression: k.v,
    }));
    if (!options.top) {
      const modifiers = [
        ...(keys.length > 0 ? [orderModifier(sortKeys)] : []),
        ...(limit === undefined ? [] : [clone(limit)]),
      ];
      return selectNode({
        selectList: [star(hiddenNames)],
        from: subqueryTable(body, this.fresh('sorted')),
        modifiers,
      });
    }
    // At the outermost query, a row's place is unknown when one of its ORDER BY keys is tainted and
    // another row ties with it on the keys before that one: such a row is marked, and sorted last.
    const placeTaint = or(
      ...keys.map((k, j) =>
        isFalse(k.t)
          ? FALSE
          : and(
              k.t,
              comparison(
                'COMPARE_GREATERTHAN',
                windowAggregate(
                  'count_star',
                  [],
                  keys.slice(0, j).map((before) => clone(before.v)),
                ),
                integerConstant(1),
              ),
            ),
      ),
    );
    const placed = isFalse(placeTaint)
      ? body
      : selectNode({
          selectList: [star([]), withAlias(placeTaint, '$place')],
          from: subqueryTable(body, this.fresh('places')),
        });
    const marked = or(column(ROW), isFalse(placeTaint) ? FALSE : column('$place'));
    const limited = limit === undefined || isFalse(marked) ? FALSE : this.limitTaint(limit, marked, sortKeys);
    const selectList = [
      star([...hiddenNames, ROW, ...(isFalse(placeTaint) ? [] : ['$place'])]),
      withAlias(or(clone(marked), limited), ROW),
    ];
    const modifiers: Node[] = [];
    if (keys.length > 0)
      modifiers.push(
        orderModifier([{ type: 'ASCENDING', nullOrder: 'NULLS LAST', expression: clone(marked) }, ...sortKeys]),
      );
    if (limit !== undefined) modifiers.push(clone(limit));
    return selectNode({ selectList, from: subqueryTable(placed, this.fresh('sorted')), modifiers });
  }

  /**
   * Which kept rows a LIMIT may have kept wrongly, given `marked` rows of
   * unknown place or presence before it. With LIMIT n alone, a clean row is
   * certainly in the true first n when the rows that sort before it or tie
   * with it, plus every marked row, still fit in n; the others are marked.
   * With an OFFSET (or a limit that is not a plain number) one marked row
   * marks every kept row.
   */
  private limitTaint(
    limit: Node,
    marked: Node,
    sortKeys: readonly { type: string; nullOrder: string; expression: Node }[],
  ): Node {
    const rows = integerValue(child(limit, 'limit') ?? NULL);
    const offset = child(limit, 'offset');
    const anyMarked = coalesce(windowAggregate('bool_or', [clone(marked)], []), FALSE);
    if (rows === undefined || (offset !== undefined && integerValue(offset) !== 0)) return anyMarked;
    const markedRows = { ...windowAggregate('count_star', [], []), filter_expr: clone(marked) };
    const upToPeers = {
      ...windowAggregate('count_star', [], []),
      orders: [
        { type: 'ASCENDING', null_order: 'NULLS LAST', expression: clone(marked) },
        ...sortKeys.map((k) => ({ type: k.type, null_order: k.nullOrder, expression: clone(k.expression) })),
      ],
      start: 'UNBOUNDED_PRECEDING',
      end: 'CURRENT_ROW_RANGE',
    };
    return and(
      anyMarked,
      comparison('COMPARE_GREATERTHAN', fn('+', [upToPeers, markedRows], { is_operator: true }), integerConstant(rows)),
    );
  }

  private setOperationOrder(node: Node, order: Node): OrderTerm[] {
    const terms: OrderTerm[] = [];
    for (const entry of children(order, 'orders')) {
      const expression = child(entry, 'expression') ?? NULL;
      const position = integerValue(expression);
      const names = strings(expression, 'column_names');
      if (expression.class === 'STAR') {
        const first = leftmostSelect(node);
        const items = first === undefined ? [] : children(first, 'select_list');
        if (items.length === 0 || items.some((i) => i.class === 'STAR'))
          throw unsupported('ORDER BY ALL over a UNION of SELECT * is not supported; list the ORDER BY columns.');
        items.forEach((_item, i) => {
          terms.push({ kind: 'position', index: i + 1, order: entry });
        });
      } else if (position !== undefined) terms.push({ kind: 'position', index: position, order: entry });
      else if (expression.class === 'COLUMN_REF' && names.length === 1)
        terms.push({ kind: 'name', name: names[0] ?? '', order: entry });
      else terms.push({ kind: 'expression', expression, order: entry });
    }
    return terms;
  }

  /** Why a LIMIT inside a subquery could pick rows by a suppressed cell, or undefined if it cannot. */
  private subqueryLimitReason(original: Node, terms: readonly OrderTerm[], items: readonly Node[]): string | undefined {
    const rows = {
      ...original,
      modifiers: children(original, 'modifiers').filter((m) => m.type === 'DISTINCT_MODIFIER'),
    };
    if (!this.analysis.certain(rows)) return 'rows whose presence depends on suppressed cells';
    if (items.some((i) => i.class === 'STAR') && items.length > 0 && children(original, 'select_list').length > 0) {
      // Positions past a * are not known statically.
      if (terms.some((t) => t.kind === 'position')) return 'a position in a select list with *';
    }
    for (const term of terms) {
      let expression: Node | undefined;
      if (term.kind === 'expression') expression = term.expression;
      else if (term.kind === 'name') expression = term.item ?? column(term.name);
      else expression = items[term.index - 1];
      if (expression === undefined) return `ORDER BY ${term.kind === 'position' ? term.index : ''}`;
      const reason = this.analysis.reason(expression);
      if (reason !== undefined) return `an ORDER BY on ${reason}`;
    }
    return undefined;
  }

  private select(
    node: Node,
    options: RelationOptions,
    hidden: readonly Extract<OrderTerm, { kind: 'expression' }>[],
  ): Node {
    const from = child(node, 'from_table');
    const { ref, leaves } = from === undefined ? { ref: undefined, leaves: [] } : this.table(from);
    const rowFrom = or(...leaves.map((leaf) => coalesce(column(leaf, ROW), FALSE)));

    const where = this.filter(node, 'where_clause', rowContext(rowFrom));
    const rowTaint = or(rowFrom, where.taint);

    const items = children(node, 'select_list');
    const forced = node.aggregate_handling === 'FORCE_AGGREGATES';
    const aggregating =
      forced ||
      children(node, 'group_expressions').length > 0 ||
      child(node, 'having') !== undefined ||
      [...items, ...hidden.map((h) => h.expression), child(node, 'qualify')].some(
        (e) => e !== undefined && containsAggregate(e),
      );

    let groupExpressions: Node[] = [];
    let context: ExpressionContext = { rowTaint, windowRowTaint: rowTaint, grouped: false };
    if (aggregating) {
      if (items.some((i) => i.class === 'STAR'))
        throw unsupported('SELECT * with GROUP BY or aggregates is not supported; list the columns.');
      groupExpressions = this.groupKeys(node, items, forced);
      const groupRow = groupExpressions.length === 0 || isFalse(rowTaint) ? FALSE : fn('bool_and', [clone(rowTaint)]);
      context = { rowTaint, windowRowTaint: groupRow, grouped: true };
    }

    const distinct = children(node, 'modifiers').some((m) => m.type === 'DISTINCT_MODIFIER');
    const itemTaints: Node[] = [];
    const selectList: Node[] = [];
    hidden.forEach((term, i) => {
      selectList.push(withAlias(pack(this.expression(term.expression, context)), `$o${i + 1}`));
    });
    for (const item of items) {
      if (item.class === 'STAR') {
        if (distinct || options.distinctRows)
          throw unsupported('SELECT DISTINCT * and UNION (without ALL) over * are not supported; list the columns.');
        selectList.push(this.starItem(item, context));
        continue;
      }
      const pair = this.expression(item, context);
      itemTaints.push(pair.t);
      selectList.push(withAlias(pack(pair), this.itemName(item)));
    }

    const having = this.filter(node, 'having', context);
    const qualify = this.filter(node, 'qualify', context);
    const rowItem = or(
      aggregating ? context.windowRowTaint : rowTaint,
      having.taint,
      qualify.taint,
      distinct || options.distinctRows ? or(...itemTaints) : FALSE,
    );
    selectList.push(withAlias(rowItem, ROW));

    const rewritten: Node = {
      ...node,
      modifiers: children(node, 'modifiers').filter((m) => m.type === 'DISTINCT_MODIFIER'),
      select_list: selectList,
      from_table: ref ?? child(node, 'from_table') ?? null,
      where_clause: where.clause,
      group_expressions: groupExpressions,
      group_sets: groupExpressions.length === 0 ? [] : [groupExpressions.map((_g, i) => i)],
      aggregate_handling: 'STANDARD_HANDLING',
      having: having.clause,
      qualify: qualify.clause,
    };
    return this.withCtes(node, rewritten);
  }

  /**
   * A WHERE, HAVING or QUALIFY clause: it keeps the rows its condition keeps
   * and the rows it might keep; `taint` says which rows are of the second kind.
   */
  private filter(node: Node, key: string, context: ExpressionContext): { clause: Node | null; taint: Node } {
    const condition = child(node, key);
    if (condition === undefined) return { clause: null, taint: FALSE };
    const pair = this.expression(condition, context);
    return { clause: isFalse(pair.t) ? pair.v : or(isTrueTest(pair.v), pair.t), taint: pair.t };
  }

  /** GROUP BY keys, each checked to read no suppressed cell, as value (and taint) expressions. */
  private groupKeys(node: Node, items: readonly Node[], forced: boolean): Node[] {
    const sets = (node.group_sets as unknown[] | undefined) ?? [];
    const declared = children(node, 'group_expressions');
    if (sets.length > 1 || (sets.length === 1 && (sets[0] as unknown[]).length !== declared.length))
      throw unsupported(
        'GROUPING SETS, ROLLUP and CUBE are not supported; released tables already hold the margins (the Total rows).',
      );
    const keys: Node[] = forced
      ? items.flatMap((item, i) => (containsAggregate(item) || containsWindow(item) ? [] : [integerConstant(i + 1)]))
      : declared;
    const out: Node[] = [];
    for (const key of keys) {
      const position = integerValue(key);
      const expression = position === undefined ? key : items[position - 1];
      if (expression === undefined) throw unsupported(`GROUP BY ${position} is past the end of the select list.`);
      const reason = this.analysis.reason(expression);
      if (reason !== undefined)
        throw bypass(
          `GROUP BY on ${truncate(reason)} may read suppressed cells: a suppressed cell would fall in an unknown group, so no group's totals could be trusted. Group by dimension columns (or a CASE over them).`,
        );
      if (position === undefined && key.class === 'COLUMN_REF') {
        // A bare name binds the way DuckDB binds it (a column, else an alias): keep it as the pair itself.
        out.push(clone(key));
        continue;
      }
      const pair = this.expression(expression, rowContext(FALSE));
      out.push(pair.v);
      if (!isFalse(pair.t)) out.push(pair.t);
    }
    return out;
  }

  private starItem(item: Node, context: ExpressionContext): Node {
    return {
      ...item,
      exclude_list: [...strings(item, 'exclude_list'), ROW],
      replace_list: children(item, 'replace_list').map((entry) => ({
        ...entry,
        value: pack(this.expression(child(entry, 'value') ?? NULL, context)),
      })),
    };
  }

  private itemName(item: Node): string {
    const name = outputName(item);
    if (name !== undefined) return name;
    const placeholder = `$name${this.computedNames.length + 1}_${this.options.nonce}`;
    this.computedNames.push({ placeholder, expression: withAlias(clone(item), '') });
    return placeholder;
  }

  /** A FROM item, with its leaves' binding names (each has a `$row` column). */
  private table(ref: Node): { ref: Node; leaves: string[] } {
    switch (text(ref, 'type')) {
      case 'EMPTY':
        return { ref: clone(ref), leaves: [] };
      case 'BASE_TABLE':
        return { ref: clone(ref), leaves: [text(ref, 'alias') || text(ref, 'table_name')] };
      case 'SUBQUERY': {
        const alias = text(ref, 'alias') || this.fresh('q');
        const query = child(child(ref, 'subquery') ?? {}, 'node');
        if (query === undefined) throw unsupported('A subquery without a query is not supported.');
        return {
          ref: {
            ...ref,
            alias,
            subquery: { node: this.relation(query, { top: false, distinctRows: false }), named_param_map: [] },
          },
          leaves: [alias],
        };
      }
      case 'TABLE_FUNCTION': {
        const fnNode = child(ref, 'function') ?? {};
        const name = text(fnNode, 'function_name').toLowerCase();
        const columnName = TABLE_FUNCTIONS.get(name);
        if (columnName === undefined) throw unsupported(`Table function ${truncate(name)}() is not available.`);
        const alias = text(ref, 'alias') || name;
        const inner = selectNode({
          selectList: [withAlias(pack({ v: column(columnName), t: FALSE }), columnName), withAlias(FALSE, ROW)],
          from: { ...clone(ref), alias: '', column_name_alias: [] },
        });
        return { ref: subqueryTable(inner, alias, strings(ref, 'column_name_alias')), leaves: [alias] };
      }
      case 'EXPRESSION_LIST': {
        const rows = ((ref.values as unknown[] | undefined) ?? []).map((row) =>
          Array.isArray(row) ? row.filter(isNode) : [],
        );
        const width = rows[0]?.length ?? 0;
        const values = rows.map((row) => [...row.map((e) => pack(this.expression(e, rowContext(FALSE)))), FALSE]);
        const alias = text(ref, 'alias') || 'valueslist';
        const inner = selectNode({
          selectList: [star([])],
          from: { ...clone(ref), alias: this.fresh('values'), values },
        });
        const names = [...Array.from({ length: width }, (_v, i) => `col${i}`), ROW];
        return { ref: subqueryTable(inner, alias, names), leaves: [alias] };
      }
      case 'JOIN':
        return this.join(ref);
      default:
        throw unsupported(`${text(ref, 'type').toLowerCase()} in FROM is not supported.`);
    }
  }

  private join(ref: Node): { ref: Node; leaves: string[] } {
    const refType = text(ref, 'ref_type');
    const joinType = text(ref, 'join_type');
    if (refType !== 'REGULAR' && refType !== 'CROSS')
      throw unsupported(
        refType === 'NATURAL'
          ? 'NATURAL JOIN is not supported; write JOIN … USING (the dimension columns).'
          : `${refType} JOIN is not supported; write JOIN … ON or USING on dimension columns.`,
      );
    if (!['INNER', 'LEFT', 'RIGHT', 'OUTER'].includes(joinType))
      throw unsupported(`${joinType} JOIN is not supported; write EXISTS (SELECT … WHERE …) or an INNER/LEFT JOIN.`);
    const leftRef = child(ref, 'left');
    const rightRef = child(ref, 'right');
    if (leftRef === undefined || rightRef === undefined) throw unsupported('A JOIN needs two sides.');
    const condition = child(ref, 'condition');
    const why =
      (condition === undefined ? undefined : this.analysis.reason(condition)) ??
      strings(ref, 'using_columns').find((name) => this.analysis.name(name));
    if (why !== undefined)
      throw bypass(
        `The join condition reads ${truncate(why)}, which may hold suppressed cells: whether two rows match would depend on a hidden value. Join on dimension columns.`,
      );
    const optional =
      joinType === 'LEFT'
        ? [rightRef]
        : joinType === 'RIGHT'
          ? [leftRef]
          : joinType === 'OUTER'
            ? [leftRef, rightRef]
            : [];
    for (const side of optional)
      if (!this.analysis.certain(side))
        throw bypass(
          `The optional side of this ${joinType === 'OUTER' ? 'FULL' : joinType} JOIN has rows that depend on suppressed cells (a filter or grouping on a measure), so which rows find no match could not be marked. Filter that side on dimension or *_status columns, or use an INNER JOIN.`,
        );
    const left = this.table(leftRef);
    const right = this.table(rightRef);
    return {
      ref: {
        ...ref,
        left: left.ref,
        right: right.ref,
        condition: condition === undefined ? null : this.expression(condition, rowContext(FALSE)).v,
      },
      leaves: [...left.leaves, ...right.leaves],
    };
  }

  // ---------------------------------------------------------- expressions

  expression(node: Node, context: ExpressionContext): Pair {
    switch (text(node, 'class')) {
      case 'COLUMN_REF': {
        const reference = withAlias(clone(node), '');
        return {
          v: fn('struct_extract', [reference, stringConstant('v')]),
          t: coalesce(fn('struct_extract', [clone(reference), stringConstant('t')]), FALSE),
        };
      }
      case 'CONSTANT':
        return { v: clone(node), t: FALSE };
      case 'CAST':
      case 'COLLATE': {
        const inner = this.expression(child(node, 'child') ?? NULL, context);
        return { v: { ...node, child: inner.v }, t: inner.t };
      }
      case 'COMPARISON': {
        const left = this.expression(child(node, 'left') ?? NULL, context);
        const right = this.expression(child(node, 'right') ?? NULL, context);
        return { v: { ...node, left: left.v, right: right.v }, t: or(left.t, right.t) };
      }
      case 'BETWEEN': {
        const parts = ['input', 'lower', 'upper'].map((k) => this.expression(child(node, k) ?? NULL, context));
        return {
          v: { ...node, input: parts[0]?.v, lower: parts[1]?.v, upper: parts[2]?.v },
          t: or(...parts.map((p) => p.t)),
        };
      }
      case 'CONJUNCTION':
        return this.conjunction(node, context);
      case 'CASE':
        return this.caseExpression(node, context);
      case 'OPERATOR': {
        const args = children(node, 'children').map((c) => this.expression(c, context));
        const v = { ...node, children: args.map((a) => a.v) };
        return { v, t: node.type === 'OPERATOR_COALESCE' ? coalesceTaint(args) : or(...args.map((a) => a.t)) };
      }
      case 'FUNCTION':
        return this.functionCall(node, context);
      case 'WINDOW':
        return this.window(node, context);
      case 'SUBQUERY':
        return this.subquery(node);
      default:
        throw unsupported(`The expression ${text(node, 'class').toLowerCase()} is not supported.`);
    }
  }

  private conjunction(node: Node, context: ExpressionContext): Pair {
    const args = children(node, 'children').map((c) => this.expression(c, context));
    const isAnd = node.type === 'CONJUNCTION_AND';
    // A clean operand that decides the answer (FALSE for AND, TRUE for OR) makes it clean.
    const decided = or(...args.map((a) => and(not(a.t), isAnd ? isFalseTest(a.v) : isTrueTest(a.v))));
    return {
      v: { ...node, children: args.map((a) => a.v) },
      t: and(or(...args.map((a) => a.t)), not(decided)),
    };
  }

  private caseExpression(node: Node, context: ExpressionContext): Pair {
    const checks = children(node, 'case_checks').map((check) => ({
      when: this.expression(child(check, 'when_expr') ?? NULL, context),
      result: this.expression(child(check, 'then_expr') ?? NULL, context),
    }));
    const otherwise = this.expression(child(node, 'else_expr') ?? NULL, context);
    const v = {
      ...node,
      case_checks: checks.map((c) => ({ when_expr: c.when.v, then_expr: c.result.v })),
      else_expr: otherwise.v,
    };
    if (checks.every((c) => isFalse(c.when.t) && isFalse(c.result.t)) && isFalse(otherwise.t)) return { v, t: FALSE };
    // The first WHEN whose condition is tainted taints the answer; else the chosen branch decides.
    const taintChecks: [Node, Node][] = [];
    for (const c of checks) {
      if (!isFalse(c.when.t)) taintChecks.push([c.when.t, TRUE]);
      taintChecks.push([clone(c.when.v), c.result.t]);
    }
    return { v, t: caseWhen(taintChecks, otherwise.t) };
  }

  private functionCall(node: Node, context: ExpressionContext): Pair {
    const name = text(node, 'function_name').toLowerCase();
    if (AGGREGATE_FUNCTIONS.has(name)) return this.aggregate(node, context);
    if (
      child(node, 'filter') !== undefined ||
      children(child(node, 'order_bys') ?? {}, 'orders').length > 0 ||
      node.distinct === true
    )
      throw unsupported(`${truncate(name)}() is not an aggregate: FILTER, ORDER BY and DISTINCT do not apply.`);
    const args = children(node, 'children').map((c) => this.expression(c, context));
    const v: Node = { ...node, children: args.map((a) => a.v) };
    const t = or(...args.map((a) => a.t));
    return { v: this.sized(name, v, args), t };
  }

  /** A function whose output size an argument sets: refuse at run time before building a value too large. */
  private sized(name: string, call: Node, args: readonly Pair[]): Node {
    const spec = SIZED_FUNCTIONS.get(name);
    const length = spec === undefined ? undefined : args[spec.lengthArgument];
    if (spec === undefined || length === undefined) return call;
    const lengthValue: Node = {
      class: 'CAST',
      type: 'OPERATOR_CAST',
      alias: '',
      child: clone(length.v),
      cast_type: { id: 'DOUBLE', type_info: null },
      try_cast: true,
    };
    const unitBytes =
      name === 'repeat'
        ? fn('greatest', [
            fn('strlen', [
              {
                class: 'CAST',
                type: 'OPERATOR_CAST',
                alias: '',
                child: clone(args[0]?.v ?? NULL),
                cast_type: { id: 'VARCHAR', type_info: null },
                try_cast: false,
              },
            ]),
            integerConstant(1),
          ])
        : integerConstant(spec.unit === 'text' ? 4 : 16);
    const estimate = fn('*', [lengthValue, unitBytes], { is_operator: true });
    return caseWhen(
      [
        [
          comparison('COMPARE_GREATERTHAN', estimate, integerConstant(this.options.maxValueBytes)),
          fn('error', [stringConstant(`${VALUE_TOO_LARGE}:${name}`)]),
        ],
      ],
      call,
    );
  }

  private aggregate(node: Node, context: ExpressionContext): Pair {
    const name = text(node, 'function_name').toLowerCase();
    if (!context.grouped) throw unsupported(`The aggregate ${truncate(name)}() is not allowed here.`);
    const rows = rowContext(context.rowTaint);
    const args = children(node, 'children').map((c) => this.expression(c, rows));
    const filterNode = child(node, 'filter');
    const filter = filterNode === undefined ? undefined : this.expression(filterNode, rows);
    const orderBys = child(node, 'order_bys') ?? { type: 'ORDER_MODIFIER', orders: [] };
    const orders = this.orderPairs(children(orderBys, 'orders'), rows);
    const v: Node = {
      ...node,
      children: args.map((a) => a.v),
      filter: filter?.v ?? null,
      order_bys: { ...orderBys, orders: orderValues(orders) },
    };
    let contribution = or(...args.map((a) => a.t), ...orders.map((o) => o.pair.t), context.rowTaint);
    // A row the FILTER leaves out cleanly adds nothing; one it may or may not keep taints the answer.
    if (filter !== undefined) contribution = or(filter.t, and(isTrueTest(clone(filter.v)), contribution));
    return { v, t: isFalse(contribution) ? FALSE : coalesce(fn('bool_or', [contribution]), FALSE) };
  }

  /** ORDER BY entries (of an aggregate or a window) with their expressions rewritten. */
  private orderPairs(orders: readonly Node[], context: ExpressionContext): OrderPair[] {
    return orders.map((order) => ({ order, pair: this.expression(child(order, 'expression') ?? NULL, context) }));
  }

  private window(node: Node, context: ExpressionContext): Pair {
    const type = text(node, 'type');
    const args = children(node, 'children').map((c) => this.expression(c, context));
    const partitionNodes = children(node, 'partitions');
    for (const partition of partitionNodes) {
      const reason = this.analysis.reason(partition);
      if (reason !== undefined)
        throw bypass(
          `PARTITION BY ${truncate(reason)} may read suppressed cells: a suppressed cell would fall in an unknown partition. Partition by dimension columns.`,
        );
    }
    const partitions = partitionNodes.map((p) => this.expression(p, context));
    const orders = this.orderPairs(children(node, 'orders'), context);
    const part = (key: string): Pair | undefined => {
      const expression = child(node, key);
      return expression === undefined ? undefined : this.expression(expression, context);
    };
    const start = part('start_expr');
    const end = part('end_expr');
    const offset = part('offset_expr');
    const fallback = part('default_expr');
    const filter = part('filter_expr');
    const argOrders = this.orderPairs(children(node, 'arg_orders'), context);
    const v: Node = {
      ...node,
      children: args.map((a) => a.v),
      partitions: partitions.map((p) => p.v),
      orders: orderValues(orders),
      start_expr: start?.v ?? null,
      end_expr: end?.v ?? null,
      offset_expr: offset?.v ?? null,
      default_expr: fallback?.v ?? null,
      filter_expr: filter?.v ?? null,
      arg_orders: orderValues(argOrders),
    };
    const partitionValues = () => partitions.map((p) => clone(p.v));
    const wholePartition = (contribution: Node): Node =>
      isFalse(contribution) ? FALSE : coalesce(windowAggregate('bool_or', [contribution], partitionValues()), FALSE);
    // The order, the frame bounds and the rows present decide every result in the partition.
    const shape = or(
      ...orders.map((o) => o.pair.t),
      start?.t ?? FALSE,
      end?.t ?? FALSE,
      offset?.t ?? FALSE,
      ...partitions.map((p) => p.t),
      context.windowRowTaint,
    );
    let t: Node;
    if (type === 'WINDOW_AGGREGATE') {
      const reads = or(filter?.t ?? FALSE, ...args.map((a) => a.t), ...argOrders.map((o) => o.pair.t));
      const frame = isFalse(reads) ? FALSE : coalesce(windowAggregate('bool_or', [reads], partitionValues(), v), FALSE);
      t = or(frame, wholePartition(shape));
    } else if (
      ['WINDOW_LAG', 'WINDOW_LEAD', 'WINDOW_FIRST_VALUE', 'WINDOW_LAST_VALUE', 'WINDOW_NTH_VALUE'].includes(type)
    ) {
      const [value, ...rest] = args;
      const moved =
        value === undefined || isFalse(value.t)
          ? FALSE
          : node.ignore_nulls === true
            ? wholePartition(value.t)
            : coalesce(
                {
                  ...clone(v),
                  children: [value.t, ...rest.map((r) => clone(r.v))],
                  default_expr: fallback === undefined ? null : fallback.t,
                  filter_expr: null,
                  distinct: false,
                },
                FALSE,
              );
      const fallbackTaint = fallback !== undefined && isFalse(value?.t ?? FALSE) ? fallback.t : FALSE;
      t = or(moved, fallbackTaint, wholePartition(or(shape, ...rest.map((r) => r.t))));
    } else {
      t = wholePartition(or(shape, ...args.map((a) => a.t)));
    }
    return { v, t };
  }

  private subquery(node: Node): Pair {
    const type = text(node, 'subquery_type');
    const query = child(child(node, 'subquery') ?? {}, 'node');
    if (query === undefined) throw unsupported('A subquery without a query is not supported.');
    const inner = this.relation(query, { top: false, distinctRows: false });
    if (type === 'SCALAR') {
      const first = leftmostSelect(query);
      const items = first === undefined ? [] : children(first, 'select_list');
      if (items.length !== 1 || items[0]?.class === 'STAR')
        throw unsupported('A subquery used as a value must select exactly one named column (not *).');
      const value = column('$v');
      const wrapper = selectNode({
        selectList: [
          pack({
            v: fn('struct_extract', [value, stringConstant('v')]),
            t: or(
              coalesce(fn('struct_extract', [clone(value), stringConstant('t')]), FALSE),
              coalesce(column(ROW), FALSE),
            ),
          }),
        ],
        from: subqueryTable(inner, this.fresh('scalar'), ['$v', ROW]),
      });
      const expression = subqueryExpression('SCALAR', wrapper);
      return {
        v: fn('struct_extract', [expression, stringConstant('v')]),
        t: coalesce(fn('struct_extract', [clone(expression), stringConstant('t')]), FALSE),
      };
    }
    if (type === 'EXISTS' || type === 'NOT_EXISTS') {
      const exists = subqueryExpression('EXISTS', inner);
      // Certain when some row is certain (true) or there is no row (false); tainted when every row is uncertain.
      const allUncertain = subqueryExpression(
        'SCALAR',
        selectNode({
          selectList: [fn('bool_and', [column(ROW)])],
          from: subqueryTable(clone(inner), this.fresh('exists')),
        }),
      );
      return { v: type === 'EXISTS' ? exists : operator('OPERATOR_NOT', [exists]), t: coalesce(allUncertain, FALSE) };
    }
    throw unsupported('IN (SELECT …), ANY and ALL over a subquery are not supported; write a JOIN or EXISTS.');
  }
}

interface OrderPair {
  readonly order: Node;
  readonly pair: Pair;
}

/** ORDER BY entries sorting on the values. */
function orderValues(orders: readonly OrderPair[]): Node[] {
  return orders.map((o) => ({ ...o.order, expression: o.pair.v }));
}

function rowContext(rowTaint: Node): ExpressionContext {
  return { rowTaint, windowRowTaint: rowTaint, grouped: false };
}

/**
 * A pair as one column: NULL when the value is a clean NULL (so a USING join
 * or a GROUP BY treats it as SQL treats NULL), else STRUCT(v, t). A tainted
 * value is stored as NULL: what was computed from NULLs in place of hidden
 * cells means nothing, and must not trip a later overflow the true values
 * would not.
 */
function pack(pair: Pair): Node {
  const clean = fn('struct_pack', [withAlias(pair.v, 'v'), withAlias(FALSE, 't')]);
  const cleanNull: [Node, Node] = [isNull(clone(pair.v)), NULL];
  if (isFalse(pair.t)) return caseWhen([cleanNull], clean);
  const tainted = fn('struct_pack', [withAlias(NULL, 'v'), withAlias(TRUE, 't')]);
  return caseWhen([[pair.t, tainted], cleanNull], clean);
}

/** COALESCE(a, b, …) depends on b only where a is NULL. */
function coalesceTaint(args: readonly Pair[]): Node {
  let taint = args[args.length - 1]?.t ?? FALSE;
  for (let i = args.length - 2; i >= 0; i--) {
    const arg = args[i] as Pair;
    taint = or(arg.t, isFalse(taint) ? FALSE : and(isNull(clone(arg.v)), taint));
  }
  return taint;
}

/** The names a select item gives (a * gives its REPLACE and RENAME names). */
function itemNames(item: Node): string[] {
  if (item.class === 'STAR')
    return [
      ...children(item, 'replace_list').map((e) => text(e, 'key')),
      ...children(item, 'rename_list').map((e) => text(e, 'value')),
    ];
  const name = outputName(item);
  return name === undefined ? [] : [name];
}

function leftmostSelect(node: Node): Node | undefined {
  if (node.type === 'SELECT_NODE') return node;
  const left = child(node, 'left');
  return left === undefined ? undefined : leftmostSelect(left);
}

/** The same expression, ignoring aliases and source positions. */
function sameExpression(a: Node, b: Node): boolean {
  const strip = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(strip)
      : isNode(value)
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([k]) => k !== 'alias' && k !== 'query_location')
              .map(([k, v]) => [k, strip(v)]),
          )
        : value;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function containsAggregate(value: unknown): boolean {
  return contains(
    value,
    (node) => node.class === 'FUNCTION' && AGGREGATE_FUNCTIONS.has(text(node, 'function_name').toLowerCase()),
  );
}

function containsWindow(value: unknown): boolean {
  return contains(value, (node) => node.class === 'WINDOW');
}

function containsColumnOrQuery(value: unknown): boolean {
  return contains(value, (node) => node.class === 'COLUMN_REF' || node.class === 'SUBQUERY');
}

/** Whether an expression holds a matching node, not looking into subqueries (they have their own scope). */
function contains(value: unknown, test: (node: Node) => boolean): boolean {
  if (Array.isArray(value)) return value.some((v) => contains(v, test));
  if (!isNode(value)) return false;
  if (typeof value.class === 'string' && test(value)) return true;
  if (value.class === 'SUBQUERY') return false;
  return Object.values(value).some((v) => contains(v, test));
}

function unsupported(message: string): QueryRefusedError {
  return new QueryRefusedError('UNSUPPORTED', message);
}

function bypass(message: string): QueryRefusedError {
  return new QueryRefusedError('SUPPRESSION_BYPASS', message);
}
