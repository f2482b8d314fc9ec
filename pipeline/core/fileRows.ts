import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { type Duck, parquetRowCount, sqlString } from './duckdb.js';

/**
 * The rows of a file: the one definition every stage's manifest, the generator and the audit use
 * (docs/contracts.md, "Rows of a file").
 *
 * - Parquet: the rows its footer records.
 * - CSV: its data lines, the lines after the header. A line ends at LF (CRLF counts as one end); the file's end
 *   ends a last line that has no LF. Empty lines are rows: a steward counts them in an editor, and a quarantine
 *   names them by number. A file that starts with a UTF-16 byte-order mark is counted in UTF-16 code units.
 * - JSON: the elements of a top-level array; a JSON document of another shape has no rows (null).
 * - Anything else (HTML, text): null.
 *
 * A CSV record is one line: boldlink writes no line break inside a value, and reads none.
 */
export async function rowsOfFile(duck: Duck, path: string): Promise<number | null> {
  switch (extname(path).toLowerCase()) {
    case '.parquet':
      return parquetRowCount(duck, path);
    case '.csv':
      return csvDataLines(path);
    case '.json':
      if (!(await isJsonArray(path))) return null;
      return Number(
        await duck.scalar<bigint>(
          `SELECT count(*) FROM read_json(${sqlString(path)}, format = 'array', maximum_object_size = 1073741824)`,
        ),
      );
    default:
      return null;
  }
}

/** The data lines of a CSV file (the lines after its header), read as a stream. */
export async function csvDataLines(path: string): Promise<number> {
  const counter = new LineCounter();
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) counter.push(chunk as Buffer);
  return counter.dataLines;
}

/**
 * Counts the lines of a text as it streams by, chunk after chunk, by the rule of {@link rowsOfFile}. In UTF-8 and
 * single-byte encodings a line feed is the byte 0x0A; after a UTF-16 byte-order mark it is the code unit 0x000A.
 */
export class LineCounter {
  #lineFeeds = 0;
  #endsWithLineFeed = false;
  #empty = true;
  #unit: 'byte' | 'utf-16le' | 'utf-16be' | undefined;
  /** The first bytes, until the byte-order mark (or its absence) can be told. */
  #head: Buffer = Buffer.alloc(0);
  /** A UTF-16 code unit split across two chunks: its first byte. */
  #halfUnit: number | undefined;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#empty = false;
    if (this.#unit === undefined) {
      this.#head = Buffer.concat([this.#head, chunk]);
      if (this.#head.length < 2) return;
      const [first, second] = [this.#head[0], this.#head[1]];
      this.#unit =
        first === 0xff && second === 0xfe ? 'utf-16le' : first === 0xfe && second === 0xff ? 'utf-16be' : 'byte';
      chunk = this.#head;
      this.#head = Buffer.alloc(0);
    }
    if (this.#unit === 'byte') this.#countBytes(chunk);
    else this.#countUnits(chunk, this.#unit === 'utf-16le');
  }

  /** Every line, the header included. */
  get lines(): number {
    if (this.#empty) return 0;
    // A one-byte file never settles its unit: it is one line, or one line feed.
    if (this.#unit === undefined) return 1;
    return this.#lineFeeds + (this.#endsWithLineFeed ? 0 : 1);
  }

  /** The lines after the header. */
  get dataLines(): number {
    return Math.max(0, this.lines - 1);
  }

  #countBytes(chunk: Buffer): void {
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) this.#lineFeeds++;
    this.#endsWithLineFeed = chunk[chunk.length - 1] === 0x0a;
  }

  #countUnits(chunk: Buffer, littleEndian: boolean): void {
    let i = 0;
    if (this.#halfUnit !== undefined) {
      this.#unitSeen(littleEndian ? this.#halfUnit | (chunk[0]! << 8) : (this.#halfUnit << 8) | chunk[0]!);
      this.#halfUnit = undefined;
      i = 1;
    }
    for (; i + 1 < chunk.length; i += 2)
      this.#unitSeen(littleEndian ? chunk[i]! | (chunk[i + 1]! << 8) : (chunk[i]! << 8) | chunk[i + 1]!);
    if (i < chunk.length) this.#halfUnit = chunk[i];
  }

  #unitSeen(unit: number): void {
    this.#endsWithLineFeed = unit === 0x0a;
    if (this.#endsWithLineFeed) this.#lineFeeds++;
  }
}

/** Whether a JSON file is a top-level array (a table) rather than a document. */
export async function isJsonArray(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(256), 0, 256, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').trimStart().startsWith('[');
  } finally {
    await handle.close();
  }
}
