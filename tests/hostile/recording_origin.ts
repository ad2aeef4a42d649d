/**
 * The hostile corpus's origin: a raw TCP HTTP/1.1 server that records every
 * byte it receives, parses what it can into requests, tags each with the case
 * that sent it, and misbehaves when the request path says so
 * (`/c/<id>/fault/<kind>`). It answers normal requests with a small keep-alive
 * response carrying `x-case: <id>`, so a client can tell whose answer it got.
 *
 * A request whose path says `smuggled`, or bytes that do not parse as a
 * request, are recorded and the connection is closed without an answer (so a
 * smuggled request cannot poison a pooled connection for the other cases).
 *
 * @module
 */
import { bodyExtent, parseRequestHead } from "../_support/request_parse.ts";
import { startRawServer } from "../_support/raw_server.ts";
import { wsAccept } from "../_support/ws_raw.ts";

/** One request as the origin parsed it. */
export interface OriginRequest {
  /** The case id from `/c/<id>/` in the target or an `x-case` header; -1 when neither. */
  readonly caseId: number;
  /** The connection it came on (accept order). */
  readonly conn: number;
  readonly method: string;
  readonly target: string;
  /** The head as received, request line included. */
  readonly head: string;
  /** Lower-cased names, repeated ones joined by `, `. */
  readonly headers: Record<string, string>;
  /** The body as framed by Content-Length or chunked (de-chunked). */
  readonly body: string;
}

/** Bytes that did not parse as a request (a desynchronised stream). */
export interface OriginJunk {
  readonly caseId: number;
  readonly conn: number;
  readonly text: string;
}

/** A running recording origin. */
export interface RecordingOrigin {
  readonly port: number;
  readonly addr: string;
  readonly requests: OriginRequest[];
  readonly junk: OriginJunk[];
  /** Every byte received, per connection (latin1 text). */
  readonly received: string[];
  /** Connections currently open. */
  open(): number;
  /** What the origin saw for one case: its requests and junk. */
  forCase(id: number): { requests: OriginRequest[]; junk: OriginJunk[] };
  close(): Promise<void>;
}

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** The case id a piece of text names (`/c/<id>/` or `x-case: <id>`), or -1. */
export function caseIdIn(text: string): number {
  const m = /\/c\/(\d+)\//.exec(text) ?? /x-case:\s*(\d+)/i.exec(text);
  return m ? Number(m[1]) : -1;
}

function response(id: number, body: string, extra = ""): Uint8Array {
  return enc.encode(
    `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-case: ${id}\r\n${extra}content-length: ${body.length}\r\n\r\n${body}`,
  );
}

/**
 * Starts the origin on 127.0.0.1 and a free port.
 *
 * Faults (`/c/<id>/fault/<kind>`): `reset-head`, `reset-body-cl`,
 * `reset-body-chunked`, `stall-head`, `stall-body`, `garbage`, `bad-status`,
 * `bad-status-version`, `cl-te`, `two-cl`, `1xx-200`, `103-200`, `100-200`,
 * `longer-than-cl`, `shorter-then-close`, `extra-after`, `close-after`
 * (answers `connection: keep-alive` and closes silently), `no-answer-close`
 * (reads the request, closes without a byte), `big` (`?mb=N` of body),
 * `negative-cl`, `huge-header`, `many-headers`, `empty`, `http10-no-length`,
 * `ws-drop` (101 then drops the TCP connection), `ws-101-then-garbage`.
 */
