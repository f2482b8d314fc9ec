import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { csvDataLines, LineCounter, rowsOfFile } from '../pipeline/core/fileRows.js';
import { NumberLines } from '../pipeline/pseudonymize/numberLines.js';

/**
 * "Rows of a file" has one definition (docs/contracts.md, "Rows of a file"): a CSV's rows are its lines after the
 * header, empty lines included; Parquet's are its footer's; a JSON array's are its elements.
 */
let root: string;
let duck: Duck;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-file-rows-'));
  duck = await Duck.open({ threads: 1 });
});
afterAll(async () => {
  duck.close();
  await rm(root, { recursive: true, force: true });
});

async function rowsOfText(name: string, content: string | Buffer): Promise<number | null> {
  const path = join(root, name);
  await writeFile(path, content);
  return rowsOfFile(duck, path);
}

/** Every line of a text by hand: split at LF, the piece after a final LF is no line. */
function linesByHand(text: string): number {
  if (text === '') return 0;
  const pieces = text.split('\n');
  return pieces.at(-1) === '' ? pieces.length - 1 : pieces.length;
}

describe('the rows of a CSV file are its lines after the header', () => {
  it.each([
    ['header only, with its line end', 'a;b\n', 0],
    ['header only, without a line end', 'a;b', 0],
    ['an empty file', '', 0],
    ['two rows', 'a;b\n1;2\n3;4\n', 2],
    ['the last row without a line end', 'a;b\n1;2\n3;4', 2],
    ['an empty line between rows is a row', 'a;b\n1;2\n\n3;4\n', 3],
    ['an empty line at the end is a row', 'a;b\n1;2\n\n', 2],
    ['CRLF line ends count once', 'a;b\r\n1;2\r\n\r\n3;4\r\n', 3],
    ['a stray quote does not join lines', 'a;b\n1;"2\n3;4\n', 2],
    ['a UTF-8 byte-order mark belongs to the header', '\uFEFFa;b\n1;2\n', 1],
  ])('%s', async (_name, text, rows) => {
    expect(await rowsOfText('file.csv', text)).toBe(rows);
  });

  it('a UTF-16 file (Excel\'s "Unicode text") is counted in code units, not bytes', async () => {
    // 'Ċ' is U+010A: its low byte is 0x0A, which is no line feed in UTF-16.
    const text = '\uFEFFnaam\tbsn\r\nĊ\t1\r\n\r\nb\t2\r\n';
    expect(await rowsOfText('le.csv', Buffer.from(text, 'utf16le'))).toBe(3);
    expect(await rowsOfText('be.csv', Buffer.from(text, 'utf16le').swap16())).toBe(3);
  });

  it('does not depend on how the bytes are split into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', ';', '\n', '\r', '"', 'é', 'Ċ'), { maxLength: 60 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
        (chars, utf16, cuts) => {
          const text = chars.join('');
          const bytes = utf16 ? Buffer.from(`\uFEFF${text}`, 'utf16le') : Buffer.from(text, 'utf8');
          const counter = new LineCounter();
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const next = Math.min(bytes.length, at + cuts[i % cuts.length]!);
            counter.push(bytes.subarray(at, next));
            at = next;
          }
          expect(counter.lines).toBe(linesByHand(utf16 ? `\uFEFF${text}` : text));
        },
      ),
    );
  });

  it('pseudonymize numbers exactly as many data lines as the definition counts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('x', ';', '\n', '\r\n', '\r', '"'), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 9 }),
        async (parts, chunkSize) => {
          const bytes = Buffer.from(`h;i\n${parts.join('')}`, 'utf8');
          const chunks: Buffer[] = [];
          for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
          const numbering = new NumberLines(';');
          const numbered: Buffer[] = [];
          for await (const out of Readable.from(chunks).pipe(numbering)) numbered.push(out as Buffer);
          const lines = Buffer.concat(numbered).toString('utf8').split('\n');
          const highest = Math.max(0, ...lines.map((l) => Number(l.split(';')[0])).filter(Number.isInteger));
          const path = join(root, 'numbered.csv');
          await writeFile(path, bytes);
          expect(numbering.lines).toBe(await csvDataLines(path));
          expect(highest).toBe(numbering.lines);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the rows of Parquet and JSON files', () => {
  it('Parquet: the rows in its footer', async () => {
    const path = join(root, 'numbers.parquet');
    await duck.run(`COPY (SELECT range AS n FROM range(1234)) TO ${sqlString(path)} (FORMAT parquet)`);
    expect(await rowsOfFile(duck, path)).toBe(1234);
  });

  it('JSON: the elements of a top-level array; a document of another shape has none', async () => {
    expect(await rowsOfText('table.json', '[{"a": 1}, {"a": 2}, {"a": 3}]')).toBe(3);
    expect(await rowsOfText('empty.json', '[\n]')).toBe(0);
    expect(await rowsOfText('document.json', '{"rows": [{"a": 1}]}')).toBeNull();
  });

  it('a file that is not a table has no rows', async () => {
    expect(await rowsOfText('report.html', '<p>1\n2\n</p>')).toBeNull();
  });
});
