/** `ping` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, planOf } from "./_test_utils.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["pingap:ping"]
`);

Deno.test("ping: pong on its exact path, with cache-control; other paths go upstream", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const pong = await h.request("http://t/ping");
    assert.equal(pong.status, 200);
    assert.equal(await pong.text(), "pong");
    assert.equal(pong.headers.get("cache-control"), "private, no-cache");
    assert.equal(pong.headers.get("x-origin"), null, "answered by the plugin");
    const other = await h.request("http://t/ping/x");
    assert.equal(other.headers.get("x-origin"), "1");
    assert.equal((await other.json()).url, "http://10.0.0.1:8080/ping/x");
  } finally {
    await h.dispose();
  }
});
