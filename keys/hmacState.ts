import { sha256 } from '@noble/hashes/sha2.js';
import { LaneHmac } from './laneHmac.js';
import { INITIAL_STATE, ROUND_CONSTANTS } from './sha256Constants.js';
import { writeHexWord } from './hexWord.js';

/**
 * HMAC-SHA256 over a precomputed key state, for hashing millions of short
 * identifiers. HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)): the first
 * 64-byte block of both the inner and the outer hash depends on the key only,
 * so it is compressed once per key. A message of up to 55 bytes (every
 * "bsn:" + 9 digits, "rid:" + P1, and nearly every fallback message) then
 * costs one inner and one outer compression — instead of four, plus the
 * per-call allocations, of a general-purpose HMAC.
 *
 * Many messages of one length (every P1 of a run) go four at a time through
 * WebAssembly SIMD lanes instead (`laneHmac.ts`, via `lanesFor`).
 *
 * The results are byte-for-byte those of `keys/pseudonyms.ts` (tested against
 * it and against node:crypto); only the cost differs.
 */

/** Messages of one length seen before its lane hasher is built: compiling one takes tens of milliseconds, the scalar path hashes this many in a few. */
const LANE_THRESHOLD = 4096;

type Compression = (state: Int32Array, w: Int32Array) => void;

/**
 * One SHA-256 compression: `state` (8 words) absorbs the block whose 16 words
 * are in `w[0..15]`. The 64 rounds are unrolled into straight-line code over
 * local variables, built once when this module loads: with the round
 * constants inlined and no array traffic or register shuffling, V8 runs it
 * markedly faster than the textbook loop, and this function is what the
 * per-identifier cost of every pseudonym comes down to.
 */
export const compress: Compression = buildCompression(Array.from({ length: 16 }, () => 'var'));

/** The outer HMAC block: a 32-byte digest, then fixed padding for a 96-byte message. */
const compressOuter: Compression = buildCompression([
  ...Array.from({ length: 8 }, () => 'var' as const),
  0x80000000 | 0,
  0,
  0,
  0,
  0,
  0,
  0,
  768,
]);

/** A one-block message of at most 15 bytes plus its 0x80 marker ("bsn:" + 9 digits): words 4–14 are zero. */
const SHORT_SHAPE = [
  ...Array.from({ length: 4 }, () => 'var' as const),
  ...Array.from({ length: 11 }, () => 0),
  'var' as const,
];
const compressShort: Compression = buildCompression(SHORT_SHAPE);

/**
 * Generate the unrolled compression for a block whose words are either
 * variable ('var', read from `w`) or known constants; constant words are
 * folded into the message schedule at build time.
 */
function buildCompression(shape: readonly ('var' | number)[]): Compression {
  const lane = compressionLane(shape, '');
  // Generated from the constants above only; no input reaches this code.
  return new Function('state', 'w', [...lane.setup, ...lane.rounds.flat(), ...lane.finish].join('\n')) as Compression;
}

