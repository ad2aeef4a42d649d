/**
 * Writing a response (runtime/http/message.ts) on an HTTP/2 stream: `:status`, the fields in lower case without the
 * connection-specific ones, `date` when missing, `content-length` when the size is known; the body in DATA frames as
 * the windows and the client's SETTINGS_MAX_FRAME_SIZE allow; trailers as a last HEADERS frame. A small response
 * (HEADERS and DATA with END_STREAM) is made at once, with no promise, and goes out in the connection's next write.
 *
 * A gRPC answer (`content-type: application/grpc…`) with trailers waits for its first body chunk before the head goes
 * out: a trailers-only answer (status in the head, no body, no trailers) must stay one HEADERS frame with END_STREAM,
 * or clients read the empty trailers that follow as a missing status.
 *
 * @module
 */
import type { HttpResponse } from "../../http/message.ts";
import { INTERNAL_ERROR } from "./frames.ts";
import type { H2Connection } from "./connection.ts";
import type { H2Stream } from "./stream.ts";

const encoder = new TextEncoder();

let dateSecond = -1;
let dateValue = "";

/** The `date` value, made once a second. */
function date(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/** What the fields of a response said. */
interface Head {
  readonly list: string[];
  /** content-length given, or -1. */
  length: number;
  dated: boolean;
}

/** Adds one field unless it is connection-specific or framing; `name` in any case. */
function add(h: Head, name: string, value: string): void {
  let n = name;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      n = n.toLowerCase();
      break;
    }
  }
  switch (n.length) {
    case 2:
      if (n === "te") return;
      break;
    case 4:
      if (n === "date") h.dated = true;
      break;
    case 7:
      if (n === "upgrade" || n === "trailer") return;
      break;
    case 10:
      if (n === "connection" || n === "keep-alive") return;
      break;
    case 14:
      if (n === "content-length") {
        h.length = /^\d{1,15}$/.test(value) ? Number(value) : -1;
        return;
      }
      break;
    case 16:
      if (n === "proxy-connection") return;
      break;
    case 17:
      if (n === "transfer-encoding") return;
      break;
  }
  h.list.push(n, value);
}

/** The response's head fields (`:status` first); `length` from its content-length. */
function headOf(res: HttpResponse): Head {
  const h: Head = { list: [":status", String(res.status)], length: -1, dated: false };
  const fields = res.fields;
  if (fields !== undefined) { for (let i = 0; i < fields.length; i += 2) add(h, fields[i]!, fields[i + 1]!); }
  else {
    const headers = res.headers;
    headers.forEach((value, name) => name === "set-cookie" || add(h, name, value));
    for (const c of headers.getSetCookie()) h.list.push("set-cookie", c);
  }
  if (!h.dated) h.list.push("date", date());
  return h;
}

/** Trailers as fields, without pseudo-header or connection-specific ones. */
function trailerList(t: Headers): string[] {
  const h: Head = { list: [], length: -1, dated: true };
  t.forEach((value, name) => name === "content-length" || add(h, name, value));
  return h.list;
}

function isGrpc(list: readonly string[]): boolean {
  for (let i = 2; i < list.length; i += 2) {
    if (list[i] === "content-type") return list[i + 1]!.startsWith("application/grpc");
  }
  return false;
}

/**
 * Sends `res` on `s`.
 *
 * @returns Undefined when it went whole at once, else a promise that settles once it went or failed.
 */
export function sendResponse(conn: H2Connection, s: H2Stream, res: HttpResponse): Promise<void> | undefined {
  const status = res.status;
  const noBody = s.head || status === 204 || status === 304 || status < 200;
  let h: Head;
  try {
    h = headOf(res);
  } catch (error) {
    if (res.whole === undefined) res.body?.cancel().catch(() => {});
    throw error;
  }
  const whole = res.whole;
  if (s.closed) {
    if (whole === undefined) res.body?.cancel().catch(() => {});
    return;
  }
  if (noBody) {
    if (whole === undefined) res.body?.cancel().catch(() => {});
    const size = whole === undefined
      ? h.length
      : typeof whole === "string"
      ? encoder.encode(whole).byteLength
      : whole.byteLength;
    if (status !== 204 && status >= 200 && size >= 0) h.list.push("content-length", String(size));
    conn.send.headers(s, h.list, true);
    return;
  }
  const trailers = res.trailers;
  if (whole !== undefined) {
    const bytes = typeof whole === "string" ? encoder.encode(whole) : whole;
    h.list.push("content-length", String(bytes.byteLength));
    if (bytes.byteLength === 0 && trailers === undefined) {
      conn.send.headers(s, h.list, true);
      return;
    }
    conn.send.headers(s, h.list, false);
    const off = conn.send.data(s, bytes, 0, trailers === undefined);
    if (off === bytes.byteLength && trailers === undefined) return;
    return finishWhole(conn, s, bytes, off, trailers);
  }
  const body = res.body;
  if (body === null) {
    if (trailers === undefined) {
      if (status >= 200) h.list.push("content-length", "0");
      conn.send.headers(s, h.list, true);
      return;
    }
    return sendStreamed(conn, s, res, h, undefined, trailers);
  }
  if (h.length >= 0) h.list.push("content-length", String(h.length));
  return sendStreamed(conn, s, res, h, body.getReader(), trailers);
}

