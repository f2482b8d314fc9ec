import type { EncodedResult } from './responseWriting.js';

/** An encoded answer kept for reuse, with its headers ready to send and its row count for the log. */
export type CachedResponse = EncodedResult & { readonly rows: number; readonly headerList: readonly string[] };

/**
 * A small LRU of encoded table answers, bounded in entries and bytes:
 * released tables never change while served, so an answer can be reused.
 */
export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get(key: string): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: CachedResponse): void {
    if (entry.body.length > this.maxBytes / 8 || this.entries.has(key)) return;
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const [oldest, value] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.body.length;
    }
  }
}