/** The statements of one compression whose variables carry `suffix`, reading `state<suffix>` and `w<suffix>`. */
function compressionLane(
  shape: readonly ('var' | number)[],
  suffix: string,
): { setup: string[]; rounds: string[][]; finish: string[] } {
  const setup: string[] = [];
  const stateName = `state${suffix}`;
  const wName = `w${suffix}`;
  // Each schedule word is either a JS expression name or a known int32.
  const word: (string | number)[] = [];
  shape.forEach((kind, i) => {
    if (kind === 'var') {
      setup.push(`const w${i}${suffix} = ${wName}[${i}] | 0;`);
      word.push(`w${i}${suffix}`);
    } else word.push(kind | 0);
  });
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n)) | 0;
  const sigma0 = (x: string | number): string | number =>
    typeof x === 'number'
      ? (rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3)) | 0
      : `(((${x} >>> 7) | (${x} << 25)) ^ ((${x} >>> 18) | (${x} << 14)) ^ (${x} >>> 3))`;
  const sigma1 = (x: string | number): string | number =>
    typeof x === 'number'
      ? (rotr(x, 17) ^ rotr(x, 19) ^ (x >>> 10)) | 0
      : `(((${x} >>> 17) | (${x} << 15)) ^ ((${x} >>> 19) | (${x} << 13)) ^ (${x} >>> 10))`;
  const schedule: string[] = [];
  for (let i = 16; i < 64; i++) {
    const terms = [word[i - 16]!, sigma0(word[i - 15]!), word[i - 7]!, sigma1(word[i - 2]!)];
    const constant = terms.filter((t): t is number => typeof t === 'number').reduce((sum, t) => (sum + t) | 0, 0);
    const variable = terms.filter((t): t is string => typeof t === 'string');
    if (variable.length === 0) word.push(constant);
    else {
      schedule[i] =
        `const w${i}${suffix} = (${[...variable, ...(constant !== 0 ? [String(constant)] : [])].join(' + ')}) | 0;`;
      word.push(`w${i}${suffix}`);
    }
  }
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => `${n}${suffix}`);
  setup.push(...names.map((n, i) => `let ${n} = ${stateName}[${i}] | 0;`));
  setup.push(`let t1${suffix} = 0, t2${suffix} = 0;`);
  const t1 = `t1${suffix}`;
  const t2 = `t2${suffix}`;
  const rounds: string[][] = [];
  // Instead of shifting a..h each round, rotate which variable plays which role.
  let v = [...names];
  for (let i = 0; i < 64; i++) {
    const [a, b, c, d, e, f, g, h] = v as [string, string, string, string, string, string, string, string];
    const w = word[i]!;
    const k = typeof w === 'number' ? String((ROUND_CONSTANTS[i]! + w) | 0) : `${ROUND_CONSTANTS[i]} + ${w}`;
    const scheduled = schedule[i];
    rounds.push([
      ...(scheduled !== undefined ? [scheduled] : []),
      `${t1} = (${h} + (((${e} >>> 6) | (${e} << 26)) ^ ((${e} >>> 11) | (${e} << 21)) ^ ((${e} >>> 25) | (${e} << 7))) + ((${e} & ${f}) ^ (~${e} & ${g})) + ${k}) | 0;`,
      `${t2} = ((((${a} >>> 2) | (${a} << 30)) ^ ((${a} >>> 13) | (${a} << 19)) ^ ((${a} >>> 22) | (${a} << 10))) + ((${a} & ${b}) ^ (${a} & ${c}) ^ (${b} & ${c}))) | 0;`,
      `${d} = (${d} + ${t1}) | 0;`,
      `${h} = (${t1} + ${t2}) | 0;`,
    ]);
    // The new a lands in the old h's variable, the new e in the old d's.
    v = [h, a, b, c, d, e, f, g];
  }
  const finish = v.map((name, i) => `${stateName}[${i}] = (${stateName}[${i}] + ${name}) | 0;`);
  return { setup, rounds, finish };
}

/** The first 16 bytes of a SHA-256 state as 32 lowercase hex characters. */
function writeHex16(state: Int32Array, out: Uint8Array, offset: number): void {
  for (let i = 0; i < 4; i++) writeHexWord(state[i]!, out, offset + i * 8);
}

/**
 * A key's HMAC-SHA256 with the inner and outer first blocks already
 * compressed, plus a fixed message prefix (e.g. "bsn:"). Not thread-safe
 * across workers (it reuses its scratch arrays); make one per worker.
 */
export class PrecomputedHmac {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly state = new Int32Array(8);
  private readonly w = new Int32Array(64);
  /** Message block(s) being assembled: prefix ‖ message ‖ padding. */
  private block: Uint8Array = new Uint8Array(128);
  private readonly prefix: Uint8Array;
  /** The prefix already laid out as the first words of a block (zeros after it). */
  private readonly prefixWords = new Int32Array(16);
  /** Lane hashers by message length (null: not possible here), and how many messages of each length came by before. */
  private readonly lanesByLength: (LaneHmac | null | undefined)[] = [];
  private readonly lanes: LaneHmac[] = [];
  private readonly seenByLength = new Int32Array(56);

  constructor(key: Uint8Array, prefix: string | Uint8Array = new Uint8Array(0)) {
    this.prefix = typeof prefix === 'string' ? new TextEncoder().encode(prefix) : prefix.slice();
    for (let p = 0; p < Math.min(this.prefix.length, 64); p++)
      this.prefixWords[p >> 2]! |= this.prefix[p]! << (24 - ((p & 3) << 3));
    const padded = new Uint8Array(64);
    padded.set(key.length > 64 ? sha256(key) : key);
    const pad = new Uint8Array(64);
    for (let i = 0; i < 64; i++) pad[i] = padded[i]! ^ 0x36;
    this.inner.set(INITIAL_STATE);
    this.loadWords(pad, 0);
    compress(this.inner, this.w);
    for (let i = 0; i < 64; i++) pad[i] = padded[i]! ^ 0x5c;
    this.outer.set(INITIAL_STATE);
    this.loadWords(pad, 0);
    compress(this.outer, this.w);
    padded.fill(0);
    pad.fill(0);
  }

