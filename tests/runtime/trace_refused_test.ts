/**
 * TRACE is refused with 405 on every path (it would reflect the request, cookies included: cross-site tracing), as
 * nginx does: the front end's fast path, a screened head (HTTP/1.0) and one with a body; `Deno.serve` alone
 * (`http1 = "deno-serve"`) too. The origin never sees one. Through the real proxy, a raw client and a raw origin.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startRawOrigin } from "../_support/raw_origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

async function statusOf(port: number, head: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(head));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    const text = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    return text.slice(0, text.indexOf("\r\n"));
  } finally {
    conn.close();
  }
}

for (const http1 of ["own", "deno-serve"]) {
  Deno.test(`TRACE is 405 and never reaches the origin (${http1})`, async () => {
    const before = Deno.env.get("PINGAP_HTTP1");
    Deno.env.set("PINGAP_HTTP1", http1);
    const origin = startRawOrigin();
    try {
      const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["main"]

[upstreams.main]
addrs = ["${origin.addr}"]

[locations.main]
upstream = "main"
`);
      try {
        for (
          const head of [
            "TRACE / HTTP/1.1\r\nHost: h\r\nCookie: a=b\r\n\r\n",
            "TRACE / HTTP/1.0\r\nHost: h\r\n\r\n",
            "TRACE / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
          ]
        ) assert.match(await statusOf(proxy.port, head), /^HTTP\/1\.[01] 405 /, head);
        assert.match(await statusOf(proxy.port, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), /^HTTP\/1\.1 200 /);
        assert.equal(origin.requests.length, 1);
        assert.equal(origin.requests[0]!.line, "GET / HTTP/1.1");
      } finally {
        await proxy.close();
      }
    } finally {
      await origin.close();
      if (before === undefined) Deno.env.delete("PINGAP_HTTP1");
      else Deno.env.set("PINGAP_HTTP1", before);
    }
  });
}
