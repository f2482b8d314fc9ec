import { endianness } from 'node:os';
import { innerBlockShape } from './sha256Constants.js';
import { type LaneLayout, laneHmacModule } from './sha256Lanes.js';
import { writeHexWord } from './hexWord.js';

/**
 * Batches of same-length messages hashed four at a time by the WebAssembly
 * lane function of `sha256Lanes.ts` (HMAC-SHA256, first 16 bytes as hex —
 * the P1/F1/RID format of docs/design.md). Messages are queued with where their 32
 * hex characters go, and computed when a batch is full or on `flush`.
 *
 * Only for prefix + message ≤ 55 bytes (one block); a canonical BSN under
 * "bsn:" is 13, a P1 under "rid:" 36. Longer messages, and lengths too rare to
 * repay building lanes for, stay on the scalar path of `PrecomputedHmac`,
 * which gives the same bytes.
 */

/** The part of the WebAssembly JS API used here (the project's TypeScript libs, ES2023 + Node 20 types, do not declare it). */
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { readonly exports: unknown };
};
interface WasmModule {
  readonly kind?: never;
}
interface LaneExports {
  readonly hmac4: (groups: number) => void;
  readonly memory: { readonly buffer: ArrayBuffer };
}

const GROUP_CAPACITY = 256;

interface CompiledShape {
  readonly module: WasmModule;
  readonly layout: LaneLayout;
  /** Writes a message's variable words into lane memory (int32 index `base`, stride 4 between words). */
  readonly pack: Packer;
}

type Packer = (bytes: Uint8Array, start: number, words: Int32Array, base: number) => void;

/** Compiled once per (prefix, length) and shared by every key: the code depends on the message shape only. */
const compiled = new Map<string, CompiledShape | null>();

/** Whether lanes can run here: WebAssembly SIMD, and a little-endian host so that Int32Array views read wasm memory as wasm writes it. */
let supported: boolean | undefined;

function compile(prefix: Uint8Array, messageLength: number): CompiledShape | null {
  const id = `${Buffer.from(prefix).toString('hex')}/${messageLength}`;
  let shape = compiled.get(id);
  if (shape === undefined) {
    const inner = innerBlockShape(prefix, messageLength);
    const source = laneHmacModule(inner, GROUP_CAPACITY);
    // WebAssembly is absent under --jitless; SIMD could be switched off by a V8 flag.
    supported ??= typeof WebAssembly !== 'undefined' && endianness() === 'LE' && WebAssembly.validate(source.bytes);
    shape = supported
      ? {
          module: new WebAssembly.Module(source.bytes),
          layout: source.layout,
          pack: packer(prefix, messageLength, source.layout.variableWords),
        }
      : null;
    compiled.set(id, shape);
  }
  return shape;
}

/**
 * A function that assembles the variable block words of one message straight
 * from its bytes, unrolled for the shape: each word is its message bytes
 * shifted into place, OR whatever prefix bytes or 0x80 marker share its four
 * bytes (known now). Generated from the shape's numbers only.
 */
function packer(prefix: Uint8Array, messageLength: number, variableWords: readonly number[]): Packer {
  const total = prefix.length + messageLength;
  const statements = variableWords.map((word, v) => {
    const parts: string[] = [];
    let constant = 0;
    for (let byte = word * 4; byte < word * 4 + 4; byte++) {
      const shift = 24 - (byte & 3) * 8;
      if (byte < prefix.length) constant |= prefix[byte]! << shift;
      else if (byte < total) parts.push(`(bytes[start + ${byte - prefix.length}] << ${shift})`);
      else if (byte === total) constant |= 0x80 << shift;
    }
    if (constant !== 0) parts.push(String(constant | 0));
    return `words[base + ${v * 4}] = ${parts.join(' | ')};`;
  });
  return new Function('bytes', 'start', 'words', 'base', statements.join('\n')) as Packer;
}

/** One key's lane hasher for messages of one length under one prefix. Reuses its memory: one per key and length, not shared across workers. */
export class LaneHmac {
  private readonly hmac4: (groups: number) => void;
  private readonly words: Int32Array;
  private readonly pack: Packer;
  private readonly inputBase: number;
  private readonly inputStride: number;
  private readonly outputBase: number;
  /** Where each queued message's hex goes in `target`. */
  private readonly destinations = new Int32Array(GROUP_CAPACITY * 4);
  private queued = 0;
  private target: Uint8Array | null = null;

  /** A lane hasher, or null where WebAssembly SIMD is unavailable (the caller then uses the scalar path). */
  static create(inner: Int32Array, outer: Int32Array, prefix: Uint8Array, messageLength: number): LaneHmac | null {
    const shape = compile(prefix, messageLength);
    return shape === null ? null : new LaneHmac(shape, inner, outer);
  }

  private constructor(shape: CompiledShape, inner: Int32Array, outer: Int32Array) {
    const instance = new WebAssembly.Instance(shape.module);
    const exports = instance.exports as LaneExports;
    this.hmac4 = exports.hmac4;
    this.words = new Int32Array(exports.memory.buffer);
    this.pack = shape.pack;
    const layout = shape.layout;
    this.inputBase = layout.inputOffset >> 2;
    this.inputStride = layout.variableWords.length * 4;
    this.outputBase = layout.outputOffset >> 2;
    const state = layout.keyStateOffset >> 2;
    for (let i = 0; i < 8; i++) {
      for (let lane = 0; lane < 4; lane++) {
        this.words[state + i * 4 + lane] = inner[i]!;
        this.words[state + 32 + i * 4 + lane] = outer[i]!;
      }
    }
  }

  /**
   * Queue the message at bytes[start, start + length) (the length this hasher
   * was made for); its 32 hex characters land in out[outOffset, outOffset + 32)
   * at the latest when `flush(out)` returns. Messages queued for another
   * `out` and never flushed (an aborted batch) are dropped.
   */
  add(bytes: Uint8Array, start: number, out: Uint8Array, outOffset: number): void {
    if (out !== this.target) {
      this.queued = 0;
      this.target = out;
    }
    const n = this.queued;
    this.pack(bytes, start, this.words, this.inputBase + (n >> 2) * this.inputStride + (n & 3));
    this.destinations[n] = outOffset;
    this.queued = n + 1;
    if (this.queued === this.destinations.length) this.flush(out);
  }

  /** Compute every queued message and write its hex into `out`. */
  flush(out: Uint8Array): void {
    const n = this.queued;
    if (n === 0 || out !== this.target) return;
    // Lanes past the last message hold stale words: hashed, never written out.
    this.hmac4((n + 3) >> 2);
    const words = this.words;
    const destinations = this.destinations;
    for (let m = 0; m < n; m++) {
      const source = this.outputBase + (m >> 2) * 16 + (m & 3);
      let o = destinations[m]!;
      for (let i = 0; i < 16; i += 4) {
        writeHexWord(words[source + i]!, out, o);
        o += 8;
      }
    }
    this.queued = 0;
  }
}
