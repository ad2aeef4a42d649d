/** `stats` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, planOf } from "./_test_utils.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["ping", "stats"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.ping]
path = "=/ping"
plugins = ["pingap:ping"]
[locations.stats]
path = "/stats"
upstream = "u"
plugins = ["pingap:stats"]
`);

Deno.test("stats: JSON with the process and location figures on its path; other paths go upstream", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    await (await h.request("http://t/ping")).body?.cancel();
    const res = await h.request("http://t/stats");
    assert.equal(res.headers.get("cache-control"), "private, no-cache");
    const stats = await res.json() as Record<string, unknown>;
    for (const key of ["processing", "accepted", "uptime", "memory_mb"]) assert.equal(typeof stats[key], "number", key);
    assert.equal(stats.processing, 1, "the stats request itself is in flight");
    assert.equal(stats.accepted, 2);
    assert.deepEqual(stats.location_accepted, { ping: 1, stats: 1 });
    const other = await h.request("http://t/stats/x");
    assert.equal(other.headers.get("x-origin"), "1");
    await other.body?.cancel();
  } finally {
    await h.dispose();
  }
});
