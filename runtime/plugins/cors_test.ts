/** `cors` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
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
plugins = ["cors"]
[plugins.cors]
category = "cors"
path = "^/api"
allow_origin = "$http_origin"
allow_methods = "GET"
allow_credentials = true
`);

Deno.test("cors: a preflight is answered, a cross-origin answer gets the headers, others are left alone", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const pre = await h.request("http://a.test/api/x", { method: "OPTIONS", headers: { origin: "https://b.test" } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://b.test");
    assert.equal(pre.headers.get("access-control-allow-methods"), "GET");
    assert.equal(pre.headers.get("access-control-allow-credentials"), "true");
    const get = await h.request("http://a.test/api/x", { headers: { origin: "https://b.test" } });
    assert.equal(get.headers.get("x-origin"), "1");
    assert.equal(get.headers.get("access-control-allow-origin"), "https://b.test");
    const same = await h.request("http://a.test/api/x");
    assert.equal(same.headers.get("access-control-allow-origin"), null, "no Origin, no CORS headers");
    const other = await h.request("http://a.test/other", { method: "OPTIONS", headers: { origin: "https://b.test" } });
    assert.equal(other.headers.get("x-origin"), "1", "off the path the upstream answers");
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  } finally {
    await h.dispose();
  }
});
