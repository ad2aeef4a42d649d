/**
 * PLACEHOLDER until branch w-hpack lands (same API): literals without indexing, no Huffman, no table.
 *
 * @module
 */
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A fault in a header block. */
export class HpackError extends Error {}
/** The header list is larger than allowed. */
export class HeaderListTooLarge extends HpackError {
  readonly tooLarge = true;
}

function int(b: Uint8Array, pos: { i: number }, bits: number): number {
  const mask = (1 << bits) - 1;
  let v = b[pos.i++]! & mask;
  if (v < mask) return v;
  let m = 0;
  for (;;) {
    if (pos.i >= b.length) throw new HpackError("truncated integer");
    const c = b[pos.i++]!;
    v += (c & 0x7f) * 2 ** m;
    m += 7;
    if ((c & 0x80) === 0) return v;
    if (m > 28) throw new HpackError("integer too large");
  }
}

function str(b: Uint8Array, pos: { i: number }): string {
  if (pos.i >= b.length) throw new HpackError("truncated string");
  if (b[pos.i]! & 0x80) throw new HpackError("huffman not supported by the placeholder");
  const n = int(b, pos, 7);
  if (pos.i + n > b.length) throw new HpackError("truncated string");
  const s = dec.decode(b.subarray(pos.i, pos.i + n));
  pos.i += n;
  return s;
}

/** Decoder. */
export class HpackDecoder {
  constructor(readonly maxTableSize = 4096, readonly maxHeaderListSize = 65536) {}
  decode(block: Uint8Array): string[] {
    const out: string[] = [];
    const pos = { i: 0 };
    let size = 0;
    while (pos.i < block.length) {
      const c = block[pos.i]!;
      if (c === 0x00 || c === 0x10 || c === 0x40) {
        pos.i++;
        const n = str(block, pos), v = str(block, pos);
        out.push(n, v);
        size += n.length + v.length + 32;
      } else if ((c & 0xe0) === 0x20) int(block, pos, 5);
      else throw new HpackError(`unsupported representation 0x${c.toString(16)}`);
    }
    if (size > this.maxHeaderListSize) throw new HeaderListTooLarge("header list too large");
    return out;
  }
}

/** Encoder. */
export class HpackEncoder {
  constructor(readonly maxTableSize = 4096) {}
  setPeerMaxTableSize(_n: number): void {}
  encode(fields: readonly string[]): Uint8Array {
    const parts: number[] = [];
    const putInt = (v: number, bits: number, first: number) => {
      const mask = (1 << bits) - 1;
      if (v < mask) return void parts.push(first | v);
      parts.push(first | mask);
      v -= mask;
      while (v >= 128) {
        parts.push((v & 0x7f) | 0x80);
        v = Math.floor(v / 128);
      }
      parts.push(v);
    };
    for (let i = 0; i < fields.length; i++) {
      if (i % 2 === 0) parts.push(0);
      const b = enc.encode(fields[i]!);
      putInt(b.length, 7, 0);
      for (const x of b) parts.push(x);
    }
    return new Uint8Array(parts);
  }
}
