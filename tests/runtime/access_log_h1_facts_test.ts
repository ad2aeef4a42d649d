/**
 * Access-log facts the HTTP/1.1 front end knows (issue 17, Build 3): `{proto}` is the version of the request line
 * (`HTTP/1.0` or `HTTP/1.1`), and `{payload_size}` the request body bytes read from the client (a chunked body's data
 * too, which has no content-length). Read from the lines of the proxy in its own process.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";
import { until } from "../_support/load.ts";

/** Sends `text` on a new connection and reads the answer to its end (the request asks to close). */
async function exchange(port: number, text: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(text));
    let got = "";
    const buf = new Uint8Array(16384);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return got;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test("access log: {proto} is the request line's version, {payload_size} the body bytes read", async () => {
  // The origin reads the whole body and says how long it was.
  const origin = await startOrigin("o", async (req) => new Response(`${(await req.arrayBuffer()).byteLength}`));
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
access_log = "{proto} {payload_size} {method} {path}|"
locations = ["all"]
[locations.all]
upstream = "o"
[upstreams.o]
addrs = ["${origin.addr}"]
`);
  try {
    const port = proxy.port;
    assert.match(await exchange(port, "GET /ten HTTP/1.0\r\nHost: t\r\n\r\n"), /^HTTP\/1\.1 200 [^]*\r\n\r\n0$/);
    assert.match(
      await exchange(
        port,
        "POST /sized HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world",
      ),
      /\r\n\r\n11$/,
    );
    assert.match(
      await exchange(
        port,
        "POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
          "5\r\nhello\r\n6\r\n world\r\n3\r\n!!!\r\n0\r\n\r\n",
      ),
      /\r\n\r\n14$/,
    );
    await until(() => Promise.resolve(proxy.logs.length >= 3));
    assert.deepEqual(proxy.logs, [
      "HTTP/1.0 0 GET /ten|",
      "HTTP/1.1 11 POST /sized|",
      "HTTP/1.1 14 POST /chunked|",
    ]);
  } finally {
    await proxy.close();
    await origin.close();
  }
});
