import {
  DuckDBArrayType,
  type DuckDBDataChunk,
  DuckDBListType,
  DuckDBMapType,
  DuckDBStructType,
  type DuckDBType,
  DuckDBTypeId,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';

/** What a number, date or boolean costs in an answer (its text in JSON or CSV, a separator). */
const FIXED_VALUE_BYTES = 12;

/**
 * The size of a result chunk's values in bytes, read from DuckDB's vectors
 * before any value is turned into a JavaScript string. A string's length sits
 * in the first 4 bytes of its 16-byte vector slot, so a 300 MB text is
 * measured without being copied; the answer is refused before it is.
 */
export function chunkBytes(chunk: DuckDBDataChunk, types: readonly DuckDBType[]): number {
  const rows = chunk.rowCount;
  let total = 0;
  types.forEach((type, i) => {
    total += vectorBytes(duckdb.data_chunk_get_vector(chunk.chunk, i), type, rows);
  });
  return total;
}

function vectorBytes(vector: duckdb.Vector, type: DuckDBType, count: number): number {
  if (count === 0) return 0;
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.BLOB:
    case DuckDBTypeId.BIT: {
      const data = duckdb.vector_get_data(vector, count * 16);
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const validity = duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8);
      let bytes = 0;
      for (let i = 0; i < count; i++)
        if (duckdb.validity_row_is_valid(validity, i)) bytes += view.getUint32(i * 16, true) + 2;
      return bytes;
    }
    case DuckDBTypeId.STRUCT: {
      const struct = type as DuckDBStructType;
      if (!(struct instanceof DuckDBStructType)) return count * FIXED_VALUE_BYTES;
      return struct.entryTypes.reduce(
        (sum, entryType, j) => sum + vectorBytes(duckdb.struct_vector_get_child(vector, j), entryType, count),
        0,
      );
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.MAP: {
      const items = duckdb.list_vector_get_size(vector);
      const childType =
        type instanceof DuckDBListType
          ? type.valueType
          : type instanceof DuckDBMapType
            ? new DuckDBStructType(['key', 'value'], [type.keyType, type.valueType])
            : undefined;
      if (childType === undefined) return count * FIXED_VALUE_BYTES;
      return count * 2 + vectorBytes(duckdb.list_vector_get_child(vector), childType, items);
    }
    case DuckDBTypeId.ARRAY: {
      if (!(type instanceof DuckDBArrayType)) return count * FIXED_VALUE_BYTES;
      return count * 2 + vectorBytes(duckdb.array_vector_get_child(vector), type.valueType, count * type.length);
    }
    default:
      return count * FIXED_VALUE_BYTES;
  }
}
