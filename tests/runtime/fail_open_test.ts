/**
 * Upstream `fail_open` (Pingap 0.16): with every backend failing its
 * health check, a `fail_open` upstream still sends the request to one;
 * the same upstream without it answers 503.
 *
 * @module
 */
import assert from "node:assert/strict";
import { until } from "../_support/load.ts";
import { startOrigin } from "../_support/origin.ts";
import { get, startTestProxy } from "../_support/proxy.ts";

Deno.test("fail_open: no healthy backend, and the request still goes to one (503 without it)", async () => {
  // Serves requests, but its health path fails; counts the checks by the Host they name.
  const checks = new Map<string, number>();
  const origin = await startOrigin("sick", (req) => {
    if (new URL(req.url).pathname !== "/health") return new Response("served");
    const host = req.headers.get("host") ?? "";
    checks.set(host, (checks.get(host) ?? 0) + 1);
    return new Response("no", { status: 500 });
  });
  const config = (failOpen: boolean) => `
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]
[locations.l]
upstream = "u"
[upstreams.u]
addrs = ["${origin.addr}"]
health_check = "http://${failOpen ? "open" : "closed"}/health?check_frequency=100ms&failure=1"
fail_open = ${failOpen}
`;
  const closed = await startTestProxy(config(false));
  const open = await startTestProxy(config(true));
  try {
    // Once the check has marked the backend down, the usual upstream answers 503...
    await until(async () => (await get(`${closed.url}/`)).status === 503);
    // ...and the fail_open one, whose check has failed too (a second one has begun, so the first was answered),
    // still reaches it.
    await until(() => Promise.resolve((checks.get("open") ?? 0) >= 2));
    const got = await get(`${open.url}/`);
    assert.equal(got.status, 200);
    assert.equal(got.text, "served");
    assert.equal((await get(`${closed.url}/`)).status, 503);
  } finally {
    await closed.close();
    await open.close();
    await origin.close();
  }
});
