import { BOOLEAN, DOUBLE, UTINYINT, VARCHAR } from '@duckdb/node-api';
import { F1_PREFIX, P1_PREFIX } from '../../keys/batchPseudonyms.js';
import { PrecomputedHmac } from '../../keys/hmacState.js';
import { parseBsn, type BsnRejection } from '../../schemas/bsn.js';
import { sqlString, type Duck } from '../core/duckdb.js';
import { HexResults } from './hexResults.js';
import {
  DoubleArgument,
  NullMask,
  registerVectorFunction,
  setBytes,
  setString,
  StringArgument,
  type DataChunk,
  type Vector,
} from '../core/vectorFunction.js';

/**
 * The source key's pseudonyms as SQL functions, so that the pass which writes
 * the output computes them inside the scan (P1 and F1 of docs/design.md, "Key hierarchy and pseudonyms", hashed over
 * a precomputed HMAC state): the rows keep their input order without a sort,
 * and no scratch file of distinct BSNs is ever written. On a Parquet column
 * DuckDB calls them once per dictionary entry of a row group, so each distinct
 * BSN of a row group is hashed once.
 *
 * - `bsn_check(raw)`: the BSN's status code (BSN_STATUSES), canonicalised as docs/design.md says
 *   ("Key hierarchy and pseudonyms").
 * - `bsn_p1(raw)`: P1 of the canonical BSN, NULL when it is neither valid nor repaired. (A struct of P1 and status code would save
 *   `bsn_check` a second call, but DuckDB then calls it per row instead of per dictionary entry.)
 * - `fallback_f1(birth date, sex, PC6, house number)`: F1 of the fallback message YYYY-MM-DD|sex|PC6|house number;
 *   its parts travel separately because a string of up to 12 bytes is read straight from DuckDB's vector, a longer
 *   one through a native call per value.
 * - `clients_fallback(raw)`: F1 that the clients file gives a raw BSN value (`useClientsFallback`).
 * - `held_back_<n>(row)`: whether row `row` of input n is quarantined (`holdBack`).
 */
export const BSN_STATUSES = [
  'valid',
  'repaired',
  'missing',
  'not_digits',
  'wrong_length',
  'all_zero',
  'elfproef',
] as const;

const VALID = 0;
const REPAIRED = 1;
/** The highest `bsn_check` code of a usable BSN (valid or repaired). */
export const REPAIRED_CODE = REPAIRED;
const MISSING = 2;
const CODE_OF: Readonly<Record<BsnRejection, number>> = {
  missing: MISSING,
  not_digits: 3,
  wrong_length: 4,
  all_zero: 5,
  elfproef: 6,
};

/** SQL: the status name of a `bsn_check` code. */
export function bsnStatusSql(code: string): string {
  return `[${BSN_STATUSES.map(sqlString).join(', ')}][${code} + 1]`;
}

/** SQL: the output's `id_status` for a `bsn_check` code (a row without a usable BSN that is kept has F1). */
export function idStatusSql(code: string): string {
  return `CASE ${code} WHEN ${VALID} THEN 'bsn' WHEN ${REPAIRED} THEN 'bsn_repaired' ELSE 'fallback' END`;
}

/** SQL: true when a `bsn_check` code is valid or repaired. */
export function bsnUsableSql(code: string): string {
  return `(${code} <= ${REPAIRED})`;
}

export class PseudonymFunctions {
  private readonly canonical = new Uint8Array(9);
  private readonly decoder = new TextDecoder();
  private readonly p1: PrecomputedHmac;
  private readonly f1: PrecomputedHmac;
  private readonly results = new HexResults();
  private codes = new Uint8Array(2048);
  /** The fallback message being assembled from its parts. */
  private message: Uint8Array = new Uint8Array(128);
  private readonly clientsFallback = new Map<string, string>();
  private readonly encoder = new TextEncoder();

  private constructor(
    private readonly duck: Duck,
    key: Uint8Array,
  ) {
    this.p1 = new PrecomputedHmac(key, P1_PREFIX);
    this.f1 = new PrecomputedHmac(key, F1_PREFIX);
  }