/** The rest of a whole body that the windows held, then the trailers. */
async function finishWhole(
  conn: H2Connection,
  s: H2Stream,
  bytes: Uint8Array,
  off: number,
  trailers: Promise<Headers> | undefined,
): Promise<void> {
  const end = trailers === undefined;
  while (off < bytes.byteLength && !s.closed) {
    if (conn.send.full) await conn.send.drained();
    else await conn.send.wait(s);
    off = conn.send.data(s, bytes, off, end);
  }
  if (!end && !s.closed) await sendTrailers(conn, s, trailers);
}

/** Sends `data` whole (waiting for windows and for the output to drain); `end` ends the stream with it. */
async function sendData(conn: H2Connection, s: H2Stream, data: Uint8Array, end: boolean): Promise<void> {
  let off = conn.send.data(s, data, 0, end);
  while (off < data.byteLength) {
    if (s.closed) throw new Deno.errors.Interrupted("The stream closed");
    await conn.send.wait(s);
    off = conn.send.data(s, data, off, end);
  }
  if (conn.send.full) await conn.send.drained();
}

/** The trailers once known: a HEADERS frame with END_STREAM, or an empty DATA with END_STREAM when there are none. */
async function sendTrailers(conn: H2Connection, s: H2Stream, trailers: Promise<Headers>): Promise<void> {
  let list: string[];
  try {
    list = trailerList(await trailers);
  } catch {
    conn.reset(s, INTERNAL_ERROR);
    return;
  }
  if (s.closed) return;
  if (list.length === 0) conn.send.data(s, EMPTY, 0, true);
  else conn.send.headers(s, list, true);
}

const EMPTY = new Uint8Array(0);

/** A body read from a stream, then the trailers. */
async function sendStreamed(
  conn: H2Connection,
  s: H2Stream,
  res: HttpResponse,
  h: Head,
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
  trailers: Promise<Headers> | undefined,
): Promise<void> {
  const giver = res.recycle === undefined ? undefined : res;
  const onAbort = () => reader?.cancel().catch(() => {});
  s.watch.addEventListener("abort", onAbort);
  let sent = 0;
  try {
    let first: ReadableStreamReadResult<Uint8Array> | undefined;
    if (trailers !== undefined && (reader === undefined || isGrpc(h.list))) {
      // A trailers-only gRPC answer must stay one HEADERS frame: the head waits for the first chunk.
      if (reader !== undefined) first = await reader.read();
      if (reader === undefined || first?.done) {
        const t = await trailers;
        if (s.closed) return;
        const list = trailerList(t);
        if (list.length === 0) {
          conn.send.headers(s, h.list, true);
          return;
        }
        conn.send.headers(s, h.list, false);
        conn.send.headers(s, list, true);
        return;
      }
    }
    if (s.closed) return;
    conn.send.headers(s, h.list, false);
    if (first !== undefined && !first.done && first.value.byteLength > 0) {
      await sendData(conn, s, first.value, false);
      giver?.recycle?.(first.value);
      sent += first.value.byteLength;
    }
    for (;;) {
      const r = await reader!.read();
      if (r.done) break;
      if (s.closed) return;
      if (r.value.byteLength === 0) continue;
      await sendData(conn, s, r.value, false);
      giver?.recycle?.(r.value);
      sent += r.value.byteLength;
    }
    if (s.closed) return;
    if (h.length >= 0 && sent !== h.length) {
      // The body did not match its content-length: the client must not take it as whole.
      conn.reset(s, INTERNAL_ERROR);
      return;
    }
    if (trailers === undefined) conn.send.data(s, EMPTY, 0, true);
    else await sendTrailers(conn, s, trailers);
  } catch {
    // The body failed midway (or the stream went): reset it.
    reader?.cancel().catch(() => {});
    conn.reset(s, INTERNAL_ERROR);
  } finally {
    s.watch.removeEventListener("abort", onAbort);
  }
}
