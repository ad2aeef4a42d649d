/**
 * A raw TCP origin that records every byte each connection sends it and parses them as HTTP/1.1 requests itself
 * (content-length and chunked bodies, keep-alive), so a test can assert what an upstream really received: how many
 * requests, which heads, which bodies — the origin never receives two requests from one.
 *
 * @module
 */

/** One request as the origin parsed it from the bytes it received. */
export interface ParsedRequest {
  /** The request line, e.g. `GET / HTTP/1.1`, as latin-1 text (one char per byte). */
  readonly line: string;
  /** The head's field lines, as received (latin-1). */
  readonly head: string;
  /** The body (latin-1), de-chunked. */
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
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: string[] = [];
  const requests: ParsedRequest[] = [];
  const conns = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  const serve = async (conn: Deno.Conn, index: number) => {
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
        const parsed = parseRequest(pending, index);
        if (parsed === null) break;
        pending = pending.slice(parsed.used);
        requests.push(parsed.req);
        const reply = handler(parsed.req);
        if (reply === null) return;
        await write(conn, reply.answer);
        if (reply.after !== undefined) {
          const after = reply.after;
          setTimeout(() => write(conn, after).catch(() => {}), 100);
        }
      }
    }
  };
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        const index = received.length;
        received.push("");
        conns.add(conn);
        tasks.push(
          serve(conn, index).catch(() => {}).finally(() => {
            conns.delete(conn);
            try {
              conn.close();
            } catch {
              // closed
            }
          }),
        );
      }
    } catch {
      // listener closed
    }
  })();
  return {
    addr: `127.0.0.1:${listener.addr.port}`,
    received,
    requests,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      await loop;
      await Promise.all(tasks);
    },
  };
}

async function write(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** The first request in `s`, or null when it is not all there yet. */
function parseRequest(s: string, conn: number): { req: ParsedRequest; used: number } | null {
  const end = s.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = s.slice(0, end).split("\r\n");
  const line = lines[0]!;
  const head = lines.slice(1).join("\r\n");
  let length = 0;
  let chunked = false;
  for (const field of lines.slice(1)) {
    const colon = field.indexOf(":");
    const name = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1).trim().toLowerCase();
    if (name === "content-length") length = Number(value);
    if (name === "transfer-encoding" && value.includes("chunked")) chunked = true;
  }
  let at = end + 4;
  if (!chunked) {
    if (s.length < at + length) return null;
    return { req: { line, head, body: s.slice(at, at + length), conn }, used: at + length };
  }
  let body = "";
  for (;;) {
    const eol = s.indexOf("\r\n", at);
    if (eol < 0) return null;
    const size = parseInt(s.slice(at, eol), 16);
    if (size === 0) {
      const last = s.indexOf("\r\n", eol + 2);
      if (last < 0) return null;
      return { req: { line, head, body, conn }, used: last + 2 };
    }
    if (s.length < eol + 2 + size + 2) return null;
    body += s.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
