/**
 * The client's request head as the upstream receives it through the HTTP/1.1 front end: sent byte for byte when
 * nothing changes it (field-name case and order kept), rebuilt when the path is rewritten, a header is set, or the
 * head holds a hop-by-hop field (which is then left out).
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestProxy, type TestProxy } from "../_support/proxy.ts";

/** An origin that answers every request and keeps each request head it read, as text. */
function startRecordingOrigin(): { addr: string; heads: string[]; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const heads: string[] = [];
  const conns = new Set<Deno.Conn>();
  const serveConn = async (conn: Deno.Conn) => {
    conns.add(conn);
    const buf = new Uint8Array(16384);
    let text = "";
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        text += new TextDecoder().decode(buf.subarray(0, n));
        let end: number;
        while ((end = text.indexOf("\r\n\r\n")) >= 0) {
          heads.push(text.slice(0, end + 4));
          text = text.slice(end + 4);
          await conn.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
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
    for await (const conn of listener) serveConn(conn);
  })().catch(() => {});
  const addr = listener.addr as Deno.NetAddr;
  return {
    addr: `127.0.0.1:${addr.port}`,
    heads,
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await loop;
    },
  };
}

Deno.test("front end: the upstream gets the client's head as it came, or rebuilt when something changes it", async () => {
  const origin = startRecordingOrigin();
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["rewritten", "set", "plain"]

[upstreams.main]
addrs = ["${origin.addr}"]

[locations.rewritten]
path = "/old/"
rewrite = "^/old/(.*)$ /new/$1"
upstream = "main"

[locations.set]
path = "/set"
upstream = "main"
proxy_set_headers = ["X-Set:yes"]

[locations.plain]
path = "/"
upstream = "main"
`);
    // One keep-alive connection for every request (a `connection: close` would be hop-by-hop itself).
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
    const buf = new Uint8Array(4096);
    const send = async (head: string) => {
      const before = origin.heads.length;
      await conn.write(new TextEncoder().encode(head));
      let got = "";
      while (!got.endsWith("\r\n\r\nok")) {
        const n = await conn.read(buf);
        assert.ok(n !== null, `the proxy answered: ${got}`);
        got += new TextDecoder().decode(buf.subarray(0, n));
      }
      assert.match(got, /^HTTP\/1\.1 200 /);
      assert.equal(origin.heads.length, before + 1, "the origin got one request");
      return origin.heads[before]!;
    };
    // Unchanged: byte for byte, the field names' case and order included.
    const plain = "GET /plain?a=1&b=2 HTTP/1.1\r\nHost: example.test\r\nX-Mixed-Case: Value\r\nAccept: */*\r\n\r\n";
    assert.equal(await send(plain), plain);
    // Many on one connection: the close watch reads behind each head until the buffer is used up, then starts over.
    for (let i = 0; i < 60; i++) {
      const head = `GET /plain/${"x".repeat(i * 7)}?i=${i} HTTP/1.1\r\nHost: example.test\r\nX-I: ${i}\r\n\r\n`;
      assert.equal(await send(head), head);
    }
    // A hop-by-hop field: the head is rebuilt without it.
    const hop = await send("GET /plain HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n");
    assert.equal(hop, "GET /plain HTTP/1.1\r\nhost: example.test\r\nx-a: 1\r\n\r\n");
    // The path rewritten: the new target goes upstream.
    const rewritten = await send("GET /old/x?q=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");
    assert.ok(rewritten.startsWith("GET /new/x?q=1 HTTP/1.1\r\n"), rewritten);
    // A header set by the location.
    const set = await send("GET /set HTTP/1.1\r\nHost: example.test\r\n\r\n");
    assert.match(set, /\r\nx-set: yes\r\n/i);
    conn.close();
  } finally {
    await proxy?.close();
    await origin.close();
  }
});
