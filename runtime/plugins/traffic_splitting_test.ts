import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { roll, type TrafficSplittingPlan } from "./traffic_splitting.ts";
import { echo, planOf } from "./_test_utils.ts";

const plan = (p: Partial<TrafficSplittingPlan>): TrafficSplittingPlan => ({
  upstream: "new-upstream",
  weight: 50,
  stickiness: false,
  ...p,
});

Deno.test("roll() without stickiness is the random number's percent", () => {
  assert.equal(roll(plan({}), undefined, 0), 0);
  assert.equal(roll(plan({}), undefined, 0.999), 99);
  assert.ok(roll(plan({ weight: 100 }), undefined, 0.999) < 100, "weight 100 always switches");
  assert.ok(!(roll(plan({ weight: 0 }), undefined, 0) < 0), "weight 0 never does");
});

Deno.test("roll() with stickiness: Pingap's vectors (crc32 % 100 of the cookie), no value stays, matcher decides", () => {
  const sticky = plan({ stickiness: true, stickyCookie: "user-id" });
  assert.ok(roll(sticky, "user-a", 0.99) < 50, "user-a splits at weight 50");
  assert.ok(roll(sticky, "user-b", 0) >= 50, "user-b does not");
  assert.equal(roll(sticky, "user-a", 0), roll(sticky, "user-a", 0.5), "the same value, the same side");
  assert.ok(roll(sticky, undefined, 0) >= 100, "no sticky value: never switched");
  const matched = plan({ stickiness: true, stickyHeader: "x-user", matcher: /^beta-/, weight: 1 });
  assert.ok(roll(matched, "beta-7", 0.99) < 1);
  assert.ok(roll(matched, "user-a", 0) >= 100);
});

Deno.test("traffic_splitting through a compiled Plan: the switched request goes to the other upstream", async () => {
  const h = planHarness(
    planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.main]
addrs = ["10.0.0.1:8080"]
[upstreams.canary]
addrs = ["10.0.0.2:8080"]
[locations.l]
upstream = "main"
plugins = ["split"]
[plugins.split]
category = "traffic_splitting"
upstream = "canary"
weight = 50
stickiness = true
sticky_cookie = "user-id"
`),
    { upstream: echo },
  );
  try {
    const to = async (cookie?: string) =>
      (await (await h.request("http://a.test/x", cookie ? { headers: { cookie } } : {})).json()).url;
    assert.equal(await to("user-id=user-a"), "http://10.0.0.2:8080/x");
    assert.equal(await to("user-id=user-b"), "http://10.0.0.1:8080/x");
    assert.equal(await to(), "http://10.0.0.1:8080/x");
  } finally {
    await h.dispose();
  }
});
