/**
 * Writing a response (runtime/http/message.ts) on an HTTP/1.1 connection: status line, the response's fields (hop-by-hop ones dropped),
 * `date` when missing, and framing — `content-length` for a body whose size is known (a whole body, or the
 * upstream's `content-length`), chunked otherwise. A small response goes out in one write, head and body together.
 *
 * @module
 */
import { utf8Length } from "../../http/response_build.ts";
import type { HttpResponse, RawResponseHead } from "../../http/message.ts";
import { asksClose } from "../../http/h1_codec.ts";
import { BufferPool } from "../../http/buffer_pool.ts";
import { chunkSizeText, LAST_CHUNK_TEXT } from "../../http/h1_chunked.ts";
import { reasonPhrase } from "./reasons.ts";
import type { ByteStream } from "../byte_stream.ts";

export { reasonPhrase } from "./reasons.ts";

const encoder = new TextEncoder();

let dateSecond = -1;
let dateLine = "";
/** `dateLine` as bytes (ASCII: one byte a character; 37 until the year 10000). */
let dateBytes = new Uint8Array(37);
/** Room a head keeps for the date. */
const DATE_ROOM = 64;

/** `date: …\r\n`, made once a second. */
function dateField(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateLine = `date: ${new Date(now).toUTCString()}\r\n`;
    if (dateBytes.byteLength !== dateLine.length) dateBytes = new Uint8Array(dateLine.length);
    for (let i = 0; i < dateLine.length; i++) dateBytes[i] = dateLine.charCodeAt(i);
  }
  return dateLine;
}

/** Puts the `date` field at `off` in `buf`; returns the offset after it. */
function putDate(buf: Uint8Array, off: number): number {
  dateField();
  buf.set(dateBytes, off);
  return off + dateBytes.byteLength;
}

/** Output buffers not in use, shared by all connections (an idle connection holds none). A write larger than one
 * (a large body) is not copied: it goes out as it is, after its head. */
const SMALL = 16 * 1024;
const spare = new BufferPool([SMALL], 256);

/** A connection's output: a buffer to build a write in (taken from the shared spares) and the write loop. */
export class Output {
  #held: Uint8Array<ArrayBuffer> | undefined;
  /** The clock's tick when the write in progress began, -1 when none is (for the write time limit). */
  writeTick = -1;

  /**
   * @param conn The connection.
   * @param clock A coarse clock (the listener's sweeps).
   */
  constructor(readonly conn: ByteStream, readonly clock: { readonly tick: number }) {}

  /** A buffer of at least `n` bytes, held until the next {@linkcode write} ends. */
  room(n: number): Uint8Array {
    const held = this.#held;
    if (held !== undefined && held.byteLength >= n) return held;
    const buf = spare.take(n) ?? new Uint8Array(n);
    this.#held = buf;
    return buf;
  }

  /** Writes `bytes` whole, then gives back the buffer {@linkcode room} lent. */
  async write(bytes: Uint8Array): Promise<void> {
    this.writeTick = this.clock.tick;
    try {
      let w = 0;
      while (w < bytes.byteLength) w += await this.conn.write(w === 0 ? bytes : bytes.subarray(w));
    } finally {
      this.writeTick = -1;
      const held = this.#held;
      if (held !== undefined) {
        this.#held = undefined;
        spare.give(held);
      }
    }
  }
}

/**
 * How a response went out: `keep` complete, the connection serves the next request; `close` complete, but the
 * connection must close (asked, or the body ran longer than announced); `broken` the body failed midway, the
 * connection must be cut.
 */
export type Sent = "keep" | "close" | "broken";

/** The head so far and what the fields said. */
interface HeadState {
  text: string;
  /** content-length given, or -1. */
  length: number;
  dated: boolean;
  close: boolean;
}

/** Adds one field to the head, unless it is about framing or the connection (`name` in any case). */
function addField(h: HeadState, name: string, value: string): void {
  const n = name.length;
  if (n === 4 || n === 10 || n === 14 || n === 17) {
    switch (name.toLowerCase()) {
      case "connection":
        if (asksClose(value)) h.close = true;
        return;
      case "keep-alive":
      case "transfer-encoding":
        return;
      case "content-length":
        h.length = /^\d{1,15}$/.test(value) ? Number(value) : -1;
        return;
      case "date":
        h.dated = true;
    }
  }
  h.text += `${name}: ${value}\r\n`;
}

