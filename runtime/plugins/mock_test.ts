/** `mock` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, planOf } from "./_test_utils.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l", "h"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
path = "/mock"
upstream = "u"
plugins = ["m"]
[locations.h]
path = "/hooked"
plugins = ["all", "rh"]
[plugins.m]
category = "mock"
path = "/mock/x"
status = 503
headers = ["Content-Type:application/json", "X-Mock:1"]
data = '{"error":"mocked"}'
[plugins.all]
category = "mock"
data = "mocked"
[plugins.rh]
category = "response_headers"
set_headers = ["X-Hooked:yes"]
`);

Deno.test("mock: its status, headers and body on its path only; the response hooks see its answer", async () => {
  let upstream = 0;
  const h = planHarness(plan, { upstream: (req) => (upstream++, echo(req)) });
  try {
    const res = await h.request("http://t/mock/x");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("x-mock"), "1");
    assert.deepEqual(await res.json(), { error: "mocked" });
    assert.equal(upstream, 0);
    const passed = await h.request("http://t/mock/y");
    assert.equal((await passed.json()).url, "http://10.0.0.1:8080/mock/y");
    assert.equal(upstream, 1);
    const hooked = await h.request("http://t/hooked/any");
    assert.equal(hooked.status, 200);
    assert.equal(hooked.headers.get("x-hooked"), "yes");
    assert.equal(await hooked.text(), "mocked");
  } finally {
    await h.dispose();
  }
});
