/**
 * The upstream's response head through the proxy, byte for byte (issue 6): an origin that writes exact heads (an
 * nginx-like one, a body without length, a streamed one, a chunked one, 304, latin1 bytes, fields not in the usual form)
 * behind the HTTP/1.1 front end, read by a raw client. A head in the usual form goes out as its bytes — the origin's
 * fields in their order and case, hop-by-hop ones and framing left out, then `date` when missing, `connection: close`
 * when closing and the front end's framing; any other head is rewritten from its fields, as before.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestProxy, type TestProxy } from "../_support/proxy.ts";
import { Client, dec, enc } from "../../runtime/listen/h1/_test_utils.ts";

const DATE = "Tue, 01 Jul 2025 10:00:00 GMT";
const NGINX_FIELDS = `Server: nginx/1.22.1\r\nDate: ${DATE}\r\nContent-Type: text/plain\r\n` +
  "Content-Length: 18\r\nLast-Modified: Mon, 30 Jun 2025 09:00:00 GMT\r\nConnection: keep-alive\r\n" +
  'ETag: "68625e50-12"\r\nSet-Cookie: a=1\r\nAccept-Ranges: bytes\r\n';
/** What the client gets of those: Content-Length and Connection left out, the rest as it was. */
const NGINX_KEPT = `Server: nginx/1.22.1\r\nDate: ${DATE}\r\nContent-Type: text/plain\r\n` +
  'Last-Modified: Mon, 30 Jun 2025 09:00:00 GMT\r\nETag: "68625e50-12"\r\nSet-Cookie: a=1\r\nAccept-Ranges: bytes\r\n';
const BIG = 100_000;

/** The origin's answer to `method path`, as bytes. */
function answer(method: string, path: string): Uint8Array {
  const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
  switch (path) {
    case "/nginx":
      return bytes(`HTTP/1.1 200 OK\r\n${NGINX_FIELDS}\r\n${method === "HEAD" ? "" : "hello from origin\n"}`);
    case "/until-close": // no length: the body runs until the origin closes
      return bytes(
        "HTTP/1.1 201 Created\r\nX-Upper: A\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\nx-lower: b\r\n" +
          "Keep-Alive: timeout=5\r\n\r\nhello world",
      );
    case "/big":
      return bytes(`HTTP/1.1 200 OK\r\nDate: ${DATE}\r\nContent-Length: ${BIG}\r\n\r\n${"z".repeat(BIG)}`);
    case "/chunked": // chunked, with a trailer field
      return bytes(
        `HTTP/1.1 200 OK\r\nDate: ${DATE}\r\nTransfer-Encoding: chunked\r\nX-After: 1\r\n\r\n` +
          "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
      );
    case "/304":
      return bytes('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n');
    case "/latin1":
      return bytes(`HTTP/1.1 200 Caf\xe9\r\nDate: ${DATE}\r\nX-Latin: caf\xe9\r\nContent-Length: 2\r\n\r\nok`);
    case "/odd":
      return bytes(`HTTP/1.0 200 OK\r\nDate: ${DATE}\r\nX-A:1\r\nSet-Cookie:  b=2 \r\nContent-Length: 2\r\n\r\nok`);
    default:
      return bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  }
}

/** An origin that reads request heads (no bodies) and writes `answer` for each, keeping connections open. */
function startScriptedOrigin(): { addr: string; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const serveConn = async (conn: Deno.Conn) => {
    let pending = "";
    const buf = new Uint8Array(16 * 1024);
    try {
      for (;;) {
        const end = pending.indexOf("\r\n\r\n");
        if (end >= 0) {
          const [method = "", path = ""] = pending.slice(0, pending.indexOf("\r\n")).split(" ");
          pending = pending.slice(end + 4);
          const out = answer(method, path);
          for (let w = 0; w < out.length;) w += await conn.write(out.subarray(w));
          if (path === "/until-close") break;
          continue;
        }
        const n = await conn.read(buf);
        if (n === null) break;
        pending += dec.decode(buf.subarray(0, n));
      }
    } catch {
      // Closed by close().
    }
    if (conns.delete(conn)) conn.close();
  };
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      serveConn(conn);
    }
  })().catch(() => {});
  return {
    addr: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    async close() {
      listener.close();
      for (const c of conns) c.close();
      conns.clear();
      await loop;
    },
  };
}

