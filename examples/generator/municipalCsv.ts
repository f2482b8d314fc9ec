import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { sqlString, type Duck } from '../../pipeline/core/duckdb.js';

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Write one municipal export: DuckDB writes the data lines (UTF-8, in row
 * order) to a scratch file, which is then streamed into the output as
 * Windows-1252 (or, for a file dirtied with a byte-order mark, as UTF-8 with
 * a BOM), header first. Nothing is held in memory beyond a stream chunk.
 */
export async function writeMunicipalCsv(
  duck: Duck,
  options: {
    readonly source: string;
    readonly file: string;
    readonly header: string;
    readonly byteOrderMark: boolean;
    readonly scratchPath: string;
    readonly outPath: string;
  },
): Promise<void> {
  await duck.run(
    `COPY (SELECT line FROM export_row WHERE source = ${sqlString(options.source)} AND file = ${sqlString(options.file)} ORDER BY row)
     TO ${sqlString(options.scratchPath)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f')`,
  );
  const header = Readable.from([`${options.header}\n`]);
  const out = createWriteStream(options.outPath);
  if (options.byteOrderMark) {
    out.write(UTF8_BOM);
    await pipeline(concat(header, createReadStream(options.scratchPath)), out);
  } else {
    await pipeline(
      concat(header, createReadStream(options.scratchPath)),
      iconv.decodeStream('utf8'),
      iconv.encodeStream('windows-1252'),
      out,
    );
  }
}

function concat(...streams: Readable[]): Readable {
  return Readable.from(
    (async function* () {
      for (const stream of streams) {
        for await (const chunk of stream)
          yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
      }
    })(),
  );
}
