/**
 * `csrf` tokens on Pingap's test vectors (`test_generate_token` in pingap-plugin/src/csrf.rs) and its format.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { makeToken, tokenValid } from "./csrf_token.ts";
import { nanoid } from "./request_id.ts";

const NOW = 1_765_000_000;

Deno.test("csrf token: Pingap's test_generate_token vectors", () => {
  const key = "123";
  const value = makeToken(key, NOW, nanoid(12));
  assert.ok(tokenValid(key, 10, value, NOW));
  assert.ok(tokenValid(key, 0, value, NOW));
  assert.ok(!tokenValid(key, 10, `${value}:1`, NOW));
  assert.ok(!tokenValid(key, 10, `${value}.1`, NOW));
  assert.ok(!tokenValid("other", 10, value, NOW));
  assert.ok(!tokenValid(key, 10, "a.b", NOW));
  assert.ok(!tokenValid(key, 10, "a.zz.c", NOW));
  assert.ok(!tokenValid(key, 10, "", NOW));
  // Issued 100 s ago: valid for a ttl of 1000 s, expired for 10 s.
  const prefix = `abcdefghijkl.${(NOW - 100).toString(16)}`;
  const old = `${prefix}.${createHash("sha256").update(prefix + key).digest("base64")}`;
  assert.ok(tokenValid(key, 1000, old, NOW));
  assert.ok(!tokenValid(key, 10, old, NOW));
});

Deno.test("csrf token: 66 characters, id.hex-time.base64(sha256(id.time + key))", () => {
  const token = makeToken("WjrXUG47wu", NOW, "AbCdEf_-1234");
  assert.equal(token.length, 66);
  const [id, time, sig] = token.split(".");
  assert.equal(id, "AbCdEf_-1234");
  assert.equal(time, NOW.toString(16));
  assert.equal(sig, createHash("sha256").update(`AbCdEf_-1234.${time}WjrXUG47wu`).digest("base64"));
  assert.match(makeToken("k", NOW, nanoid(12)).split(".")[0]!, /^[A-Za-z0-9_-]{12}$/);
});

Deno.test("csrf token: a future time is not expired; without a ttl the time is not read", () => {
  const key = "k";
  assert.ok(tokenValid(key, 10, makeToken(key, NOW + 5000, "x"), NOW));
  const prefix = "x.not-hex";
  const odd = `${prefix}.${createHash("sha256").update(prefix + key).digest("base64")}`;
  assert.ok(tokenValid(key, 0, odd, NOW));
  assert.ok(!tokenValid(key, 10, odd, NOW));
});