/**
 * Writes `res`: its head as bytes when it has them (an upstream's answer as it came), else its raw fields in their
 * order and case, else its `Headers`.
 *
 * @param out The connection's output.
 * @param res The response.
 * @param head Whether the request was HEAD (no body is sent).
 * @param close Whether to close after it (the client asked, or the request body was not read to its end).
 * @param http10 The request was HTTP/1.0: a body of unknown length is not chunked but ends with the connection.
 * @returns How it went out (not an async function: one promise fewer per response).
 */
export function writeResponse(
  out: Output,
  res: HttpResponse,
  head: boolean,
  close: boolean,
  http10 = false,
): Promise<Sent> {
  const status = res.status;
  // An upstream's head in the usual form goes out as its bytes: status line and forwarded lines copied.
  const raw = res.rawHead;
  let s: string;
  let length: number;
  if (raw !== undefined) {
    // The date (when the upstream sent none) goes in as bytes with the raw head (see putHead).
    s = "";
    length = raw.contentLength;
  } else {
    const h: HeadState = {
      text: `HTTP/1.1 ${status} ${res.statusText || reasonPhrase(status)}\r\n`,
      length: -1,
      dated: false,
      close,
    };
    const fields = res.fields;
    if (fields !== undefined) { for (let i = 0; i < fields.length; i += 2) addField(h, fields[i]!, fields[i + 1]!); }
    else res.headers.forEach((value, name) => addField(h, name, value));
    s = h.dated ? h.text : h.text + dateField();
    close = h.close;
    length = h.length;
  }
  if (http10 && !close) {
    // An HTTP/1.0 client keeps no connection it did not ask to keep (and the front end never keeps one).
    close = true;
  }
  if (close) s += "connection: close\r\n";
  const whole = res.whole;
  const noBody = status < 200 || status === 204 || status === 304;
  if (noBody || head) {
    if (whole === undefined) res.body?.cancel().catch(() => {});
    const size = whole === undefined ? length : typeof whole === "string" ? utf8Length(whole) : whole.byteLength;
    if (status !== 204 && status >= 200 && size >= 0) s += `content-length: ${size}\r\n`;
    return writeWhole(out, { raw, text: `${s}\r\n` }, undefined, close);
  }
  if (typeof whole === "string") {
    // Head and text in one encodeInto (encode() alone costs ~1 µs).
    const text = `${s}content-length: ${utf8Length(whole)}\r\n\r\n${whole}`;
    return writeWhole(out, { raw, text }, undefined, close);
  }
  if (whole !== undefined) {
    return writeWhole(out, { raw, text: `${s}content-length: ${whole.byteLength}\r\n\r\n` }, whole, close);
  }
  const body = res.body;
  if (body === null) return writeWhole(out, { raw, text: `${s}content-length: 0\r\n\r\n` }, undefined, close);
  // A body read here alone: each chunk of a lent buffer is given back once written (see HttpResponse.recycle).
  const giver = res.recycle === undefined ? undefined : res;
  if (length >= 0) return writeSized(out, { raw, text: s }, body, length, close, giver);
  return http10
    ? writeUntilClose(out, { raw, text: s }, body, giver)
    : writeChunked(out, { raw, text: s }, body, close, giver);
}

/** A body of unknown length to an HTTP/1.0 client: its bytes as they come, ended by closing the connection. */
async function writeUntilClose(
  out: Output,
  head: Head,
  body: ReadableStream<Uint8Array>,
  giver: HttpResponse | undefined,
): Promise<Sent> {
  const reader = body.getReader();
  try {
    await writeWhole(out, { raw: head.raw, text: `${head.text}\r\n` }, undefined, true);
    for (;;) {
      const r = await reader.read();
      if (r.done) return "close";
      if (r.value.byteLength === 0) continue;
      await out.write(r.value);
      giver?.recycle?.(r.value);
    }
  } catch {
    reader.cancel().catch(() => {});
    return "broken";
  }
}

/**
 * A head to write: an upstream's raw head (`HTTP/1.1`, its ranges, and `date` when it has none) when there is one, then
 * `text`.
 */
interface Head {
  readonly raw: RawResponseHead | undefined;
  readonly text: string;
}

const HTTP11 = encoder.encode("HTTP/1.1");

/** The most bytes `head` takes (a UTF-16 unit takes at most 3 bytes in UTF-8). */
function headRoom(head: Head): number {
  const raw = head.raw;
  return (raw === undefined ? 0 : raw.size + (raw.dated ? 0 : DATE_ROOM)) + head.text.length * 3;
}

/** Puts `head` at the start of `buf`; returns the bytes it took. */
function putHead(head: Head, buf: Uint8Array): number {
  const raw = head.raw;
  if (raw === undefined) return putText(head.text, buf, 0);
  buf.set(HTTP11);
  let off = 8;
  const { bytes, ranges } = raw;
  for (let i = 0; i < ranges.length; i += 2) {
    const start = ranges[i]!;
    const end = ranges[i + 1]!;
    buf.set(bytes.subarray(start, end), off);
    off += end - start;
  }
  if (!raw.dated) off = putDate(buf, off);
  return putText(head.text, buf, off);
}

