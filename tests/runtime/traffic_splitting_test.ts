/**
 * `traffic_splitting` through the real proxy to two real origins: weight 100 sends everything to the other upstream;
 * weight 30 sends about 30 % of 400 requests there (bounds five standard deviations wide); sticky requests with the same
 * header value always land on the same side, and without it never switch.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

Deno.test("traffic_splitting: weights and stickiness decide which upstream answers", async () => {
  const main = await startOrigin("main", () => new Response("main"));
  const canary = await startOrigin("canary", () => new Response("canary"));
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all", "some", "sticky"]

[upstreams.main]
addrs = ["${main.addr}"]

[upstreams.canary]
addrs = ["${canary.addr}"]

[locations.all]
path = "/all"
upstream = "main"
plugins = ["everything"]

[locations.some]
path = "/some"
upstream = "main"
plugins = ["thirty"]

[locations.sticky]
path = "/sticky"
upstream = "main"
plugins = ["byUser"]

[plugins.everything]
category = "traffic_splitting"
upstream = "canary"
weight = 100

[plugins.thirty]
category = "traffic_splitting"
upstream = "canary"
weight = 30

[plugins.byUser]
category = "traffic_splitting"
upstream = "canary"
weight = 50
stickiness = true
sticky_header = "X-User"
`);
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(proxy.url + path, { headers });
    return await res.text();
  };
  try {
    for (let i = 0; i < 20; i++) assert.equal(await get("/all"), "canary");
    let switched = 0;
    const n = 400;
    for (let i = 0; i < n; i++) if (await get("/some") === "canary") switched++;
    // 30 % of 400 is 120 with a standard deviation of about 9.2.
    assert.ok(switched > 74 && switched < 166, `${switched} of ${n} switched`);
    const sides = new Set<string>();
    for (let i = 0; i < 10; i++) sides.add(await get("/sticky", { "x-user": "user-a" }));
    assert.deepEqual([...sides], ["canary"], "crc32(user-a) % 100 = 20 < 50");
    sides.clear();
    for (let i = 0; i < 10; i++) sides.add(await get("/sticky", { "x-user": "user-b" }));
    assert.deepEqual([...sides], ["main"], "crc32(user-b) % 100 = 98");
    for (let i = 0; i < 10; i++) assert.equal(await get("/sticky"), "main", "no sticky value: the location's upstream");
  } finally {
    await proxy.close();
    await main.close();
    await canary.close();
  }
});
