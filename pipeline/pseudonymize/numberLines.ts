import { Transform, type TransformCallback } from 'node:stream';
import { LineCounter } from '../core/fileRows.js';

/**
 * Prefix every line of a CSV stream with its data row number and the
 * delimiter (the header line gets the column name `row_no`), counting empty
 * lines too, as a steward counts rows in the export. DuckDB's reader skips
 * blank lines and may merge lines around a stray quote; with the number in the
 * line itself every row keeps its place, and rows the reader loses are still
 * found and quarantined. A record is one line: quoted fields with embedded
 * line breaks are not supported (municipal exports do not write them).
 * The count of data lines is the rows of the file as every stage counts them
 * (core/fileRows.ts).
 */
export class NumberLines extends Transform {
  private next = 0;
  private atLineStart = true;
  /** A chunk ended in CR: dropped if the next one starts with LF (a CRLF split across chunks). */
  private pendingCr = false;
  readonly #count = new LineCounter();

  constructor(private readonly delimiter: string) {
    super();
  }

  /** Data lines seen (the header excluded). */
  get lines(): number {
    return this.#count.dataLines;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#count.push(chunk);
    const parts: Buffer[] = [];
    let start = 0;
    // Line ends become LF: DuckDB's CSV reader fails on a file mixing CRLF and LF (Excel edits of LF exports).
    if (this.pendingCr && chunk[0] !== 0x0a) parts.push(Buffer.from([0x0d]));
    this.pendingCr = false;
    while (start < chunk.length) {
      if (this.atLineStart) {
        parts.push(Buffer.from(`${this.next === 0 ? 'row_no' : String(this.next)}${this.delimiter}`, 'utf8'));
        this.next++;
        this.atLineStart = false;
      }
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) {
        this.pendingCr = chunk[chunk.length - 1] === 0x0d;
        parts.push(chunk.subarray(start, this.pendingCr ? chunk.length - 1 : chunk.length));
        break;
      }
      parts.push(
        newline > start && chunk[newline - 1] === 0x0d
          ? Buffer.concat([chunk.subarray(start, newline - 1), Buffer.from([0x0a])])
          : chunk.subarray(start, newline + 1),
      );
      start = newline + 1;
      this.atLineStart = true;
    }
    done(null, Buffer.concat(parts));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.pendingCr ? Buffer.from([0x0d]) : undefined);
  }
}
