/**
 * `h1_pipelining` over raw sockets: two requests in one write get two answers, in order, when it is on; when it is
 * off (the default), the first is answered with `Connection: close`, the connection ends, and the second is dropped
 * unanswered and unlogged (Pingora closes after the first response and drops the rest).
 *
 * @module
 */
import assert from "node:assert/strict";
import { startEchoOrigin } from "../_support/origin.ts";
import { rawExchange, startTestProxy } from "../_support/proxy.ts";

const config = (origin: string, pipelining: boolean | undefined) => `
[upstreams.o]
addrs = ["${origin}"]

[locations.all]
upstream = "o"

[servers.web]
addr = "127.0.0.1:0"
locations = ["all"]
access_log = "{method} {path} {status}"
${pipelining === undefined ? "" : `h1_pipelining = ${pipelining}`}
`;

/** Two keep-alive requests in one write. */
const TWO = "GET /one HTTP/1.1\r\nhost: a\r\n\r\nGET /two HTTP/1.1\r\nhost: a\r\n\r\n";

/** The status lines in what came back, in order. */
function statusLines(raw: Uint8Array): string[] {
  return new TextDecoder().decode(raw).match(/HTTP\/1\.1 \d{3} [^\r]*/g) ?? [];
}

/** Waits (bounded) until `n` access-log lines were written. */
async function logged(logs: string[], n: number): Promise<void> {
  for (let i = 0; i < 100 && logs.length < n; i++) await new Promise((r) => setTimeout(r, 20));
}

Deno.test("h1_pipelining = true: two requests in one write get two answers, in order", async () => {
  const origin = await startEchoOrigin("o");
  const proxy = await startTestProxy(config(origin.addr, true));
  try {
    // The connection stays open after both answers: the read ends by the timeout, with both in.
    const res = await rawExchange(proxy.port, TWO, 1500);
    assert.ok(res);
    const text = new TextDecoder().decode(res.raw);
    assert.deepEqual(statusLines(res.raw), ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]);
    assert.ok(text.indexOf('"path":"/one"') < text.indexOf('"path":"/two"'), text);
    assert.doesNotMatch(text, /connection: close/i);
    await logged(proxy.logs, 2);
    assert.deepEqual(proxy.logs, ["GET /one 200", "GET /two 200"]);
    assert.equal(origin.count(), 2);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

for (const setting of [false, undefined]) {
  Deno.test(`h1_pipelining ${setting === undefined ? "unset" : "= false"}: the first is answered, the rest dropped, the connection closed`, async () => {
    const origin = await startEchoOrigin("o");
    const proxy = await startTestProxy(config(origin.addr, setting));
    try {
      // Read to the end of the connection: the proxy closes it (a guard timer would cut it and say so).
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
      let cut = false;
      const guard = setTimeout(() => (cut = true, conn.close()), 10_000);
      let raw = new Uint8Array(0);
      try {
        await conn.write(new TextEncoder().encode(TWO));
        const buf = new Uint8Array(65536);
        for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
          const more = new Uint8Array(raw.length + n);
          more.set(raw);
          more.set(buf.subarray(0, n), raw.length);
          raw = more;
        }
      } finally {
        clearTimeout(guard);
        if (!cut) conn.close();
      }
      assert.equal(cut, false, "the proxy closed the connection");
      const text = new TextDecoder().decode(raw);
      assert.deepEqual(statusLines(raw), ["HTTP/1.1 200 OK"]);
      assert.match(text, /\r\nconnection: close\r\n/i);
      assert.match(text, /"path":"\/one"/);
      await logged(proxy.logs, 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(proxy.logs, ["GET /one 200"]);
      assert.equal(origin.count(), 1);
      // A request that comes alone is kept alive as ever: two on one connection, one after the other's answer.
      const again = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
      try {
        const buf = new Uint8Array(65536);
        for (const path of ["/a", "/b"]) {
          await again.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nhost: a\r\n\r\n`));
          let text = "";
          while (!/\r\n\r\n[\s\S]*\}$/.test(text)) {
            const n = await again.read(buf);
            assert.ok(n !== null, `the connection stays open for ${path}`);
            text += new TextDecoder().decode(buf.subarray(0, n));
          }
          assert.match(text, new RegExp(`"path":"${path}"`));
          assert.doesNotMatch(text, /connection: close/i);
        }
      } finally {
        again.close();
      }
    } finally {
      await proxy.close();
      await origin.close();
    }
  });
}
