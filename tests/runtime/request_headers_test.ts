/**
 * The `request_headers` plugin through the real proxy and a real origin, with curl: Pingap's vector 138 (add, remove,
 * set from the original request, set-if-absent, rename with every value) as the origin sees the request, and the
 * location's `proxy_set_headers` applying after the plugin and winning.
 *
 * @module
 */
import assert from "node:assert/strict";
import { curl } from "../_support/curl.ts";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

Deno.test("request_headers: the origin gets the edited headers; proxy_set_headers wins", async () => {
  const origin = await startEchoOrigin("app");
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.l]
path = "/"
upstream = "app"
plugins = ["edit"]
proxy_set_headers = ["X-Owner: location"]

[plugins.edit]
category = "request_headers"
add_headers = ["X-Keep: added"]
remove_headers = ["Cookie"]
set_headers = ["X-Client: pingap", "X-From: $http_x_client", "X-Owner: plugin"]
set_headers_not_exists = ["X-Keep: default", "X-Trace: none"]
rename_headers = ["X-Old: X-Renamed"]
`);
  try {
    const res = await curl(
      `${proxy.url}/api`,
      ...["-H", "X-Keep: kept", "-H", "X-Old: one", "-H", "X-Old: two", "-H", "X-Client: curl", "-H", "Cookie: a=1"],
    );
    assert.equal(res.status, 200);
    const got = (JSON.parse(res.body) as Echo).headers;
    assert.equal(got["x-client"], "pingap");
    assert.equal(got["x-from"], "curl");
    assert.equal(got["x-keep"], "kept, added");
    assert.equal(got["x-renamed"], "one, two");
    assert.equal(got["x-old"], undefined);
    assert.equal(got["x-trace"], "none");
    assert.equal(got["cookie"], undefined);
    assert.equal(got["x-owner"], "location", "the location's proxy_set_headers apply later and win");
  } finally {
    await proxy.close();
    await origin.close();
  }
});
