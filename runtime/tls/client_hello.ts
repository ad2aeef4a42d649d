/**
 * Reads the ClientHello off the first bytes of a TLS connection, before the TLS server sees them (`ja4 = true`): the
 * handshake message may come in several records (RFC 8446 §5.1 lets a client split it), which are put back together.
 * Nothing here decides anything about the connection: the bytes go to the TLS server unchanged whatever this says.
 *
 * @module
 */

/** The largest ClientHello body read: a real one is a few KiB, even with post-quantum key shares. */
export const MAX_CLIENT_HELLO = 16 * 1024;

/**
 * Bytes of records read at most while looking for the end of a ClientHello: its body, its header, and room for the
 * record headers of a hello split in a few records. A peer that sends more without completing one is not fingerprinted.
 */
export const MAX_HELLO_BYTES = MAX_CLIENT_HELLO + 4 * 1024;

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
/** RFC 8446 §5.1: a plaintext record carries at most 2^14 bytes. */
const MAX_RECORD = 1 << 14;

/** The bytes so far begin a ClientHello; more are needed. */
export const HELLO_INCOMPLETE = "incomplete";
/** The bytes are not a TLS ClientHello (or one larger than {@linkcode MAX_CLIENT_HELLO}). */
export const HELLO_INVALID = "invalid";

/**
 * The ClientHello message body (after its 4-byte handshake header) in `buf` from `start`, put together from however
 * many handshake records carry it; {@linkcode HELLO_INCOMPLETE} while the bytes are a valid beginning;
 * {@linkcode HELLO_INVALID} as soon as they cannot be one.
 *
 * @example Usage
 * ```ts
 * import { HELLO_INCOMPLETE, readClientHello } from "./client_hello.ts";
 * // A record header announcing 6 bytes, and only 2 of them.
 * if (readClientHello(new Uint8Array([0x16, 3, 1, 0, 6, 1, 0]), 0) !== HELLO_INCOMPLETE) throw new Error();
 * ```
 */
export function readClientHello(
  buf: Uint8Array,
  start: number,
): Uint8Array | typeof HELLO_INCOMPLETE | typeof HELLO_INVALID {
  let message: Uint8Array | undefined;
  let got = 0;
  let want = -1;
  let at = start;
  while (buf.byteLength - at >= RECORD_HEADER) {
    if (buf[at] !== HANDSHAKE) return HELLO_INVALID;
    const len = (buf[at + 3]! << 8) | buf[at + 4]!;
    if (len === 0 || len > MAX_RECORD) return HELLO_INVALID;
    const from = at + RECORD_HEADER;
    // A hello in one record (the usual case) is read in place, with no copy.
    if (message === undefined && want === -1 && from + len <= buf.byteLength && len >= HANDSHAKE_HEADER) {
      if (buf[from] !== CLIENT_HELLO) return HELLO_INVALID;
      const size = (buf[from + 1]! << 16) | (buf[from + 2]! << 8) | buf[from + 3]!;
      if (size > MAX_CLIENT_HELLO) return HELLO_INVALID;
      if (HANDSHAKE_HEADER + size <= len) return buf.subarray(from + HANDSHAKE_HEADER, from + HANDSHAKE_HEADER + size);
    }
    if (from + len > buf.byteLength) return HELLO_INCOMPLETE;
    message ??= new Uint8Array(MAX_CLIENT_HELLO + HANDSHAKE_HEADER);
    const take = Math.min(len, message.byteLength - got);
    message.set(buf.subarray(from, from + take), got);
    got += take;
    at = from + len;
    if (want === -1 && got >= HANDSHAKE_HEADER) {
      if (message[0] !== CLIENT_HELLO) return HELLO_INVALID;
      const size = (message[1]! << 16) | (message[2]! << 8) | message[3]!;
      if (size > MAX_CLIENT_HELLO) return HELLO_INVALID;
      want = HANDSHAKE_HEADER + size;
    }
    if (want !== -1 && got >= want) return message.subarray(HANDSHAKE_HEADER, want);
  }
  return HELLO_INCOMPLETE;
}
