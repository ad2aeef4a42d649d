/**
 * `limit` through a compiled Plan without sockets (runtime/proxy/harness.ts): a rate limit per header value with the
 * budget headers and `Retry-After`, `missing_key = "reject"`, and an inflight limit whose slot is given back when the
 * request ends (the upstream held open by the test).
 */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, planOf } from "./_test_utils.ts";

const rate = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["rate"]
[plugins.rate]
category = "limit"
tag = "header"
key = "X-App"
max = 3
interval = "1h"
headers = true
missing_key = "reject"
`);

Deno.test("limit: max requests per key and interval, then 429 with Retry-After and the budget headers", async () => {
  const h = planHarness(rate, { upstream: echo });
  try {
    const ask = async (app?: string) => {
      const res = await h.request("http://a.test/x", app === undefined ? {} : { headers: { "x-app": app } });
      return {
        status: res.status,
        body: res.headers.get("x-origin") === "1" ? "upstream" : await res.text(),
        remaining: res.headers.get("x-ratelimit-remaining"),
        retryAfter: res.headers.get("retry-after"),
      };
    };
    for (const left of ["2", "1", "0"]) {
      const r = await ask("a");
      assert.deepEqual([r.status, r.body, r.remaining], [200, "upstream", left]);
    }
    const over = await ask("a");
    assert.deepEqual(
      [over.status, over.body, over.remaining, over.retryAfter],
      [429, "Plugin limit, exceed limit 4/3", "0", "3600"],
    );
    assert.equal((await ask("a")).status, 429, "a refusal does not free a slot");
    assert.equal((await ask("b")).status, 200, "another key has its own budget");
    const missing = await ask();
    assert.deepEqual([missing.status, missing.body], [400, "Plugin limit, the header X-App is required"]);
  } finally {
    await h.dispose();
  }
});

const inflight = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["one"]
[plugins.one]
category = "limit"
type = "inflight"
max = 1
`);

Deno.test("limit: inflight lets max requests in at once and frees the slot when one ends", async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  let calls = 0;
  const upstream = async (req: Request) => {
    if (++calls === 1) await held;
    return echo(req);
  };
  const h = planHarness(inflight, { upstream });
  try {
    const first = h.request("http://a.test/slow");
    // The first request is at the upstream, holding the one slot.
    while (calls === 0) await new Promise((r) => setTimeout(r, 1));
    const second = await h.request("http://a.test/x");
    assert.equal(second.status, 429);
    assert.equal(await second.text(), "Plugin limit, exceed limit 2/1");
    assert.equal(second.headers.get("retry-after"), null);
    release();
    const done = await first;
    assert.equal(done.status, 200);
    await done.body?.cancel();
    const third = await h.request("http://a.test/x");
    assert.equal(third.status, 200, "the slot came back");
    await third.body?.cancel();
  } finally {
    release();
    await h.dispose();
  }
});
