/**
 * HTTP/2 framing (RFC 9113 §4, §6, §7): frame types, flags, error codes, settings, the 9-byte frame header, and the
 * errors a connection raises: a {@linkcode ConnectionError} ends the connection with GOAWAY, a {@linkcode StreamError}
 * resets one stream with RST_STREAM. Every fault of a peer becomes one of the two.
 *
 * @module
 */

/** Frame types (RFC 9113 §6). */
export const DATA = 0x0,
  HEADERS = 0x1,
  PRIORITY = 0x2,
  RST_STREAM = 0x3,
  SETTINGS = 0x4,
  PUSH_PROMISE = 0x5,
  PING = 0x6,
  GOAWAY = 0x7,
  WINDOW_UPDATE = 0x8,
  CONTINUATION = 0x9;

/** Flags. */
export const END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY_FLAG = 0x20;

/** Error codes (RFC 9113 §7). */
export const NO_ERROR = 0x0,
  PROTOCOL_ERROR = 0x1,
  INTERNAL_ERROR = 0x2,
  FLOW_CONTROL_ERROR = 0x3,
  SETTINGS_TIMEOUT = 0x4,
  STREAM_CLOSED = 0x5,
  FRAME_SIZE_ERROR = 0x6,
  REFUSED_STREAM = 0x7,
  CANCEL = 0x8,
  COMPRESSION_ERROR = 0x9,
  CONNECT_ERROR = 0xa,
  ENHANCE_YOUR_CALM = 0xb,
  INADEQUATE_SECURITY = 0xc,
  HTTP_1_1_REQUIRED = 0xd;

/** Settings identifiers (RFC 9113 §6.5.2). */
export const SETTINGS_HEADER_TABLE_SIZE = 0x1,
  SETTINGS_ENABLE_PUSH = 0x2,
  SETTINGS_MAX_CONCURRENT_STREAMS = 0x3,
  SETTINGS_INITIAL_WINDOW_SIZE = 0x4,
  SETTINGS_MAX_FRAME_SIZE = 0x5,
  SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

/** The frame header's length. */
export const FRAME_HEADER = 9;
/** The smallest (and default) SETTINGS_MAX_FRAME_SIZE. */
export const DEFAULT_MAX_FRAME = 16384;
/** The largest SETTINGS_MAX_FRAME_SIZE. */
export const MAX_MAX_FRAME = 16777215;
/** The default initial window (stream and connection). */
export const DEFAULT_WINDOW = 65535;
/** The largest window. */
export const MAX_WINDOW = 2 ** 31 - 1;

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** A fault that ends the connection: GOAWAY with {@linkcode code}. */
export class ConnectionError extends Error {
  /**
   * @param code The error code of the GOAWAY.
   * @param message What went wrong (the GOAWAY's debug data and the log).
   */
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** A fault of one stream: RST_STREAM with {@linkcode code}; the connection goes on. */
export class StreamError extends Error {
  /**
   * @param id The stream.
   * @param code The error code of the RST_STREAM.
   * @param message What went wrong (for the log).
   */
  constructor(readonly id: number, readonly code: number, message: string) {
    super(message);
  }
}

/** A frame header read from bytes. */
export interface FrameHeader {
  length: number;
  type: number;
  flags: number;
  stream: number;
}

/**
 * Where the content of a DATA or HEADERS frame whose payload is at `p` of `b` ends, its padding left out (§6.1): the
 * content starts at `p + 1` when the frame is PADDED, else at `p`.
 *
 * @throws {ConnectionError} A padded frame with no pad length, or padding longer than the frame.
 */
export function unpaddedEnd(h: FrameHeader, b: Uint8Array, p: number): number {
  if ((h.flags & PADDED) === 0) return p + h.length;
  if (h.length < 1) throw new ConnectionError(FRAME_SIZE_ERROR, "a padded frame without its pad length");
  const end = p + h.length - b[p]!;
  if (end < p + 1) throw new ConnectionError(PROTOCOL_ERROR, "padding longer than the frame");
  return end;
}

/** Reads the frame header at `off` of `b` into `h` (at least 9 bytes must be there). */
export function readFrameHeader(b: Uint8Array, off: number, h: FrameHeader): void {
  h.length = (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
  h.type = b[off + 3]!;
  h.flags = b[off + 4]!;
  h.stream = readUint31(b, off + 5);
}

/** The 31-bit value at `off` (the reserved bit dropped). */
export function readUint31(b: Uint8Array, off: number): number {
  return ((b[off]! & 0x7f) * 0x1000000) + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
}

/** The 32-bit value at `off`. */
export function readUint32(b: Uint8Array, off: number): number {
  return (b[off]! * 0x1000000) + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
}

/** Writes a frame header at `off` of `b`; returns the offset after it. */
export function writeFrameHeader(
  b: Uint8Array,
  off: number,
  length: number,
  type: number,
  flags: number,
  stream: number,
): number {
  b[off] = length >>> 16;
  b[off + 1] = (length >>> 8) & 0xff;
  b[off + 2] = length & 0xff;
  b[off + 3] = type;
  b[off + 4] = flags;
  writeUint32(b, off + 5, stream);
  return off + FRAME_HEADER;
}

/** Writes a 32-bit value at `off`. */
export function writeUint32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** A whole frame as bytes (for tests and rare frames). */
export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER + payload.byteLength);
  writeFrameHeader(out, 0, payload.byteLength, type, flags, stream);
  out.set(payload, FRAME_HEADER);
  return out;
}

