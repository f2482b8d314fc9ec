import { OUTER_BLOCK_SHAPE, ROUND_CONSTANTS, smallSigma0, smallSigma1 } from './sha256Constants.js';
import { Op, SimdOp, signedLeb, singleFunctionModule, unsignedLeb, ValueType } from './wasmEncoding.js';

/**
 * HMAC-SHA256 of four one-block messages at once, one per 32-bit lane of
 * WebAssembly SIMD (i32x4), generated for a fixed message shape: which words
 * of the inner block carry message bytes and what the others hold. For P1
 * ("bsn:" + 9 digits) only inner words 1–3 vary; word 0 is "bsn:", 4–14 are
 * zero and 15 is the bit length, and the outer block's words 8–15 are fixed.
 * Every known word is folded into the message schedule when the code is
 * generated. Four lanes at three instructions per rotate (SIMD has no
 * rotate) measured about three times the throughput of the same specialised
 * compressions in scalar JS.
 *
 * The function `hmac4(groups)` reads the key states and `groups` groups of
 * four messages' variable words from its memory and writes the first four
 * words (16 bytes) of each MAC; see `LaneLayout` for where.
 */

/** Where the lane function finds its input and leaves its output (byte offsets into its memory). */
export interface LaneLayout {
  /** Groups of four messages one call may process. */
  readonly groupCapacity: number;
  /** Indices (0–14) of the inner block's words that carry message bytes. */
  readonly variableWords: readonly number[];
  /** 16 × 4 int32: the inner then the outer key state, each state word repeated in all four lanes. */
  readonly keyStateOffset: number;
  /** Group g, variable word v (its position in `variableWords`), lane l: int32 at `inputOffset + 16·(g·V + v) + 4·l`. */
  readonly inputOffset: number;
  /** Group g, MAC word i (0–3), lane l: int32 at `outputOffset + 16·(4g + i) + 4·l`. */
  readonly outputOffset: number;
  readonly pages: number;
}

/** A generated lane module and its memory layout. */
export interface LaneModuleSource {
  readonly bytes: Uint8Array;
  readonly layout: LaneLayout;
}

type Word = number | { readonly local: number };

