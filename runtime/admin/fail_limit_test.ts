import assert from "node:assert/strict";
import { FailLimit } from "./fail_limit.ts";

Deno.test("fail limit: the limit within the window locks an IP out until the window ends; one notice", () => {
  const f = new FailLimit(3, 1000);
  for (let i = 0; i < 3; i++) {
    assert.equal(f.allowed("a", i), true);
    f.fail("a", i);
  }
  assert.equal(f.allowed("a", 10), false);
  assert.equal(f.allowed("b", 10), true);
  assert.equal(f.firstRefusal("a", 10), true);
  assert.equal(f.firstRefusal("a", 11), false);
  assert.equal(f.allowed("a", 1001), true);
});