/** A SETTINGS payload from `[id, value, …]`. */
export function settingsPayload(pairs: readonly number[]): Uint8Array {
  const out = new Uint8Array(pairs.length * 3);
  for (let i = 0, o = 0; i < pairs.length; i += 2, o += 6) {
    out[o] = pairs[i]! >>> 8;
    out[o + 1] = pairs[i]! & 0xff;
    writeUint32(out, o + 2, pairs[i + 1]!);
  }
  return out;
}

/** A GOAWAY payload. */
export function goawayPayload(lastStream: number, code: number, debug = ""): Uint8Array {
  const text = new TextEncoder().encode(debug);
  const out = new Uint8Array(8 + text.byteLength);
  writeUint32(out, 0, lastStream);
  writeUint32(out, 4, code);
  out.set(text, 8);
  return out;
}

/** A 4-byte payload (RST_STREAM's code, WINDOW_UPDATE's increment). */
export function uint32Payload(v: number): Uint8Array {
  const out = new Uint8Array(4);
  writeUint32(out, 0, v);
  return out;
}

const TYPE_NAMES = [
  "DATA",
  "HEADERS",
  "PRIORITY",
  "RST_STREAM",
  "SETTINGS",
  "PUSH_PROMISE",
  "PING",
  "GOAWAY",
  "WINDOW_UPDATE",
  "CONTINUATION",
];

/**
 * Checks the rules of §6 a frame header alone can break: the frames that must be on a stream (DATA, HEADERS,
 * PRIORITY, RST_STREAM, CONTINUATION) or on stream 0 (SETTINGS, PING, GOAWAY), the fixed sizes of PING (8),
 * RST_STREAM and WINDOW_UPDATE (4), GOAWAY (at least 8), and PUSH_PROMISE, which a client never sends.
 *
 * @throws {ConnectionError} PROTOCOL_ERROR or FRAME_SIZE_ERROR.
 */
export function checkFrame(h: FrameHeader): void {
  const t = h.type;
  if (t > CONTINUATION) return;
  const name = TYPE_NAMES[t]!;
  if (t === PUSH_PROMISE) throw new ConnectionError(PROTOCOL_ERROR, "PUSH_PROMISE from a client");
  const onZero = t === SETTINGS || t === PING || t === GOAWAY;
  if (onZero !== (h.stream === 0) && t !== WINDOW_UPDATE) {
    throw new ConnectionError(PROTOCOL_ERROR, onZero ? `${name} on a stream` : `${name} on stream 0`);
  }
  const size = t === PING ? 8 : t === RST_STREAM || t === WINDOW_UPDATE ? 4 : -1;
  if ((size >= 0 && h.length !== size) || (t === GOAWAY && h.length < 8)) {
    throw new ConnectionError(FRAME_SIZE_ERROR, `${name} of ${h.length} bytes`);
  }
}

/** The name of an error code, for logs. */
export function errorName(code: number): string {
  return [
    "NO_ERROR",
    "PROTOCOL_ERROR",
    "INTERNAL_ERROR",
    "FLOW_CONTROL_ERROR",
    "SETTINGS_TIMEOUT",
    "STREAM_CLOSED",
    "FRAME_SIZE_ERROR",
    "REFUSED_STREAM",
    "CANCEL",
    "COMPRESSION_ERROR",
    "CONNECT_ERROR",
    "ENHANCE_YOUR_CALM",
    "INADEQUATE_SECURITY",
    "HTTP_1_1_REQUIRED",
  ][code] ?? `0x${code.toString(16)}`;
}