export function startRecordingOrigin(): RecordingOrigin {
  const requests: OriginRequest[] = [];
  const junk: OriginJunk[] = [];
  const received: string[] = [];
  const closing = Promise.withResolvers<void>();
  /** A pause that ends early when the origin closes. */
  const sleep = (ms: number) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([new Promise<void>((r) => timer = setTimeout(r, ms)), closing.promise]).finally(() =>
      clearTimeout(timer)
    );
  };

  const serve = async (conn: Deno.Conn, index: number) => {
    received[index] = "";
    let buf = "";
    const chunk = new Uint8Array(64 * 1024);
    const write = async (b: Uint8Array | string) => {
      await conn.write(typeof b === "string" ? enc.encode(b) : b);
    };
    try {
      outer: for (;;) {
        const n = await conn.read(chunk);
        if (n === null) {
          if (buf.length > 0) junk.push({ caseId: caseIdIn(buf), conn: index, text: buf.slice(0, 2000) });
          return;
        }
        const text = latin1.decode(chunk.subarray(0, n));
        received[index] += text.length > 0 && received[index]!.length < 4_000_000 ? text : "";
        buf += text;
        for (;;) {
          const parsed = parseRequestHead(buf);
          if (parsed === "junk") {
            junk.push({ caseId: caseIdIn(buf), conn: index, text: buf.slice(0, 2000) });
            return;
          }
          if (parsed === "need") continue outer;
          const { head, headers, method, target } = parsed;
          const extent = bodyExtent(buf, head.length, headers);
          if (extent === "need") continue outer;
          const caseId = caseIdIn(target) >= 0 ? caseIdIn(target) : caseIdIn(head);
          if (extent === "bad") {
            requests.push({ caseId, conn: index, method, target, head, headers, body: "" });
            junk.push({ caseId, conn: index, text: buf.slice(0, 2000) });
            return;
          }
          buf = buf.slice(extent.end);
          requests.push({ caseId, conn: index, method, target, head, headers, body: extent.body });
          if (target.includes("smuggled")) return;
          const fault = /\/fault\/([a-z0-9-]+)/.exec(target)?.[1];
          if (!(await misbehave(fault, caseId, target, method, headers, extent.body, write))) return;
        }
      }
    } catch {
      // Reset by the peer or closed by close().
    }
  };

  /** Answers one request; false means close the connection now. */
  async function misbehave(
    fault: string | undefined,
    id: number,
    target: string,
    method: string,
    headers: Record<string, string>,
    body: string,
    write: (b: Uint8Array | string) => Promise<void>,
  ): Promise<boolean> {
    const ok = `ok ${id} ${method} ${body.length}`;
    const okHead = (n: number, extra = "") =>
      `HTTP/1.1 200 OK\r\nx-case: ${id}\r\n${extra}content-length: ${n}\r\n\r\n`;
    switch (fault) {
      case undefined:
        await write(method === "HEAD" ? okHead(ok.length) : response(id, ok));
        return true;
      case "reset-head":
        await write(`HTTP/1.1 200 OK\r\nx-case: ${id}\r\ncontent-le`);
        return false;
      case "reset-body-cl":
        await write(okHead(1000) + "x".repeat(300));
        return false;
      case "reset-body-chunked":
        await write(`HTTP/1.1 200 OK\r\nx-case: ${id}\r\ntransfer-encoding: chunked\r\n\r\n100\r\n${"y".repeat(100)}`);
        return false;
      case "stall-head":
        await write(`HTTP/1.1 200 OK\r\nx-case: ${id}\r\n`);
        await sleep(30_000);
        return false;
      case "stall-body":
        await write(okHead(1000) + "z".repeat(10));
        await sleep(30_000);
        return false;
      case "garbage":
        await write("\x00\x01\x02 this is not http \xff\xfe\r\n\r\n");
        return false;
      case "bad-status":
        await write(`HTTP/1.1 abc OK\r\ncontent-length: 2\r\n\r\nok`);
        return false;
      case "bad-status-version":
        await write(`HTTP/9.7 200 OK\r\ncontent-length: 2\r\n\r\nok`);
        return false;
      case "status-999":
        await write(`HTTP/1.1 999 Odd\r\nx-case: ${id}\r\ncontent-length: 2\r\n\r\nok`);
        return true;
      case "cl-te":
        // Both framings: the body is chunked; a proxy trusting Content-Length would stop short or read on.
        await write(
          `HTTP/1.1 200 OK\r\nx-case: ${id}\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
        );
        return false;
      case "two-cl":
        await write(`HTTP/1.1 200 OK\r\nx-case: ${id}\r\ncontent-length: 2\r\ncontent-length: 5\r\n\r\nhello`);
        return false;
      case "negative-cl":
        await write(`HTTP/1.1 200 OK\r\nx-case: ${id}\r\ncontent-length: -1\r\n\r\nhello`);
        return false;
      case "1xx-200":
        await write(`HTTP/1.1 102 Processing\r\n\r\n`);
        await write(response(id, ok));
        return true;
      case "103-200":
        await write(`HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n`);
        await write(response(id, ok));
        return true;
      case "100-200":
        await write(`HTTP/1.1 100 Continue\r\n\r\n`);
        await write(response(id, ok));
        return true;
      case "longer-than-cl":
        // Five bytes past the declared length: a proxy must not relay them, nor reuse the connection.
        await write(okHead(2) + `okSMUGGLED-RESPONSE`);
        return true;
      case "extra-after":
        // A whole second response nobody asked for, sent after the first: pooled, it would answer the next client.
        await write(response(id, ok));
        await sleep(50);
        await write(`HTTP/1.1 200 OK\r\nx-case: ${id}\r\nx-poison: yes\r\ncontent-length: 6\r\n\r\npoison`);
        return true;
      case "head-with-body":
        // A body after a HEAD answer (which has none): leftover bytes on the connection.
        await write(
          okHead(ok.length) +
            (method === "HEAD" ? `HTTP/1.1 200 OK\r\nx-poison: yes\r\ncontent-length: 6\r\n\r\npoison` : ok),
        );
        return true;
      case "shorter-then-close":
        await write(okHead(100) + "short");
        return false;
      case "close-after":
        // Says keep-alive, then closes: the proxy's next request on it finds it gone (a stale pooled connection).
        await write(response(id, ok, "connection: keep-alive\r\n"));
        return false;
      case "no-answer-close":
        return false;
      case "empty":
        return false;
      case "http10-no-length":
        await write(`HTTP/1.0 200 OK\r\nx-case: ${id}\r\n\r\nbody until close`);
        return false;
      case "big": {
        const mb = Number(/mb=(\d+)/.exec(target)?.[1] ?? "8");
        await write(okHead(mb * 1024 * 1024));
        const block = enc.encode("b".repeat(64 * 1024));
        for (let i = 0; i < mb * 16; i++) await write(block);
        return true;
      }
      case "huge-header":
        await write(
          `HTTP/1.1 200 OK\r\nx-case: ${id}\r\nx-huge: ${"h".repeat(1024 * 1024)}\r\ncontent-length: 2\r\n\r\nok`,
        );
        return false;
      case "many-headers": {
        let h = "";
        for (let i = 0; i < 2000; i++) h += `x-h${i}: ${i}\r\n`;
        await write(`HTTP/1.1 200 OK\r\nx-case: ${id}\r\n${h}content-length: 2\r\n\r\nok`);
        return true;
      }
      case "bare-lf":
        await write(`HTTP/1.1 200 OK\nx-case: ${id}\ncontent-length: 2\n\nok`);
        return false;
      case "nul-header":
        await write(`HTTP/1.1 200 OK\r\nx-case: ${id}\r\nx-bad: a\x00b\r\ncontent-length: 2\r\n\r\nok`);
        return false;
      case "ws-drop":
      case "ws-echo-then-garbage": {
        const key = headers["sec-websocket-key"] ?? "";
        await write(
          `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${await wsAccept(
            key,
          )}\r\n\r\n`,
        );
        await sleep(200);
        if (fault === "ws-echo-then-garbage") {
          // An unmasked text frame "hi", then a frame with a reserved opcode and a 2^63 length.
          await write(
            new Uint8Array([0x81, 0x02, 0x68, 0x69, 0x83, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
          );
          await sleep(200);
        }
        return false;
      }
      default:
        await write(response(id, `unknown fault ${fault}`));
        return true;
    }
  }

  const server = startRawServer(serve);
  return {
    port: server.port,
    addr: server.addr,
    requests,
    junk,
    received,
    open: server.open,
    forCase: (id) => ({
      requests: requests.filter((r) => r.caseId === id),
      junk: junk.filter((j) => j.caseId === id),
    }),
    async close() {
      closing.resolve();
      await server.close();
    },
  };
}
