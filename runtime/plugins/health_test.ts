/** `health` through a compiled Plan without sockets (runtime/proxy/harness.ts), with Pingap's vector 150. */
import assert from "node:assert/strict";
import type { UpstreamSnapshot } from "../observe/metrics/mod.ts";
import { planHarness } from "../proxy/harness.ts";
import type { PluginEnv } from "./contract.ts";
import { echo, planOf, pluginErrorsAt } from "./_test_utils.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.api]
addrs = ["127.0.0.1:5001", "127.0.0.1:5002"]
[upstreams.web]
addrs = ["127.0.0.1:5003"]
[locations.l]
upstream = "web"
plugins = ["ready"]
[plugins.ready]
category = "health"
path = "/readyz"
upstreams = ["api"]
`);

function envWith(snapshots: UpstreamSnapshot[]): PluginEnv {
  return {
    stats: () => ({}),
    proxy: { plan: () => plan, upstreams: () => snapshots, certificates: () => [] },
  };
}

Deno.test("health: vector 150, both backends of api down ⇒ 503 with the unhealthy backends", async () => {
  const h = planHarness(plan, {
    upstream: echo,
    env: envWith([{
      upstream: "api",
      backends: [{ backend: "127.0.0.1:5001", healthy: false }, { backend: "127.0.0.1:5002", healthy: false }],
    }, { upstream: "web", backends: [{ backend: "127.0.0.1:5003", healthy: true }] }] as UpstreamSnapshot[]),
  });
  try {
    const res = await h.request("http://a.test/readyz");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(
      await res.text(),
      '{"ready":false,"upstreams":{"api":{"healthy":0,"total":2,"ready":false,"unhealthy_backends":["127.0.0.1:5001","127.0.0.1:5002"]}}}',
    );
    const other = await h.request("http://a.test/other");
    assert.equal(other.headers.get("x-origin"), "1", "another path goes upstream");
    await other.body?.cancel();
  } finally {
    await h.dispose();
  }
});

Deno.test("health: one healthy backend of two (min_healthy 1) ⇒ 200 ready", async () => {
  const h = planHarness(plan, {
    upstream: echo,
    env: envWith([{
      upstream: "api",
      backends: [{ backend: "127.0.0.1:5001", healthy: true }, { backend: "127.0.0.1:5002", healthy: false }],
    }] as UpstreamSnapshot[]),
  });
  try {
    const res = await h.request("http://a.test/readyz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      ready: true,
      upstreams: { api: { healthy: 1, total: 2, ready: true, unhealthy_backends: ["127.0.0.1:5002"] } },
    });
  } finally {
    await h.dispose();
  }
});

function errorsOf(keys: string): string[] {
  return pluginErrorsAt("ready", "health", keys);
}

Deno.test("health: bad config is a check error at its key, with a hint", () => {
  assert.deepEqual(errorsOf('path = "readyz"'), ["plugins.ready.path"]);
  assert.deepEqual(errorsOf('path = "/r"\nupstreams = ["nope"]'), ["plugins.ready.upstreams.0"]);
  assert.deepEqual(errorsOf('path = "/r"\nmin_healthy = 0'), ["plugins.ready.min_healthy"]);
  assert.deepEqual(errorsOf("min_healthy = 1"), ["plugins.ready.path"]);
});
