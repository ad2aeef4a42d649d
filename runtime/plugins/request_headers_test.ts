/** `request_headers` through a compiled Plan without sockets (runtime/proxy/harness.ts): Pingap's vectors 138, 139. */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, type Echoed, planOf } from "./_test_utils.ts";

function plan(plugin: string) {
  return planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["rh"]
[plugins.rh]
category = "request_headers"
${plugin}
`);
}

Deno.test("request_headers: add, remove, set from the original request, set-if-absent, rename (vector 138)", async () => {
  const h = planHarness(
    plan(`add_headers = ["X-Keep: added"]
remove_headers = ["Cookie"]
set_headers = ["X-Client: pingap", "X-From: $http_x_client"]
set_headers_not_exists = ["X-Keep: default", "X-Trace: none"]
rename_headers = ["X-Old: X-Renamed", "X-Missing: X-Never"]`),
    { upstream: echo },
  );
  try {
    const headers = new Headers([
      ["x-keep", "kept"],
      ["x-old", "one"],
      ["x-old", "two"],
      ["x-client", "curl"],
      ["cookie", "a=1"],
    ]);
    const res = await h.request("http://a.test/api", { headers });
    const got = (await res.json() as Echoed).headers;
    assert.equal(got["x-client"], "pingap");
    assert.equal(got["x-from"], "curl", "the value is read from the request as it came");
    assert.equal(got["x-keep"], "kept, added");
    assert.equal(got["x-renamed"], "one, two", "every value moves");
    assert.equal(got["x-old"], undefined);
    assert.equal(got["x-never"], undefined);
    assert.equal(got["x-trace"], "none");
    assert.equal(got["cookie"], undefined);
  } finally {
    await h.dispose();
  }
});

Deno.test("request_headers: the client's Connection cannot drop what the plugin writes (vector 139)", async () => {
  const h = planHarness(
    plan(`add_headers = ["X-Added: 1"]
set_headers = ["X-Real-IP: $remote_addr"]
set_headers_not_exists = ["X-Trace: none"]
rename_headers = ["X-Api-Key: X-Internal-Key"]`),
    { upstream: echo },
  );
  try {
    const res = await h.request("http://a.test/", {
      headers: {
        "x-api-key": "k",
        "x-mine": "1",
        connection: "x-real-ip, X-Added, keep-alive, X-Internal-Key, X-Trace, X-Mine",
      },
    });
    const got = (await res.json() as Echoed).headers;
    assert.equal(got["x-added"], "1");
    assert.ok(got["x-real-ip"] !== undefined && got["x-real-ip"] !== "");
    assert.equal(got["x-trace"], "none");
    assert.equal(got["x-internal-key"], "k");
    assert.equal(got["x-mine"], undefined, "the client's own header it may still call hop-by-hop");
  } finally {
    await h.dispose();
  }
});
