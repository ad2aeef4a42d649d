/** `response_headers` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { planOf } from "./_test_utils.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l", "up"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
path = "/rh"
upstream = "u"
plugins = ["headers"]
[locations.up]
path = "/up"
upstream = "u"
plugins = ["upstreamMode"]
[plugins.headers]
category = "response_headers"
add_headers = ["X-Service:1", "X-Service:2"]
set_headers = ["X-Response-Id:123", "X-Served-Host:$host"]
remove_headers = ["X-Origin"]
rename_headers = ["X-Old:X-New"]
set_headers_not_exists = ["X-Response-Id:abc", "X-Tag:userTag"]
[plugins.upstreamMode]
category = "response_headers"
mode = "upstream"
set_headers = ["X-Upstream-Seen:1"]
`);

function upstream(): Response {
  return new Response("ok", { headers: { "x-origin": "1", "x-old": "v" } });
}

Deno.test("response_headers: adds, sets, removes, renames and sets-if-absent, in that order", async () => {
  const h = planHarness(plan, { upstream });
  try {
    const res = await h.request("http://svc.test/rh");
    assert.equal(res.headers.get("x-service"), "1, 2");
    assert.equal(res.headers.get("x-response-id"), "123");
    assert.equal(res.headers.get("x-tag"), "userTag");
    assert.equal(res.headers.get("x-served-host"), "svc.test");
    assert.equal(res.headers.get("x-origin"), null, "removed");
    assert.equal(res.headers.get("x-old"), null, "renamed away");
    assert.equal(res.headers.get("x-new"), "v");
    assert.equal(await res.text(), "ok");
    const up = await h.request("http://svc.test/up");
    assert.equal(up.headers.get("x-upstream-seen"), "1", "mode upstream edits the upstream's answer");
    await up.body?.cancel();
  } finally {
    await h.dispose();
  }
});
