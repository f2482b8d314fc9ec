import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface FileDigest {
  readonly sha256: string;
  readonly bytes: number;
}

/** sha256 and size of a file, streamed so that multi-GiB Parquet files cost no memory. */
export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  const { size } = await stat(path);
  return { sha256: hash.digest('hex'), bytes: size };
}

export function digestText(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}
