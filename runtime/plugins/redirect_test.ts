/** `redirect` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
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
plugins = ["toHttps"]
[plugins.toHttps]
category = "redirect"
http_to_https = true
prefix = "/api"
status = 301
`);

Deno.test("redirect: http to https under the prefix, query kept; a request already right goes upstream", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const res = await h.request("http://github.com/r/vicanso/pingap?size=1");
    assert.equal(res.status, 301);
    assert.equal(res.headers.get("location"), "https://github.com/api/r/vicanso/pingap?size=1");
    const prefixed = await h.request("http://github.com/api/x");
    assert.equal(prefixed.headers.get("location"), "https://github.com/api/x", "https only");
    const right = await h.request("https://github.com/api/x");
    assert.equal(right.status, 200);
    assert.equal((await right.json()).url, "http://10.0.0.1:8080/api/x");
  } finally {
    await h.dispose();
  }
});
