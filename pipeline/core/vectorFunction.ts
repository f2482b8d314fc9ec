import duckdb from '@duckdb/node-bindings';
import { DuckDBScalarFunction, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';

/**
 * A DuckDB scalar function written in JS over whole vectors, through the C API
 * bindings rather than node-api's per-value accessors: strings are read as
 * bytes where DuckDB keeps them (no UTF-8 decoding per value) and fixed-width
 * results are copied in one call. DuckDB runs the function inside the scan's
 * pipeline, so a query `SELECT f(x), … FROM one_table WHERE …` keeps the
 * table's row order (DuckDB's documented order preservation), which a join
 * would not. For a dictionary-encoded column (Parquet) DuckDB calls it once per
 * dictionary entry of a row group, not once per row.
 *
 * An exception thrown by `apply` fails the query with its message, which must
 * therefore never carry a value.
 */
export type DataChunk = duckdb.DataChunk;
export type Vector = duckdb.Vector;

export interface VectorFunction {
  readonly name: string;
  readonly parameterTypes: readonly DuckDBType[];
  readonly returnType: DuckDBType;
  /** `rows` values per argument in `chunk`; write one result per row into `result`. */
  readonly apply: (chunk: DataChunk, rows: number, result: Vector) => void;
}

/** Time spent inside vector functions on the JS thread, in nanoseconds (DuckDB's threads wait for it). */
export const vectorFunctionTime = { nanoseconds: 0n, calls: 0, values: 0 };

export function registerVectorFunction(connection: DuckDBConnection, fn: VectorFunction): void {
  const scalar = DuckDBScalarFunction.create({
    name: fn.name,
    returnType: fn.returnType,
    parameterTypes: fn.parameterTypes,
    mainFunction: () => undefined,
  });
  duckdb.scalar_function_set_function(scalar.scalar_function, (_info, chunk, result) => {
    const started = process.hrtime.bigint();
    const rows = duckdb.data_chunk_get_size(chunk);
    fn.apply(chunk, rows, result);
    vectorFunctionTime.nanoseconds += process.hrtime.bigint() - started;
    vectorFunctionTime.calls++;
    vectorFunctionTime.values += rows;
  });
  connection.registerScalarFunction(scalar);
}

/** The strings of one VARCHAR argument, as bytes. `locate(i)` then read `bytes[start, start + length)`. */
export class StringArgument {
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly validity: Uint8Array | null;
  /** Where the located string lies: in the vector's own bytes (up to 12 bytes are stored inline) or a copy. */
  bytes: Uint8Array;
  start = 0;

  constructor(chunk: DataChunk, column: number, rows: number) {
    const vector = duckdb.data_chunk_get_vector(chunk, column);
    this.data = duckdb.vector_get_data(vector, rows * 16);
    this.view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.validity = validityOf(vector, rows);
    this.bytes = this.data;
  }

  /** The byte length of string `i` (its bytes then at `bytes[start…]`), or -1 for NULL. */
  locate(i: number): number {
    if (this.validity !== null && (this.validity[i >> 3]! & (1 << (i & 7))) === 0) return -1;
    const offset = i * 16;
    const length = this.view.getUint32(offset, true);
    if (length <= 12) {
      this.bytes = this.data;
      this.start = offset + 4;
    } else {
      this.bytes = duckdb.get_data_from_pointer(
        this.data.buffer as ArrayBuffer,
        this.data.byteOffset + offset + 8,
        length,
      );
      this.start = 0;
    }
    return length;
  }
}

/** One DOUBLE argument (row numbers travel as DOUBLE: exact up to 2^53, and read without BigInt). */
export class DoubleArgument {
  private readonly view: DataView;

  constructor(chunk: DataChunk, column: number, rows: number) {
    const data = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk, column), rows * 8);
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  at(i: number): number {
    return this.view.getFloat64(i * 8, true);
  }
}

/** Marks result rows NULL; `write` before returning. */
export class NullMask {
  private bytes: Uint8Array | null = null;

  constructor(private readonly rows: number) {}

  setNull(i: number): void {
    if (this.bytes === null) this.bytes = new Uint8Array(Math.ceil(this.rows / 64) * 8).fill(0xff);
    this.bytes[i >> 3]! &= ~(1 << (i & 7));
  }

  write(result: Vector): void {
    if (this.bytes === null) return;
    duckdb.vector_ensure_validity_writable(result);
    duckdb.copy_data_to_vector_validity(
      result,
      0,
      this.bytes.buffer as ArrayBuffer,
      this.bytes.byteOffset,
      this.bytes.byteLength,
    );
  }
}

/** Set VARCHAR result `i` to `bytes` (all of it: pass a view). */
export function setString(result: Vector, i: number, bytes: Uint8Array): void {
  duckdb.vector_assign_string_element_len(result, i, bytes);
}

/** Copy one byte per row (BOOLEAN, UTINYINT results). */
export function setBytes(result: Vector, values: Uint8Array, rows: number): void {
  duckdb.copy_data_to_vector(result, 0, values.buffer as ArrayBuffer, values.byteOffset, rows);
}

function validityOf(vector: Vector, rows: number): Uint8Array | null {
  // No mask means every value is valid.
  const mask = duckdb.vector_get_validity(vector, Math.ceil(rows / 64) * 8) as Uint8Array | null;
  return mask ?? null;
}
