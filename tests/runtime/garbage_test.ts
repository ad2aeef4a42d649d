/**
 * Garbage on the wire (issue 3): malformed requests get 400 (or the
 * connection closed), never a crash, and the proxy answers a normal request
 * afterwards; also an idle half-open connection and a client that hangs up
 * mid-request.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, type Origin, startEchoOrigin } from "../_support/origin.ts";
import { get, getJson, rawExchange, startTestProxy, type TestProxy } from "../_support/proxy.ts";
import { GARBAGE } from "../_support/garbage.ts";

async function withProxy(fn: (proxy: TestProxy, origin: Origin) => Promise<void>): Promise<void> {
  const origin = await startEchoOrigin("main");
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all"]
[locations.all]
upstream = "main"
[upstreams.main]
addrs = ["${origin.addr}"]
`);
    await fn(proxy, origin);
  } finally {
    await proxy?.close();
    await origin.close();
  }
}

Deno.test("garbage: malformed requests get 400 or a closed connection, then a normal request works", async () => {
  await withProxy(async (proxy, origin) => {
    const outcomes: string[] = [];
    for (const junk of GARBAGE) {
      const res = await rawExchange(proxy.port, junk, 5000);
      outcomes.push(res ? String(res.status) : "closed");
      // A version past HTTP/1 (`HTTP/9.9`) is 505, as nginx answers it.
      const want = typeof junk === "string" && / HTTP\/[2-9]\.\d\r\n/.test(junk) ? 505 : 400;
      if (res) assert.equal(res.status, want, `for ${JSON.stringify(typeof junk === "string" ? junk : "binary")}`);
    }
    console.log(`outcomes: ${outcomes.join(", ")}`);
    assert.ok(outcomes.includes("400"), `outcomes: ${outcomes.join(", ")}`);
    assert.equal(origin.count(), 0, "no garbage reached the origin");
    const echo = await getJson<Echo>(`${proxy.url}/after?x=1`);
    assert.equal(echo.path, "/after");
  });
});

Deno.test("garbage: a client that hangs up mid-body or mid-headers does not disturb others", async () => {
  await withProxy(async (proxy) => {
    for (
      const partial of [
        "GET /half HTTP/1.1\r\nHost: t\r\nX-Unfinished: ",
        "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nonly a little",
      ]
    ) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
      await conn.write(new TextEncoder().encode(partial));
      await new Promise((r) => setTimeout(r, 50));
      conn.close();
    }
    const res = await get(`${proxy.url}/still`);
    assert.equal(res.status, 200);
  });
});