  static register(duck: Duck, key: Uint8Array): PseudonymFunctions {
    const functions = new PseudonymFunctions(duck, key);
    const connection = duck.connection;
    registerVectorFunction(connection, {
      name: 'bsn_check',
      parameterTypes: [VARCHAR],
      returnType: UTINYINT,
      apply: (chunk, rows, result) => functions.bsnCheck(chunk, rows, result),
    });
    registerVectorFunction(connection, {
      name: 'bsn_p1',
      parameterTypes: [VARCHAR],
      returnType: VARCHAR,
      apply: (chunk, rows, result) => functions.bsnP1(chunk, rows, result),
    });
    registerVectorFunction(connection, {
      name: 'fallback_f1',
      parameterTypes: [VARCHAR, VARCHAR, VARCHAR, VARCHAR],
      returnType: VARCHAR,
      apply: (chunk, rows, result) => functions.fallbackF1(chunk, rows, result),
    });
    registerVectorFunction(connection, {
      name: 'clients_fallback',
      parameterTypes: [VARCHAR],
      returnType: VARCHAR,
      apply: (chunk, rows, result) => functions.lookUpClientsFallback(chunk, rows, result),
    });
    return functions;
  }

  /** The F1 that `clients_fallback(raw)` returns: raw BSN value (trimmed) → F1, for the values with exactly one. */
  async useClientsFallback(query: string): Promise<void> {
    this.clientsFallback.clear();
    for (const row of await this.duck.rows<{ raw: string; f1: string }>(query))
      this.clientsFallback.set(row.raw, row.f1);
  }

  /**
   * Register `held_back_<index>(row)`: true for the rows numbered in `rowNumbers` (a query of one column `row_no`).
   * The output pass filters on it rather than joining the quarantine, so it keeps the input order. Returns that
   * filter over the input's rows (alias `s`).
   */
  async holdBack(index: number, rowNumbers: string, rowsIn: number): Promise<string> {
    // Row numbers may pass 2^31 in a large enough file, where JS bit operators stop working: divide instead.
    const held = new Uint8Array(Math.floor(rowsIn / 8) + 1);
    // Streamed chunk by chunk: a file may be quarantined whole.
    const rows = await this.duck.connection.stream(`SELECT CAST(row_no AS DOUBLE) AS row_no FROM (${rowNumbers})`);
    for (let chunk = await rows.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await rows.fetchChunk()) {
      const column = chunk.getColumnVector(0);
      for (let i = 0; i < chunk.rowCount; i++) {
        const row = column.getItem(i) as number;
        held[Math.floor(row / 8)]! |= 1 << (row % 8);
      }
    }
    const flags = new Uint8Array(2048);
    registerVectorFunction(this.duck.connection, {
      name: `held_back_${index}`,
      parameterTypes: [DOUBLE],
      returnType: BOOLEAN,
      apply: (chunk, rows, result) => {
        const row = new DoubleArgument(chunk, 0, rows);
        const out = rows <= flags.length ? flags : new Uint8Array(rows);
        for (let i = 0; i < rows; i++) {
          const n = row.at(i);
          out[i] = (held[Math.floor(n / 8)]! >> (n % 8)) & 1;
        }
        setBytes(result, out, rows);
      },
    });
    return `held_back_${index}(CAST(s.row_no AS DOUBLE))`;
  }

  /** Status code of the BSN at bytes[start, start + length) (length -1: NULL); for a usable one, its 9 digits are left in `canonical`. */
  private check(bytes: Uint8Array, start: number, length: number): number {
    if (length <= 0) return MISSING;
    // The canonicalisation of docs/design.md over the bytes, without building a string: keep the digits, skip ASCII
    // whitespace, dots and hyphens. Any other byte above ASCII may be Unicode whitespace: the reference parser decides those.
    const canonical = this.canonical;
    let digits = 0;
    let otherCharacter = false;
    for (let k = start, end = start + length; k < end; k++) {
      const c = bytes[k]!;
      if (c >= 48 && c <= 57) {
        if (digits < 9) canonical[digits] = c;
        digits++;
      } else if (c >= 0x80) {
        return this.checkText(bytes, start, length);
      } else if (c !== 0x20 && c !== 0x2e && c !== 0x2d && (c < 0x09 || c > 0x0d)) {
        otherCharacter = true;
      }
    }
    if (otherCharacter) return CODE_OF.not_digits;
    if (digits === 0) return MISSING;
    if (digits === 8) {
      // A spreadsheet dropped the leading zero.
      canonical.copyWithin(1, 0, 8);
      canonical[0] = 48;
    } else if (digits !== 9) {
      return CODE_OF.wrong_length;
    }
    let sum = 0;
    let nonZero = false;
    for (let position = 0; position < 9; position++) {
      const d = canonical[position]! - 48;
      if (d !== 0) nonZero = true;
      sum += position < 8 ? (9 - position) * d : -d;
    }
    if (!nonZero) return CODE_OF.all_zero;
    if (sum % 11 !== 0) return CODE_OF.elfproef;
    return digits === 8 ? REPAIRED : VALID;
  }