/** Generate the module for inner blocks of `innerShape` (known words as numbers, message-carrying words as null). */
export function laneHmacModule(innerShape: readonly (number | null)[], groupCapacity: number): LaneModuleSource {
  const variableWords = innerShape.flatMap((w, i) => (w === null ? [i] : []));
  const inputStride = variableWords.length * 16;
  const keyStateOffset = 0;
  const inputOffset = 256;
  const outputOffset = inputOffset + groupCapacity * inputStride;
  const pages = Math.ceil((outputOffset + groupCapacity * 64) / 65536);
  const layout: LaneLayout = { groupCapacity, variableWords, keyStateOffset, inputOffset, outputOffset, pages };

  const code: number[] = [];
  const emit = (...bytes: number[]) => {
    for (const byte of bytes) code.push(byte);
  };
  const simd = (op: number) => emit(Op.Simd, ...unsignedLeb(op));
  const get = (local: number) => emit(Op.LocalGet, ...unsignedLeb(local));
  const set = (local: number) => emit(Op.LocalSet, ...unsignedLeb(local));
  const i32 = (value: number) => emit(Op.I32Const, ...signedLeb(value));
  const splat = (value: number) => {
    simd(SimdOp.V128Const);
    for (let lane = 0; lane < 4; lane++)
      emit(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
  };
  const add = () => simd(SimdOp.I32x4Add);
  const xor = () => simd(SimdOp.V128Xor);
  /** v128.load/store at `address` (on the stack) + static `offset`, 16-byte aligned. */
  const load = (offset: number) => (simd(SimdOp.V128Load), emit(4, ...unsignedLeb(offset)));
  const store = (offset: number) => (simd(SimdOp.V128Store), emit(4, ...unsignedLeb(offset)));
  const loadAt = (offset: number) => (i32(0), load(offset));
  const rotateRight = (local: number, n: number) => {
    // No SIMD rotate: (x >>> n) | (x << 32 − n).
    get(local), i32(n), simd(SimdOp.I32x4ShrU);
    get(local), i32(32 - n), simd(SimdOp.I32x4Shl);
    simd(SimdOp.V128Or);
  };
  const bigSigma = (local: number, [r1, r2, r3]: readonly [number, number, number]) => {
    rotateRight(local, r1), rotateRight(local, r2), xor(), rotateRight(local, r3), xor();
  };
  const smallSigma = (local: number, [r1, r2, shift]: readonly [number, number, number]) => {
    rotateRight(local, r1), rotateRight(local, r2), xor(), get(local), i32(shift), simd(SimdOp.I32x4ShrU), xor();
  };

  // Locals: 0 = groups (param), then two i32 pointers, then v128s allocated as needed.
  const input = 1;
  const output = 2;
  const end = 3;
  let v128Locals = 0;
  const newV128 = () => 4 + v128Locals++;
  const state = Array.from({ length: 8 }, newV128);
  const t1 = newV128();

  /** Emit one compression of `block` starting from the state at `stateOffset`; returns the locals holding a..h (before the feed-forward). */
  const compression = (block: readonly Word[], stateOffset: number): number[] => {
    const word: Word[] = [...block];
    for (let i = 0; i < 8; i++) loadAt(stateOffset + i * 16), set(state[i]!);
    let roles = [...state];
    for (let round = 0; round < 64; round++) {
      if (round >= 16) {
        // w[i] = w[i−16] + σ0(w[i−15]) + w[i−7] + σ1(w[i−2]), known parts summed now.
        let constant = 0;
        let terms = 0;
        const term = (w: Word, sigma: ((x: number) => number) | null, emitSigma: ((local: number) => void) | null) => {
          if (typeof w === 'number') constant = (constant + (sigma === null ? w : sigma(w))) | 0;
          else {
            if (emitSigma === null) get(w.local);
            else emitSigma(w.local);
            if (terms++ > 0) add();
          }
        };
        term(word[round - 16]!, null, null);
        term(word[round - 15]!, smallSigma0, (l) => smallSigma(l, [7, 18, 3]));
        term(word[round - 7]!, null, null);
        term(word[round - 2]!, smallSigma1, (l) => smallSigma(l, [17, 19, 10]));
        if (terms === 0) word.push(constant);
        else {
          if (constant !== 0) splat(constant), add();
          const local = newV128();
          set(local);
          word.push({ local });
        }
      }
      const [a, b, c, d, e, f, g, h] = roles as [number, number, number, number, number, number, number, number];
      const w = word[round]!;
      // t1 = h + Σ1(e) + Ch(e, f, g) + K + w; Ch(e, f, g) = bitselect(f, g, e).
      get(h), bigSigma(e, [6, 11, 25]), add();
      get(f), get(g), get(e), simd(SimdOp.V128Bitselect), add();
      if (typeof w === 'number') splat((ROUND_CONSTANTS[round]! + w) | 0), add();
      else get(w.local), add(), splat(ROUND_CONSTANTS[round]!), add();
      set(t1);
      get(d), get(t1), add(), set(d);
      // new a = t1 + Σ0(a) + Maj(a, b, c); Maj(a, b, c) = bitselect(a, c, b ⊕ c).
      get(t1), bigSigma(a, [2, 13, 22]), add();
      get(a), get(c), get(b), get(c), xor(), simd(SimdOp.V128Bitselect), add(), set(h);
      // Rotate the roles instead of moving eight values each round.
      roles = [h, a, b, c, d, e, f, g];
    }
    return roles;
  };

  // end = groups · inputStride; nothing to do for zero groups.
  get(0), i32(inputStride), emit(Op.I32Mul), set(end);
  i32(0), set(input);
  i32(0), set(output);
  emit(Op.Block, 0x40);
  get(0), emit(Op.I32Eqz, Op.BrIf, 0);
  emit(Op.Loop, 0x40);
  const inner: Word[] = [];
  let variable = 0;
  for (const known of innerShape) {
    if (known !== null) inner.push(known);
    else {
      const local = newV128();
      get(input), load(inputOffset + 16 * variable++), set(local);
      inner.push({ local });
    }
  }
  const innerRoles = compression(inner, keyStateOffset);
  const digest: Word[] = innerRoles.map((role, i) => {
    const local = newV128();
    get(role), loadAt(keyStateOffset + i * 16), add(), set(local);
    return { local };
  });
  const outerRoles = compression(
    OUTER_BLOCK_SHAPE.map((known, i) => known ?? digest[i]!),
    keyStateOffset + 128,
  );
  // Only the first 16 bytes of the MAC are used: four words.
  for (let i = 0; i < 4; i++) {
    get(output), get(outerRoles[i]!), loadAt(keyStateOffset + 128 + i * 16), add(), store(outputOffset + i * 16);
  }
  get(output), i32(64), emit(Op.I32Add), set(output);
  get(input), i32(inputStride), emit(Op.I32Add), emit(Op.LocalTee, ...unsignedLeb(input));
  get(end), emit(Op.I32Ne, Op.BrIf, 0);
  emit(Op.End, Op.End);

  const bytes = singleFunctionModule(
    'hmac4',
    pages,
    [
      { type: ValueType.I32, count: 3 },
      { type: ValueType.V128, count: v128Locals },
    ],
    code,
  );
  return { bytes, layout };
}
