/**
 * A raw UTF-8 request target reaches the origin as the same UTF-8 bytes (`é` as C3 A9, not the one latin1 byte E9)
 * on every way a head is rebuilt on its way: a screened head (HTTP/1.0, a chunked upload), a `rewrite`, a hop-by-hop
 * field (the fast path then builds the head instead of sending the client's bytes), and a plain one for reference.
 * Through the real proxy, a raw client and a raw origin that keeps the bytes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startRawOrigin } from "../_support/raw_origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

const enc = new TextEncoder();

/** Sends `head` (the target's bytes as UTF-8) and reads the response's status line. */
async function send(port: number, head: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(enc.encode(head));
    const buf = new Uint8Array(4096);
    let text = "";
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
      if (text.includes("\r\n\r\n")) break;
    }
    return text.slice(0, text.indexOf("\r\n"));
  } finally {
    conn.close();
  }
}

Deno.test("a UTF-8 target reaches the origin as UTF-8 bytes, however the head is built", async () => {
  const origin = startRawOrigin();
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["moved", "main"]

[upstreams.main]
addrs = ["${origin.addr}"]

[locations.moved]
path = "/old"
upstream = "main"
rewrite = "^/old/(.*)$ /new/$1"

[locations.main]
upstream = "main"
`);
  try {
    const cases: [string, string, string][] = [
      ["fast path", "GET /é?q=é HTTP/1.1\r\nHost: h\r\n\r\n", "GET /\xc3\xa9?q=\xc3\xa9 HTTP/1.1"],
      ["hop-by-hop field", "GET /é HTTP/1.1\r\nHost: h\r\nKeep-Alive: timeout=5\r\n\r\n", "GET /\xc3\xa9 HTTP/1.1"],
      ["rewrite", "GET /old/é?q=é HTTP/1.1\r\nHost: h\r\n\r\n", "GET /new/\xc3\xa9?q=\xc3\xa9 HTTP/1.1"],
      ["screened: HTTP/1.0", "GET /é HTTP/1.0\r\nHost: h\r\n\r\n", "GET /\xc3\xa9 HTTP/1.1"],
      [
        "screened: a chunked upload",
        "POST /é HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        "POST /\xc3\xa9 HTTP/1.1",
      ],
      ["screened and rewritten", "GET /old/é HTTP/1.0\r\nHost: h\r\n\r\n", "GET /new/\xc3\xa9 HTTP/1.1"],
    ];
    for (const [name, head, line] of cases) {
      const before = origin.requests.length;
      assert.match(await send(proxy.port, head), /^HTTP\/1\.[01] 200 OK$/, name);
      assert.equal(origin.requests.length, before + 1, name);
      // `line` is one char per byte, as the origin keeps it.
      assert.equal(origin.requests[before]!.line, line, name);
    }
  } finally {
    await proxy.close();
    await origin.close();
  }
});
