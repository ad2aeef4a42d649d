/**
 * The byte side of the gRPC-Web bridge (grpc/grpc doc/PROTOCOL-WEB.md), pure and socket-free: the trailer frame that
 * carries an HTTP/2 answer's trailers in the body (flag `0x80`, a 4-byte big-endian length, then `name:value\r\n`
 * lines, as Pingora's bridge writes them), and the base64 of `application/grpc-web-text` in both directions, chunk by
 * chunk: a request's text is decoded across any chunk boundary (padded segments one after the other included), an
 * answer's chunks are encoded each on its own, padded, so that no byte of a streamed message waits for the next one.
 *
 * @module
 */

/** The flag byte of a gRPC-Web trailer frame. */
export const TRAILER_FLAG = 0x80;

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/**
 * The gRPC-Web trailer frame holding `fields` (lower-case names).
 *
 * @example Usage
 * ```ts
 * import { trailerFrame } from "./grpc_web_codec.ts";
 * const frame = trailerFrame([["grpc-status", "0"]]);
 * if (frame[0] !== 0x80 || frame[4] !== 15) throw new Error();
 * ```
 *
 * @param fields Names and values, in order.
 * @returns The frame.
 */
export function trailerFrame(fields: Iterable<readonly [string, string]>): Uint8Array<ArrayBuffer> {
  let text = "";
  for (const [name, value] of fields) text += `${name}:${value}\r\n`;
  const block = encoder.encode(text);
  const frame = new Uint8Array(5 + block.byteLength);
  frame[0] = TRAILER_FLAG;
  new DataView(frame.buffer).setUint32(1, block.byteLength);
  frame.set(block, 5);
  return frame;
}

/** `bytes` as base64 text, padded, in ASCII bytes. */
export function base64Bytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return encoder.encode(bytes.toBase64());
}

/** Which bytes may appear in base64 text: 1 for the alphabet, 2 for `=`. */
const ALPHABET = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ALPHABET[c.charCodeAt(0)] = 1;
ALPHABET[61] = 2;

/**
 * Decodes base64 text that arrives in chunks cut anywhere. Quanta of 4 characters are decoded as soon as they are
 * whole; a quantum with `=` padding ends a segment and the next quantum starts a new one (a sender may encode each
 * message on its own). Anything outside the alphabet, misplaced padding or a dangling character is an error.
 */
export class Base64Decoder {
  /** Characters of an unfinished quantum (0 to 3). */
  #carry = new Uint8Array(4);
  #carried = 0;

  /**
   * Decodes what `chunk` completes.
   *
   * @param chunk Base64 text as bytes.
   * @returns The decoded bytes (possibly empty).
   * @throws {SyntaxError} When the text is not base64.
   */
  push(chunk: Uint8Array): Uint8Array {
    let text: Uint8Array;
    if (this.#carried === 0) text = chunk;
    else {
      text = new Uint8Array(this.#carried + chunk.byteLength);
      text.set(this.#carry.subarray(0, this.#carried));
      text.set(chunk, this.#carried);
    }
    const whole = text.byteLength - (text.byteLength & 3);
    this.#carried = text.byteLength - whole;
    this.#carry.set(text.subarray(whole));
    if (whole === 0) return new Uint8Array(0);
    return decodeQuanta(text.subarray(0, whole));
  }

  /**
   * Ends the text: 2 or 3 characters left without padding are decoded as the padded quantum they stand for.
   *
   * @returns The last bytes.
   * @throws {SyntaxError} When a single character is left, or it is not base64.
   */
  end(): Uint8Array {
    const n = this.#carried;
    this.#carried = 0;
    if (n === 0) return new Uint8Array(0);
    if (n === 1) throw new SyntaxError("Cannot decode base64: the text ends inside a quantum");
    const q = new Uint8Array(4).fill(61);
    q.set(this.#carry.subarray(0, n));
    return decodeQuanta(q);
  }
}

/** Decodes whole quanta (`text.byteLength` a multiple of 4), each padded one ending a segment. */
function decodeQuanta(text: Uint8Array): Uint8Array {
  let out: Uint8Array | undefined;
  let size = 0;
  let start = 0;
  // Validate and find the quanta that hold padding; decode the runs between them in one call each.
  for (let q = 0; q < text.byteLength; q += 4) {
    const a = ALPHABET[text[q]!]!,
      b = ALPHABET[text[q + 1]!]!,
      c = ALPHABET[text[q + 2]!]!,
      d = ALPHABET[text[q + 3]!]!;
    if (a !== 1 || b !== 1 || c === 0 || d === 0 || (c === 2 && d !== 2)) {
      throw new SyntaxError(`Cannot decode base64: invalid quantum at character ${q}`);
    }
    if (d === 1) continue;
    const run = Uint8Array.fromBase64(latin1.decode(text.subarray(start, q + 4)));
    out = append(out, size, run, text.byteLength);
    size += run.byteLength;
    start = q + 4;
  }
  if (start === 0) return Uint8Array.fromBase64(latin1.decode(text));
  if (start < text.byteLength) {
    const run = Uint8Array.fromBase64(latin1.decode(text.subarray(start)));
    out = append(out, size, run, text.byteLength);
    size += run.byteLength;
  }
  return out!.subarray(0, size);
}

/** Copies `run` into `out` at `size`, making `out` (room for what `textLength` characters decode to) on first use. */
function append(out: Uint8Array | undefined, size: number, run: Uint8Array, textLength: number): Uint8Array {
  const buf = out ?? new Uint8Array((textLength / 4) * 3);
  buf.set(run, size);
  return buf;
}
