import { extname } from 'node:path';
import { sqlString } from '../core/duckdb.js';

/**
 * How DuckDB reads one output file as a table, by its extension. Files that
 * are not tables (HTML reports, JSON documents) are scanned as text instead.
 */
export type FileKind = 'parquet' | 'csv' | 'json' | 'text' | 'binary';

export function fileKind(path: string): FileKind {
  switch (extname(path).toLowerCase()) {
    case '.parquet':
      return 'parquet';
    case '.csv':
      return 'csv';
    case '.json':
    case '.jsonl':
    case '.ndjson':
      return 'json';
    case '.html':
    case '.htm':
    case '.txt':
    case '.md':
    case '.log':
    case '.sql':
    case '.tsv':
      return 'text';
    default:
      return 'binary';
  }
}

/** A table-function call reading `path`; CSV cells stay text so that no value is reinterpreted before the scan. */
export function tableSource(path: string, kind: 'parquet' | 'csv' | 'json'): string {
  const file = sqlString(path);
  switch (kind) {
    case 'parquet':
      return `read_parquet(${file})`;
    case 'csv':
      return `read_csv(${file}, header = true, all_varchar = true, auto_detect = true)`;
    case 'json':
      return `read_json(${file}, format = 'auto', maximum_object_size = 1073741824)`;
  }
}

/** The whole file as one text value, for documents that are not tables. */
export function textSource(path: string): string {
  return `read_text(${sqlString(path)})`;
}
