import assert from "node:assert/strict";
import { roll, type TrafficSplittingPlan } from "./traffic_splitting.ts";

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
