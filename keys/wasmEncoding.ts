/**
 * Just enough of the WebAssembly binary format (core spec §5, SIMD proposal
 * opcodes) to emit one exported function over one exported memory. Used to
 * generate the lane hasher at run time from TypeScript, so no compiled binary
 * sits in the repository without its source.
 */

export const Op = {
  Block: 0x02,
  Loop: 0x03,
  BrIf: 0x0d,
  End: 0x0b,
  LocalGet: 0x20,
  LocalSet: 0x21,
  LocalTee: 0x22,
  I32Const: 0x41,
  I32Eqz: 0x45,
  I32Ne: 0x47,
  I32Add: 0x6a,
  I32Mul: 0x6c,
  /** Prefix of every SIMD instruction; the SIMD opcode follows as unsigned LEB128. */
  Simd: 0xfd,
} as const;

export const SimdOp = {
  V128Load: 0x00,
  V128Store: 0x0b,
  V128Const: 0x0c,
  V128And: 0x4e,
  V128Or: 0x50,
  V128Xor: 0x51,
  V128Bitselect: 0x52,
  I32x4Shl: 0xab,
  I32x4ShrU: 0xad,
  I32x4Add: 0xae,
} as const;

export const ValueType = {
  I32: 0x7f,
  V128: 0x7b,
} as const;

export function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

export function signedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vector = (items: readonly (readonly number[])[]): number[] => [...unsignedLeb(items.length), ...items.flat()];
const name = (text: string): number[] => vector([...new TextEncoder().encode(text)].map((b) => [b]));

/** Bytes of `parts` in order (without spreading the large function body into an array literal: that is slow). */
function concat(parts: readonly (readonly number[] | Uint8Array)[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const section = (id: number, contents: Uint8Array): Uint8Array =>
  concat([[id, ...unsignedLeb(contents.length)], contents]);

/**
 * A module with one memory of `pages` 64 KiB pages exported as "memory" and
 * one function `(i32) -> ()` exported as `functionName`, whose body is
 * `locals` (declared in this order) then `code` (without the final `end`).
 */
export function singleFunctionModule(
  functionName: string,
  pages: number,
  locals: readonly { type: number; count: number }[],
  code: readonly number[],
): Uint8Array {
  const body = concat([vector(locals.map((l) => [...unsignedLeb(l.count), l.type])), code, [Op.End]]);
  return concat([
    [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    section(1, new Uint8Array(vector([[0x60, 1, ValueType.I32, 0]]))), // type 0: (i32) -> ()
    section(3, new Uint8Array(vector([[0]]))), // function 0 has type 0
    section(5, new Uint8Array(vector([[0, ...unsignedLeb(pages)]]))), // memory 0: min pages, no max
    section(
      7,
      new Uint8Array(
        vector([
          [...name(functionName), 0, 0],
          [...name('memory'), 2, 0],
        ]),
      ),
    ),
    section(10, concat([unsignedLeb(1), unsignedLeb(body.length), body])), // one function body
  ]);
}
