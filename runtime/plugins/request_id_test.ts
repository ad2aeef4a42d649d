/** `request_id` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, type Echoed, planOf } from "./_test_utils.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["rid", "nano"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.rid]
path = "/rid"
upstream = "u"
plugins = ["pingap:requestId"]
[locations.nano]
path = "/nano"
upstream = "u"
plugins = ["nanoId"]
[plugins.nanoId]
category = "request_id"
algorithm = "nanoid"
size = 10
header_name = "X-Trace"
`);

Deno.test("request_id: a new id reaches the upstream and the response; an existing one is kept", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const res = await h.request("http://t/rid");
    const id = (await res.json() as Echoed).headers["x-request-id"];
    assert.match(id ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "UUID v7");
    assert.equal(res.headers.get("x-request-id"), id);
    const kept = await h.request("http://t/rid", { headers: { "x-request-id": "123" } });
    assert.equal((await kept.json() as Echoed).headers["x-request-id"], "123");
    assert.equal(kept.headers.get("x-request-id"), "123");
    const nano = await h.request("http://t/nano");
    const nanoId = (await nano.json() as Echoed).headers["x-trace"];
    assert.match(nanoId ?? "", /^[A-Za-z0-9_-]{10}$/);
  } finally {
    await h.dispose();
  }
});
