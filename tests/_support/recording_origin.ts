/**
 * A raw TCP origin that records every byte each connection sends it and parses them as HTTP/1.1 requests itself
 * (content-length and chunked bodies, keep-alive; the parser is tests/_support/request_parse.ts), so a test can
 * assert what an upstream really received: how many requests, which heads, which bodies — the origin never receives
 * two requests from one. Bytes that are not a request, or a body framed in a way a proxy may not send, close the
 * connection without an answer.
 *
 * @module
 */
import { bodyExtent, parseRequestHead, type RequestHead } from "./request_parse.ts";
import { startRawServer } from "./raw_server.ts";

/** One request as the origin parsed it from the bytes it received (latin-1 text, one char per byte). */
export interface ParsedRequest extends RequestHead {
  /** The body, de-chunked. */
  readonly body: string;
  /** Which accepted connection it came on (0, 1, …). */
  readonly conn: number;
}

/** What the origin does with a request: the bytes to answer (latin-1 text), `after` more bytes a little later, or
 * `null` to close the connection without answering. */
export type RecordingHandler = (req: ParsedRequest) => { answer: string; after?: string } | null;

/** A running recording origin. */
export interface RecordingOrigin {
  /** `127.0.0.1:<port>`. */
  readonly addr: string;
  /** Everything received, per accepted connection (latin-1). */
  readonly received: string[];
  /** The requests parsed from `received`, in arrival order. */
  readonly requests: ParsedRequest[];
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections open now. */
  open(): number;
  close(): Promise<void>;
}

/** An answer with `body` (200 unless `status` says otherwise). */
export function answer(body: string, status = 200): string {
  return `HTTP/1.1 ${status} OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
}

/**
 * Starts the origin. By default each request is answered 200 with its request line as the body.
 *
 * @param handler What to answer.
 */
export function startRecordingOrigin(
  handler: RecordingHandler = (req) => ({ answer: answer(req.line) }),
): RecordingOrigin {
  const received: string[] = [];
  const requests: ParsedRequest[] = [];
  const server = startRawServer(async (conn, index) => {
    received[index] = "";
    const buf = new Uint8Array(65536);
    let pending = "";
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return;
      let s = "";
      for (let i = 0; i < n; i++) s += String.fromCharCode(buf[i]!);
      received[index] += s;
      pending += s;
      for (;;) {
        const head = parseRequestHead(pending);
        if (head === "junk") return;
        if (head === "need") break;
        const extent = bodyExtent(pending, head.head.length, head.headers);
        if (extent === "bad") return;
        if (extent === "need") break;
        pending = pending.slice(extent.end);
        const req: ParsedRequest = { ...head, body: extent.body, conn: index };
        requests.push(req);
        const reply = handler(req);
        if (reply === null) return;
        await write(conn, reply.answer);
        if (reply.after !== undefined) {
          const after = reply.after;
          setTimeout(() => write(conn, after).catch(() => {}), 100);
        }
      }
    }
  });
  return {
    addr: server.addr,
    received,
    requests,
    accepted: server.accepted,
    open: server.open,
    close: server.close,
  };
}

async function write(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}