  /** `check` for text with non-ASCII characters, through schemas/bsn.ts. */
  private checkText(bytes: Uint8Array, start: number, length: number): number {
    const parsed = parseBsn(this.decoder.decode(bytes.subarray(start, start + length)));
    if (!parsed.ok) return CODE_OF[parsed.reason];
    this.encoder.encodeInto(parsed.bsn, this.canonical);
    return parsed.repairedLeadingZero ? REPAIRED : VALID;
  }

  private bsnCheck(chunk: DataChunk, rows: number, result: Vector): void {
    const raw = new StringArgument(chunk, 0, rows);
    const codes = this.codesFor(rows);
    for (let i = 0; i < rows; i++) {
      const length = raw.locate(i);
      codes[i] = this.check(raw.bytes, raw.start, length);
    }
    setBytes(result, codes, rows);
  }

  private bsnP1(chunk: DataChunk, rows: number, result: Vector): void {
    const raw = new StringArgument(chunk, 0, rows);
    const results = this.results;
    results.begin(rows);
    for (let i = 0; i < rows; i++) {
      const length = raw.locate(i);
      if (this.check(raw.bytes, raw.start, length) <= REPAIRED) results.hash(this.p1, i, this.canonical, 0, 9);
    }
    results.write(this.p1, rows, result);
  }

  private fallbackF1(chunk: DataChunk, rows: number, result: Vector): void {
    const parts = [0, 1, 2, 3].map((column) => new StringArgument(chunk, column, rows));
    const results = this.results;
    results.begin(rows);
    for (let i = 0; i < rows; i++) {
      // The message as SQL's `birth || '|' || sex || '|' || pc6 || '|' || house` builds it: NULL if any part is.
      let length = 0;
      let complete = true;
      for (let p = 0; p < 4; p++) {
        const part = parts[p]!;
        const partLength = part.locate(i);
        if (partLength < 0) {
          complete = false;
          break;
        }
        if (this.message.length < length + partLength + 1) this.message = growTo(this.message, length + partLength + 1);
        const message = this.message;
        if (p > 0) message[length++] = 0x7c;
        const bytes = part.bytes;
        for (let k = part.start, end = part.start + partLength; k < end; k++) message[length++] = bytes[k]!;
      }
      if (complete) results.hash(this.f1, i, this.message, 0, length);
    }
    results.write(this.f1, rows, result);
  }

  private lookUpClientsFallback(chunk: DataChunk, rows: number, result: Vector): void {
    const raw = new StringArgument(chunk, 0, rows);
    const nulls = new NullMask(rows);
    for (let i = 0; i < rows; i++) {
      const length = raw.locate(i);
      const f1 =
        length < 0
          ? undefined
          : this.clientsFallback.get(this.decoder.decode(raw.bytes.subarray(raw.start, raw.start + length)));
      if (f1 === undefined) nulls.setNull(i);
      else setString(result, i, this.encoder.encode(f1));
    }
    nulls.write(result);
  }

  private codesFor(rows: number): Uint8Array {
    if (this.codes.length < rows) this.codes = new Uint8Array(rows);
    return this.codes;
  }
}

function growTo(bytes: Uint8Array, length: number): Uint8Array {
  const grown = new Uint8Array(Math.max(length, bytes.length * 2));
  grown.set(bytes);
  return grown;
}
