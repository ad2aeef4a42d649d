/**
 * An origin on a raw TCP listener that keeps every request it reads as the bytes came (heads as latin1 text, one
 * char per byte) and answers each with `200 ok`. Bodies are read by their Content-Length or chunked framing.
 *
 * @module
 */

/** A request as the origin read it. */
export interface RawRequest {
  /** The head, one char per byte, final CRLFCRLF included. */
  readonly head: string;
  /** The request line, one char per byte. */
  readonly line: string;
  /** The body bytes as framed on the wire (chunked framing kept). */
  readonly body: string;
}

/** A running raw origin. */
export interface RawOrigin {
  /** `127.0.0.1:<port>`. */
  readonly addr: string;
  /** Requests read so far, in order. */
  readonly requests: RawRequest[];
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** Connections open now. */
  readonly open: () => number;
  close(): Promise<void>;
}

const latin1 = new TextDecoder("latin1");
const OK = new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");

/** Length of the chunked body at the start of `text`, or -1 when it has not all come yet. */
function chunkedLength(text: string): number {
  let i = 0;
  for (;;) {
    const eol = text.indexOf("\r\n", i);
    if (eol < 0) return -1;
    const size = parseInt(text.slice(i, eol).split(";")[0]!, 16);
    if (size === 0) {
      const end = text.indexOf("\r\n\r\n", eol);
      return end < 0 ? -1 : end + 4;
    }
    i = eol + 2 + size + 2;
    if (i > text.length) return -1;
  }
}

/** Starts one on a free port. */
export function startRawOrigin(): RawOrigin {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: RawRequest[] = [];
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  const serveConn = async (conn: Deno.Conn) => {
    conns.add(conn);
    const buf = new Uint8Array(65536);
    let text = "";
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        text += latin1.decode(buf.subarray(0, n));
        for (;;) {
          const end = text.indexOf("\r\n\r\n");
          if (end < 0) break;
          const head = text.slice(0, end + 4);
          const rest = text.slice(end + 4);
          const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          const bodyLength = /\r\ntransfer-encoding:[^\r]*chunked/i.test(head)
            ? chunkedLength(rest)
            : cl
            ? (rest.length >= Number(cl[1]) ? Number(cl[1]) : -1)
            : 0;
          if (bodyLength < 0) break;
          requests.push({ head, line: head.slice(0, head.indexOf("\r\n")), body: rest.slice(0, bodyLength) });
          text = rest.slice(bodyLength);
          await conn.write(OK);
        }
      }
    } catch {
      // closed
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const loop = (async () => {
    for await (const conn of listener) {
      accepted++;
      serveConn(conn);
    }
  })().catch(() => {});
  const addr = listener.addr as Deno.NetAddr;
  return {
    addr: `127.0.0.1:${addr.port}`,
    requests,
    accepted: () => accepted,
    open: () => conns.size,
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await loop;
    },
  };
}
