import { DuckDBInstance } from '@duckdb/node-api';
import { sqlIdent, sqlString } from '../../pipeline/core/duckdb.js';
import type { Row, SampleTable } from '../../pipeline/query/sampleRelease.js';

/**
 * A small release with suppressed cells and its unsuppressed twin, for the
 * property test of the query service: the twin holds the true value of every
 * suppressed cell (statuses unchanged), as the secure environment saw it.
 * The true values are chosen to change answers when skipped: the largest and
 * smallest cells of a column, negatives, and a tie with a published cell.
 * Every number is invented.
 */

const YEARS = ['2019', '2020', '2021'];
const MUNICIPALITIES = ['a', 'b', 'c', 'd'];
const GROUPS = ['x', 'y'];

interface Cell {
  readonly value: number | null;
  readonly status: 'published' | 'suppressed' | 'rounded' | 'empty';
}

const p = (value: number): Cell => ({ value, status: 'published' });
const s = (value: number): Cell => ({ value, status: 'suppressed' });

/** flows(year, municipality, n, m, r): n and m counts, r a rate. */
const FLOWS: Record<string, { n: Cell; m: Cell; r: Cell }> = {
  '2019|a': { n: p(120), m: p(30), r: p(0.25) },
  '2019|b': { n: s(9), m: p(41), r: p(0.5) },
  '2019|c': { n: p(300), m: s(2), r: s(0.01) },
  '2019|d': { n: p(75), m: p(18), r: p(0.24) },
  '2020|a': { n: p(131), m: p(33), r: { value: null, status: 'empty' } },
  '2020|b': { n: p(88), m: p(41), r: p(0.47) },
  '2020|c': { n: s(999), m: p(77), r: p(0.26) },
  '2020|d': { n: p(64), m: { value: 15, status: 'rounded' }, r: p(0.23) },
  '2021|a': { n: p(140), m: s(-4), r: p(0.24) },
  '2021|b': { n: s(75), m: p(40), r: s(0.99) },
  '2021|c': { n: p(310), m: p(80), r: p(0.26) },
  '2021|d': { n: p(0), m: p(0), r: p(0) },
};

/** quality(year, grp, k, w). */
const QUALITY: Record<string, { k: Cell; w: Cell }> = {
  '2019|x': { k: p(12), w: p(22.5) },
  '2019|y': { k: s(3), w: s(40) },
  '2020|x': { k: p(14), w: p(23) },
  '2020|y': { k: p(20), w: p(27.5) },
  '2021|x': { k: s(500), w: p(24) },
  '2021|y': { k: p(21), w: p(28) },
};

function rows<T extends Record<string, Cell>>(
  data: Record<string, T>,
  dims: readonly [string, string],
  truth: boolean,
): Row[] {
  return Object.entries(data).map(([key, cells]) => {
    const [first, second] = key.split('|');
    const row: Row = { [dims[0]]: first ?? '', [dims[1]]: second ?? '' };
    for (const [name, cell] of Object.entries(cells)) {
      row[name] = cell.status === 'suppressed' && !truth ? null : cell.value;
      row[`${name}_status`] = cell.status;
    }
    return row;
  });
}

function table(
  name: string,
  dims: readonly [string, string],
  measures: readonly [string, 'BIGINT' | 'DOUBLE'][],
  data: Record<string, Record<string, Cell>>,
  truth: boolean,
): SampleTable {
  return {
    name,
    title: name,
    description: `Synthetic ${name} for the query property test`,
    columns: [
      ...dims.map((d) => ({ name: d, type: 'VARCHAR' as const, role: 'dimension', description: d })),
      ...measures.flatMap(([m, type]) => [
        { name: m, type, role: 'count', description: m },
        { name: `${m}_status`, type: 'VARCHAR' as const, role: 'status', description: `status of ${m}` },
      ]),
    ],
    rows: rows(data, dims, truth),
  };
}

/** The released tables (suppressed cells NULL), or with `truth` the twin's (true values). */
export function twinTables(truth: boolean): SampleTable[] {
  return [
    table(
      'flows',
      ['year', 'municipality'],
      [
        ['n', 'BIGINT'],
        ['m', 'BIGINT'],
        ['r', 'DOUBLE'],
      ],
      FLOWS,
      truth,
    ),
    table(
      'quality',
      ['year', 'grp'],
      [
        ['k', 'BIGINT'],
        ['w', 'DOUBLE'],
      ],
      QUALITY,
      truth,
    ),
  ];
}

export const TWIN_DIMENSIONS = { years: YEARS, municipalities: MUNICIPALITIES, groups: GROUPS };

/** The unsuppressed twin as a plain in-memory DuckDB, where the researcher's SQL runs as written. */
export async function openTwin(): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    for (const t of twinTables(true)) {
      const values = t.rows
        .map(
          (row) =>
            `(${t.columns
              .map((c) => {
                const v = row[c.name] ?? null;
                return v === null ? `NULL::${c.type}` : typeof v === 'number' ? `${v}::${c.type}` : sqlString(v);
              })
              .join(', ')})`,
        )
        .join(', ');
      await connection.run(
        `CREATE TABLE ${sqlIdent(t.name)} AS SELECT * FROM (VALUES ${values}) v(${t.columns.map((c) => sqlIdent(c.name)).join(', ')})`,
      );
    }
  } finally {
    connection.closeSync();
  }
  return instance;
}