async function withProxy(fn: (proxy: TestProxy) => Promise<void>): Promise<void> {
  const origin = startScriptedOrigin();
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all"]

[upstreams.origin]
addrs = ["${origin.addr}"]

[locations.all]
upstream = "origin"
`);
    await fn(proxy);
  } finally {
    await proxy?.close();
    await origin.close();
  }
}

function request(method: string, path: string, extra = ""): string {
  return `${method} ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
}

const OUR_DATE = /^date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/;

Deno.test("response head: the upstream's head goes to the client as it came, framing and date added", async (t) => {
  await withProxy(async (proxy) => {
    const c = await Client.open({ transport: "tcp", hostname: "127.0.0.1", port: proxy.port });
    try {
      await t.step("an nginx head and its body", async () => {
        await c.send(request("GET", "/nginx"));
        const res = await c.response();
        assert.equal(res.head, `HTTP/1.1 200 OK\r\n${NGINX_KEPT}content-length: 18\r\n\r\n`);
        assert.equal(res.text, "hello from origin\n");
      });
      await t.step("HEAD: the same head, no body", async () => {
        await c.send(request("HEAD", "/nginx"));
        const res = await c.response({ head: true });
        assert.equal(res.head, `HTTP/1.1 200 OK\r\n${NGINX_KEPT}content-length: 18\r\n\r\n`);
      });
      await t.step("no length: hop-by-hop and named fields left out, our date, chunked", async () => {
        await c.send(request("GET", "/until-close"));
        const res = await c.response();
        const [first, rest] = [
          res.head.slice(0, res.head.indexOf("date: ")),
          res.head.slice(res.head.indexOf("date: ")),
        ];
        assert.equal(first, "HTTP/1.1 201 Created\r\nX-Upper: A\r\nx-lower: b\r\n");
        assert.match(rest, OUR_DATE);
        assert.equal(rest.replace(OUR_DATE, ""), "transfer-encoding: chunked\r\n\r\n");
        assert.equal(res.text, "hello world");
      });
      await t.step("a streamed body with its length", async () => {
        await c.send(request("GET", "/big"));
        const res = await c.response();
        assert.equal(res.head, `HTTP/1.1 200 OK\r\nDate: ${DATE}\r\ncontent-length: ${BIG}\r\n\r\n`);
        assert.equal(res.text, "z".repeat(BIG));
      });
      await t.step("chunked: passed through as it came (fields, body), rechunked, its trailer left out", async () => {
        await c.send(request("GET", "/chunked"));
        const res = await c.response();
        assert.equal(res.head, `HTTP/1.1 200 OK\r\nDate: ${DATE}\r\nX-After: 1\r\ntransfer-encoding: chunked\r\n\r\n`);
        assert.equal(res.text, "hello world");
        // The connection still serves.
        await c.send(request("GET", "/nginx"));
        assert.equal((await c.response()).text, "hello from origin\n");
      });
      await t.step("304: no framing", async () => {
        await c.send(request("GET", "/304"));
        const res = await c.response();
        assert.equal(res.head.slice(0, 36), 'HTTP/1.1 304 Not Modified\r\nETag: "x"');
        assert.equal(res.head.slice(38).replace(OUR_DATE, ""), "\r\n");
      });
      await t.step("a head not in the usual form is rewritten from its fields", async () => {
        await c.send(request("GET", "/odd"));
        const res = await c.response();
        assert.equal(
          res.head,
          `HTTP/1.1 200 OK\r\nDate: ${DATE}\r\nX-A: 1\r\nset-cookie: b=2\r\ncontent-length: 2\r\n\r\n`,
        );
        assert.equal(res.text, "ok");
      });
      await t.step("latin1 bytes as they came, and connection: close when the client asks", async () => {
        await c.send(request("GET", "/latin1", "Connection: close\r\n"));
        const raw = await c.rest();
        const text = String.fromCharCode(...raw);
        assert.equal(
          text,
          `HTTP/1.1 200 Caf\xe9\r\nDate: ${DATE}\r\nX-Latin: caf\xe9\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok`,
        );
        assert.equal(enc.encode(text).length > raw.length, true, "bytes over 0x7f were not re-encoded");
      });
    } finally {
      c.close();
    }
  });
});