/**
 * Puts `text` into `buf` at `off` as UTF-8; returns the offset after it. Short ASCII text (the fields a head adds) is
 * copied in a loop: cheaper than a call into the encoder.
 */
function putText(text: string, buf: Uint8Array, off: number): number {
  const n = text.length;
  if (n <= 128) {
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      buf[off + i] = c;
    }
    if (i === n) return off + n;
  }
  return off + encoder.encodeInto(text, buf.subarray(off)).written;
}

/** Head and body in one write. */
async function writeWhole(out: Output, head: Head, body: Uint8Array | undefined, close: boolean): Promise<Sent> {
  const size = headRoom(head) + (body?.byteLength ?? 0);
  if (size > SMALL && body !== undefined) {
    // A large body goes in its own write: copying it behind the head needs a buffer as large (allocated and zeroed
    // when the spares are out, ~30 µs for 320 KiB), which costs more than the second write.
    const buf = out.room(headRoom(head));
    await out.write(buf.subarray(0, putHead(head, buf)));
    await out.write(body);
    return close ? "close" : "keep";
  }
  const buf = out.room(size);
  const written = putHead(head, buf);
  if (body) buf.set(body, written);
  await out.write(buf.subarray(0, written + (body?.byteLength ?? 0)));
  return close ? "close" : "keep";
}

/** A body of known length: the head goes with the first chunk; a body that ends short or runs long breaks. */
async function writeSized(
  out: Output,
  head: Head,
  body: ReadableStream<Uint8Array>,
  length: number,
  close: boolean,
  giver: HttpResponse | undefined,
): Promise<Sent> {
  const reader = body.getReader();
  let left = length;
  try {
    let r = await reader.read();
    const first = r.done ? undefined : r.value.byteLength <= left ? r.value : r.value.subarray(0, left);
    await writeWhole(out, { raw: head.raw, text: `${head.text}content-length: ${length}\r\n\r\n` }, first, false);
    if (!r.done) giver?.recycle?.(r.value);
    left -= first?.byteLength ?? 0;
    while (left > 0 && !r.done) {
      r = await reader.read();
      if (r.done) break;
      const chunk = r.value.byteLength <= left ? r.value : r.value.subarray(0, left);
      await out.write(chunk);
      giver?.recycle?.(r.value);
      left -= chunk.byteLength;
    }
    if (left > 0) return "broken";
    // The announced length went out: the body must end now (empty chunks aside).
    while (!r.done) {
      r = await reader.read();
      if (!r.done && r.value.byteLength > 0) {
        // More than announced: what was announced went out; the rest is dropped with the connection.
        reader.cancel().catch(() => {});
        return "close";
      }
    }
    return close ? "close" : "keep";
  } catch {
    reader.cancel().catch(() => {});
    return "broken";
  }
}

/** A body of unknown length, chunked; each chunk in one write with its framing. */
async function writeChunked(
  out: Output,
  head: Head,
  body: ReadableStream<Uint8Array>,
  close: boolean,
  giver: HttpResponse | undefined,
): Promise<Sent> {
  const reader = body.getReader();
  // The head goes with the first chunk (`raw` until then), each chunk's closing CRLF with the next.
  let raw = head.raw;
  let prefix = `${head.text}transfer-encoding: chunked\r\n\r\n`;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      const n = r.value.byteLength;
      if (n === 0) continue;
      const frame: Head = { raw, text: prefix + chunkSizeText(n) };
      raw = undefined;
      if (headRoom(frame) + n + 2 > SMALL) {
        // A large chunk goes in its own write (see writeWhole); its closing CRLF goes with the next write.
        const buf = out.room(headRoom(frame));
        await out.write(buf.subarray(0, putHead(frame, buf)));
        await out.write(r.value);
        giver?.recycle?.(r.value);
        prefix = "\r\n";
        continue;
      }
      const buf = out.room(headRoom(frame) + n + 2);
      const written = putHead(frame, buf);
      buf.set(r.value, written);
      giver?.recycle?.(r.value);
      buf[written + n] = 13;
      buf[written + n + 1] = 10;
      await out.write(buf.subarray(0, written + n + 2));
      prefix = "";
    }
    return await writeWhole(out, { raw, text: prefix + LAST_CHUNK_TEXT }, undefined, close);
  } catch {
    reader.cancel().catch(() => {});
    return "broken";
  }
}
