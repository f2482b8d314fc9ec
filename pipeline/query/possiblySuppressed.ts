import { AGGREGATE_FUNCTIONS } from './allowedFunctions.js';
import { child, children, isNode, type Node, strings, text } from './parseTree.js';

/**
 * A static over-approximation of where a suppressed cell can reach, for the
 * few constructs whose answer the rewrite cannot mark row by row: a join
 * condition, a GROUP BY key, a PARTITION BY key, a LIMIT inside a subquery
 * and the optional side of an outer join. For those, markedQuery.ts refuses
 * the query unless this analysis shows the construct cannot depend on a
 * suppressed cell. Everything else is marked at run time, per value.
 *
 * It works by column name, over the whole query, so it is sound without
 * binding names the way DuckDB does: a name may hold a suppressed-derived
 * value if any relation anywhere in the query could give a column that name
 * with such a value. Names are case-insensitive. A name DuckDB makes up
 * (`(spells * 2)`, `sum(x)`) is not a plain identifier and always counts;
 * so does the `_1`, `_2` DuckDB appends to a repeated name.
 */
export class PossiblySuppressed {
  private readonly names = new Set<string>();
  private everything = false;
  private readonly certainCache = new Map<Node, boolean>();

  private constructor(private readonly cteOf: ReadonlyMap<Node, Node>) {}

  /** Analyse a guarded query whose released measure columns are `measures`. */
  static analyse(statement: Node, measures: ReadonlySet<string>, cteOf: ReadonlyMap<Node, Node>): PossiblySuppressed {
    const analysis = new PossiblySuppressed(cteOf);
    for (const m of measures) analysis.names.add(m.toLowerCase());
    const selects: Node[] = [];
    const setOperations: Node[] = [];
    const aliased: { aliases: string[]; query: Node }[] = [];
    collect(statement, selects, setOperations, aliased);
    // Names flow through aliases, subqueries and set operations: repeat until nothing changes.
    for (let round = 0; round < 100; round++) {
      const before = analysis.names.size + (analysis.everything ? 1 : 0);
      analysis.certainCache.clear();
      for (const select of selects) analysis.selectNames(select);
      for (const entry of aliased)
        if (analysis.queryMayHoldAny(entry.query)) for (const a of entry.aliases) analysis.names.add(a.toLowerCase());
      for (const setOperation of setOperations) analysis.setOperationNames(setOperation);
      if (analysis.names.size + (analysis.everything ? 1 : 0) === before) break;
    }
    analysis.certainCache.clear();
    return analysis;
  }

  /** May a column called `name` hold a value computed from a suppressed cell? */
  name(name: string): boolean {
    if (this.everything) return true;
    const lower = name.toLowerCase();
    if (!/^[a-z_][a-z0-9_]*$/.test(lower)) return true;
    if (this.names.has(lower)) return true;
    const base = /^(.+)_[0-9]+$/.exec(lower)?.[1];
    return base !== undefined && this.name(base);
  }

  /**
   * The first reason `expression` may depend on a suppressed cell (a column
   * name, or a construct), or undefined when it cannot. Aggregates and window
   * functions count when their input rows are not certain.
   */
  reason(expression: Node, certainInput = true): string | undefined {
    let found: string | undefined;
    visit(expression, (node) => {
      if (found !== undefined) return false;
      if (node.class === 'COLUMN_REF') {
        const parts = strings(node, 'column_names');
        const last = parts[parts.length - 1] ?? '';
        if (this.name(last)) found = parts.join('.');
      } else if (node.class === 'SUBQUERY') {
        found = 'a subquery';
        return false;
      } else if (
        !certainInput &&
        (node.class === 'WINDOW' ||
          (node.class === 'FUNCTION' && AGGREGATE_FUNCTIONS.has(text(node, 'function_name').toLowerCase())))
      ) {
        found = `${text(node, 'function_name')}() over rows that depend on suppressed cells`;
      }
      return true;
    });
    return found;
  }

  /** Are the rows of this table reference or query node certain to exist (no filter, join or grouping read a suppressed cell)? */
  certain(node: Node): boolean {
    const cached = this.certainCache.get(node);
    if (cached !== undefined) return cached;
    this.certainCache.set(node, false); // a cycle cannot happen (no recursive CTEs), but fail closed
    const answer = this.computeCertain(node);
    this.certainCache.set(node, answer);
    return answer;
  }

  private computeCertain(node: Node): boolean {
    switch (text(node, 'type')) {
      case 'BASE_TABLE': {
        const cte = this.cteOf.get(node);
        return cte === undefined || this.certain(cte);
      }
      case 'JOIN': {
        const condition = child(node, 'condition');
        return (
          [child(node, 'left'), child(node, 'right')].every((side) => side === undefined || this.certain(side)) &&
          (condition === undefined || this.reason(condition) === undefined)
        );
      }
      case 'SUBQUERY': {
        const query = child(child(node, 'subquery') ?? {}, 'node');
        return query === undefined || this.certain(query);
      }
      case 'TABLE_FUNCTION':
      case 'EXPRESSION_LIST':
      case 'EMPTY':
        return true;
      case 'SELECT_NODE':
        return this.selectCertain(node);
      case 'SET_OPERATION_NODE': {
        const sides = [child(node, 'left'), child(node, 'right')].filter((s): s is Node => s !== undefined);
        if (!sides.every((s) => this.certain(s))) return false;
        return node.setop_all === true || !sides.some((s) => this.queryMayHoldAny(s));
      }
      default:
        return false;
    }
  }