  /**
   * HMAC of prefix ‖ bytes[start, end); the first 16 bytes of the MAC are
   * written as 32 lowercase hex characters into `out` at `outOffset`.
   */
  hex16Into(bytes: Uint8Array, start: number, end: number, out: Uint8Array, outOffset: number): void {
    const state = this.state;
    const w = this.w;
    const messageLength = this.prefix.length + (end - start);
    const inner = this.inner;
    for (let i = 0; i < 8; i++) state[i] = inner[i]!;
    if (messageLength <= 55) {
      // One block: build its words straight from the bytes (the common case).
      const prefixWords = this.prefixWords;
      for (let i = 0; i < 16; i++) w[i] = prefixWords[i]!;
      let p = this.prefix.length;
      for (let i = start; i < end; i++, p++) w[p >> 2]! |= bytes[i]! << (24 - ((p & 3) << 3));
      w[p >> 2]! |= 0x80 << (24 - ((p & 3) << 3));
      w[15] = (64 + messageLength) * 8;
      if (messageLength <= 15) compressShort(state, w);
      else compress(state, w);
    } else {
      this.compressLongMessage(bytes, start, end, messageLength);
    }
    // Outer: the 32-byte inner digest, 0x80, zeros, length 96 bytes = 768 bits.
    const outer = this.outer;
    for (let i = 0; i < 8; i++) {
      w[i] = state[i]!;
      state[i] = outer[i]!;
    }
    compressOuter(state, w);
    writeHex16(state, out, outOffset);
  }

  /** Inner hash of a message longer than one block can hold (rare: long fallback fields). */
  private compressLongMessage(bytes: Uint8Array, start: number, end: number, messageLength: number): void {
    const prefixLength = this.prefix.length;
    // Room for the message, the 0x80 marker and the 8-byte length, in whole blocks.
    const blocks = Math.ceil((messageLength + 9) / 64);
    if (this.block.length < blocks * 64) this.block = new Uint8Array(blocks * 64);
    const block = this.block;
    block.set(this.prefix, 0);
    for (let i = start, j = prefixLength; i < end; i++, j++) block[j] = bytes[i]!;
    block[messageLength] = 0x80;
    block.fill(0, messageLength + 1, blocks * 64);
    // Length in bits of ipad-block ‖ message; fits 32 bits for any identifier.
    const bits = (64 + messageLength) * 8;
    const last = blocks * 64;
    block[last - 4] = bits >>> 24;
    block[last - 3] = (bits >>> 16) & 0xff;
    block[last - 2] = (bits >>> 8) & 0xff;
    block[last - 1] = bits & 0xff;
    for (let b = 0; b < blocks; b++) {
      this.loadWords(block, b * 64);
      compress(this.state, this.w);
    }
  }

  /**
   * The lane hasher for messages of `messageLength` bytes, once enough of them
   * have come by to repay building it; null until then, for messages that do
   * not fit one block, and where WebAssembly SIMD is unavailable. Whoever
   * queues into it must call `flushLanes` on the same output before using it.
   */
  lanesFor(messageLength: number): LaneHmac | null {
    const existing = this.lanesByLength[messageLength];
    if (existing !== undefined) return existing;
    if (this.prefix.length + messageLength > 55) return null;
    if (++this.seenByLength[messageLength]! < LANE_THRESHOLD) return null;
    const lanes = this.newLanes(messageLength);
    this.lanesByLength[messageLength] = lanes;
    if (lanes !== null) this.lanes.push(lanes);
    return lanes;
  }

  /** A lane hasher of its own for messages of `messageLength` bytes (prefix + message ≤ 55), or null without WebAssembly SIMD. */
  newLanes(messageLength: number): LaneHmac | null {
    return LaneHmac.create(this.inner, this.outer, this.prefix, messageLength);
  }

  /** Finish every message queued in this key's lane hashers for `out`. */
  flushLanes(out: Uint8Array): void {
    for (const lanes of this.lanes) lanes.flush(out);
  }

  /** hex16 of prefix ‖ message (UTF-8), as a string: for small batches and tests. */
  hex16(message: string): string {
    const bytes = Buffer.from(message, 'utf8');
    const out = Buffer.allocUnsafe(32);
    this.hex16Into(bytes, 0, bytes.length, out, 0);
    return out.toString('latin1');
  }

  private loadWords(bytes: Uint8Array, offset: number): void {
    const w = this.w;
    for (let i = 0; i < 16; i++) {
      const o = offset + i * 4;
      w[i] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
    }
  }
}
