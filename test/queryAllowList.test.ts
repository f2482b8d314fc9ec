import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlString } from '../pipeline/core/duckdb.js';
import {
  AGGREGATE_FUNCTIONS,
  refusalKind,
  SCALAR_FUNCTIONS,
  TABLE_FUNCTIONS,
} from '../pipeline/query/allowedFunctions.js';
import {
  caseWhen,
  coalesce,
  column,
  FALSE,
  fn,
  isTrueTest,
  NULL,
  or,
  orderModifier,
  positional,
  selectNode,
  star,
  statementJson,
  stringConstant,
  subqueryExpression,
  subqueryTable,
  TRUE,
  windowAggregate,
  withAlias,
} from '../pipeline/query/parseTree.js';

let instance: DuckDBInstance;
let functions: Map<string, Set<string>>;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const rows = (
    await connection.runAndReadAll('SELECT DISTINCT function_name, function_type FROM duckdb_functions()')
  ).getRowsJS();
  functions = new Map();
  for (const [name, type] of rows) {
    const set = functions.get(String(name)) ?? new Set<string>();
    set.add(String(type));
    functions.set(String(name), set);
  }
  connection.closeSync();
});
afterAll(() => instance.closeSync());

describe('the allow-lists name functions of the DuckDB the project ships', () => {
  it('every allowed scalar function or operator is a scalar function or macro', () => {
    const missing = [...SCALAR_FUNCTIONS].filter((name) => {
      const kinds = functions.get(name);
      return kinds === undefined || !(kinds.has('scalar') || kinds.has('macro'));
    });
    expect(missing).toEqual([]);
  });

  it('every allowed aggregate is an aggregate (or an aggregate macro)', () => {
    const missing = [...AGGREGATE_FUNCTIONS].filter((name) => {
      const kinds = functions.get(name);
      return kinds === undefined || !(kinds.has('aggregate') || kinds.has('macro'));
    });
    expect(missing).toEqual([]);
  });

  it('every allowed table function is a table function', () => {
    for (const name of TABLE_FUNCTIONS.keys()) expect(functions.get(name)?.has('table'), name).toBe(true);
  });

  it('no function that reads settings, the catalog, files or the environment is allowed', () => {
    const allowed = [...SCALAR_FUNCTIONS, ...AGGREGATE_FUNCTIONS, ...TABLE_FUNCTIONS.keys()];
    expect(allowed.filter((name) => refusalKind(name) !== 'FUNCTION_NOT_ALLOWED')).toEqual([]);
    for (const name of ['current_setting', 'getenv', 'getvariable', 'version', 'current_database', 'read_text', 'glob'])
      expect(allowed).not.toContain(name);
  });

  it.each([
    ['current_setting', 'SETTINGS_OR_CATALOG'],
    ['duckdb_tables', 'SETTINGS_OR_CATALOG'],
    ['pragma_database_list', 'SETTINGS_OR_CATALOG'],
    ['getvariable', 'SETTINGS_OR_CATALOG'],
    ['read_csv', 'FILE_OR_NETWORK'],
    ['glob', 'FILE_OR_NETWORK'],
    ['getenv', 'FILE_OR_NETWORK'],
    ['json_execute_serialized_sql', 'FILE_OR_NETWORK'],
    ['random', 'FUNCTION_NOT_ALLOWED'],
  ])('classifies a refused %s as %s', (name, kind) => {
    expect(refusalKind(name)).toBe(kind);
  });
});

describe('the parse-tree nodes the rewrite writes are ones DuckDB reads back', () => {
  it('prints each constructed node as the SQL it stands for', async () => {
    const x = column('t', 'x');
    const tree = selectNode({
      selectList: [
        withAlias(fn('struct_extract', [x, stringConstant('v')]), 'a'),
        withAlias(coalesce(column('y'), FALSE), 'b'),
        withAlias(caseWhen([[isTrueTest(column('c')), TRUE]], NULL), 'c'),
        withAlias(coalesce(windowAggregate('bool_or', [or(column('p'), column('q'))], [column('g')]), FALSE), 'w'),
        withAlias(subqueryExpression('EXISTS', selectNode({ selectList: [star([])] })), 'e'),
        star(['$row']),
      ],
      from: subqueryTable(selectNode({ selectList: [positional(1)] }), '$s', ['k']),
      modifiers: [orderModifier([{ type: 'DESCENDING', nullOrder: 'NULLS LAST', expression: column('k') }])],
    });
    const connection = await instance.connect();
    try {
      const printed = (
        await connection.runAndReadAll(`SELECT json_deserialize_sql(${sqlString(statementJson(tree))})`)
      ).getRowsJS()[0]?.[0];
      expect(printed).toBe(
        'SELECT struct_extract(t.x, \'v\') AS a, COALESCE(y, false) AS b, CASE  WHEN ((c IS NOT DISTINCT FROM true)) THEN (true) ELSE NULL END AS c, COALESCE(bool_or((p OR q)) OVER (PARTITION BY g ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), false) AS w, EXISTS(SELECT *) AS e, * EXCLUDE ("$row") FROM (SELECT #1) AS "$s"(k) ORDER BY k DESC NULLS LAST',
      );
    } finally {
      connection.closeSync();
    }
  });
});