  private selectCertain(node: Node): boolean {
    const from = child(node, 'from_table');
    if (from !== undefined && !this.certain(from)) return false;
    for (const key of ['where_clause', 'having', 'qualify']) {
      const expression = child(node, key);
      if (expression !== undefined && this.reason(expression) !== undefined) return false;
    }
    for (const key of children(node, 'group_expressions')) if (this.reason(key) !== undefined) return false;
    const distinct = children(node, 'modifiers').some((m) => m.type === 'DISTINCT_MODIFIER');
    if (distinct && this.queryMayHoldAny(node)) return false;
    return true;
  }

  private inputCertain(select: Node): boolean {
    const from = child(select, 'from_table');
    const where = child(select, 'where_clause');
    return (from === undefined || this.certain(from)) && (where === undefined || this.reason(where) === undefined);
  }

  private selectNames(select: Node): void {
    const certainInput = this.inputCertain(select);
    for (const item of children(select, 'select_list')) {
      if (item.class === 'STAR') {
        for (const entry of children(item, 'replace_list')) {
          const value = child(entry, 'value');
          if (value !== undefined && this.reason(value, certainInput) !== undefined)
            this.names.add(text(entry, 'key').toLowerCase());
        }
        for (const entry of children(item, 'rename_list')) {
          const from = text(child(entry, 'key') ?? {}, 'column');
          if (this.name(from)) this.names.add(text(entry, 'value').toLowerCase());
        }
        continue;
      }
      if (this.reason(item, certainInput) === undefined) continue;
      const name = outputName(item);
      if (name !== undefined) this.names.add(name.toLowerCase());
    }
  }

  private setOperationNames(node: Node): void {
    const branches: Node[] = [];
    setOperationBranches(node, branches);
    const anyStar = branches.some((b) => children(b, 'select_list').some((i) => i.class === 'STAR'));
    if (!branches.some((b) => this.queryMayHoldAny(b))) return;
    // Columns of a UNION are positional: a suppressed-derived value in one branch lands under the first branch's name.
    if (anyStar) {
      this.everything = true;
      return;
    }
    for (const branch of branches)
      for (const item of children(branch, 'select_list')) {
        const name = outputName(item);
        if (name !== undefined) this.names.add(name.toLowerCase());
      }
  }

  /** May any column of this query node hold a suppressed-derived value? (A * counts.) */
  private queryMayHoldAny(node: Node): boolean {
    if (node.type === 'SET_OPERATION_NODE')
      return [child(node, 'left'), child(node, 'right')].some((s) => s !== undefined && this.queryMayHoldAny(s));
    if (node.type !== 'SELECT_NODE') return true;
    const certainInput = this.inputCertain(node);
    return children(node, 'select_list').some(
      (item) => item.class === 'STAR' || this.reason(item, certainInput) !== undefined,
    );
  }
}

/** The name DuckDB gives a select-list item when it is an alias or a column; undefined for a computed one. */
export function outputName(item: Node): string | undefined {
  const alias = text(item, 'alias');
  if (alias !== '') return alias;
  if (item.class === 'COLUMN_REF') return strings(item, 'column_names').at(-1);
  return undefined;
}

function setOperationBranches(node: Node, into: Node[]): void {
  for (const side of [child(node, 'left'), child(node, 'right')]) {
    if (side === undefined) continue;
    if (side.type === 'SET_OPERATION_NODE') setOperationBranches(side, into);
    else into.push(side);
  }
}

/** Every SELECT node, set operation and aliased query (CTE column lists, subquery column lists) in the tree. */
function collect(
  value: unknown,
  selects: Node[],
  setOperations: Node[],
  aliased: { aliases: string[]; query: Node }[],
): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, selects, setOperations, aliased);
    return;
  }
  if (!isNode(value)) return;
  if (value.type === 'SELECT_NODE') selects.push(value);
  if (value.type === 'SET_OPERATION_NODE') setOperations.push(value);
  if (value.type === 'SUBQUERY' && typeof value.class !== 'string') {
    const query = child(child(value, 'subquery') ?? {}, 'node');
    const aliases = strings(value, 'column_name_alias');
    if (query !== undefined && aliases.length > 0) aliased.push({ aliases, query });
  }
  if (value.type === 'BASE_TABLE' && strings(value, 'column_name_alias').length > 0) {
    // A released table renamed positionally: every new name may be a measure.
    aliased.push({ aliases: strings(value, 'column_name_alias'), query: { type: 'BASE_TABLE' } });
  }
  if (value.type === 'EXPRESSION_LIST') {
    // VALUES columns are col0, col1, …: may hold what their expressions read.
    const width = Array.isArray(value.values) && Array.isArray(value.values[0]) ? value.values[0].length : 0;
    selects.push({
      type: 'SELECT_NODE',
      select_list: ((value.values as unknown[][] | undefined) ?? []).flatMap((row) =>
        row.filter(isNode).map((e, i) => ({ ...e, alias: `col${i % Math.max(width, 1)}` })),
      ),
    });
  }
  for (const entry of children(child(value, 'cte_map') ?? {}, 'map')) {
    const cteValue = child(entry, 'value') ?? {};
    const query = child(child(cteValue, 'query') ?? {}, 'node');
    const aliases = strings(cteValue, 'aliases');
    if (query !== undefined && aliases.length > 0) aliased.push({ aliases, query });
  }
  for (const item of Object.values(value)) collect(item, selects, setOperations, aliased);
}

/** Depth-first over every node below `value`; `enter` returns false to skip a node's children. */
function visit(value: unknown, enter: (node: Node) => boolean): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, enter);
    return;
  }
  if (!isNode(value)) return;
  if (typeof value.class === 'string' && !enter(value)) return;
  for (const item of Object.values(value)) visit(item, enter);
}
