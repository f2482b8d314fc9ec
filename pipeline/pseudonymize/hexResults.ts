import type { PrecomputedHmac } from '../../keys/hmacState.js';
import { NullMask, setString, type Vector } from '../core/vectorFunction.js';

/**
 * The hex16 pseudonyms of one chunk, as a DuckDB function writes them: queue each row's message with `hash` (lane
 * hashers take many messages of one length at once), then `write` the finished 32 characters into the result vector.
 * The buffer and the per-row views are made once and reused: a view per value and call cost more than the hashing.
 */
export class HexResults {
  private hex = new Uint8Array(2048 * 32);
  private views: Uint8Array[] = [];
  private hashed = new Uint8Array(2048);

  /** Start a chunk of `rows` results: none hashed yet. */
  begin(rows: number): void {
    if (this.hex.length < rows * 32) {
      this.hex = new Uint8Array(rows * 32);
      this.views = [];
    }
    if (this.hashed.length < rows) this.hashed = new Uint8Array(rows);
    this.hashed.fill(0, 0, rows);
  }

  /** Row i's result: hex16 of HMAC(key, prefix ‖ bytes[start, end)). The bytes may be reused once this returns. */
  hash(hmac: PrecomputedHmac, i: number, bytes: Uint8Array, start: number, end: number): void {
    const lanes = hmac.lanesFor(end - start);
    if (lanes !== null) lanes.add(bytes, start, this.hex, i * 32);
    else hmac.hex16Into(bytes, start, end, this.hex, i * 32);
    this.hashed[i] = 1;
  }

  /** Finish the hashes queued with `hmac` and set each hashed row's result; every other row is NULL. */
  write(hmac: PrecomputedHmac, rows: number, result: Vector): void {
    hmac.flushLanes(this.hex);
    const nulls = new NullMask(rows);
    for (let i = 0; i < rows; i++) {
      if (this.hashed[i] === 1) {
        let view = this.views[i];
        if (view === undefined) {
          view = this.hex.subarray(i * 32, i * 32 + 32);
          this.views[i] = view;
        }
        setString(result, i, view);
      } else nulls.setNull(i);
    }
    nulls.write(result);
  }
}
