import assert from "node:assert/strict";
import { checkToken, constantTimeEqual, loginToken, sha256Hex } from "./token.ts";

const ACCOUNTS = [{ user: "admin", password: "123123" }, { user: "pingap", password: "123123" }];
const DAY = 86_400_000;

Deno.test("token: hex sha256 of user:password:ts, then :ts", async () => {
  assert.equal(
    await loginToken(ACCOUNTS[0]!, 1),
    `${await sha256Hex("admin:123123:1")}:1`,
  );
  assert.equal(await sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

Deno.test("token: each account; refused when wrong, malformed, more than max_age old or too far ahead", async () => {
  const now = 1_700_000_000_000;
  const ts = now / 1000;
  assert.deepEqual(await checkToken(await loginToken(ACCOUNTS[1]!, ts), ACCOUNTS, 2 * DAY, now), {
    ok: true,
    readonly: false,
    user: "pingap",
  });
  const wrong = await loginToken({ user: "admin", password: "x" }, ts);
  assert.deepEqual(await checkToken(wrong, ACCOUNTS, 2 * DAY, now), { ok: false, reason: "mismatch" });
  assert.deepEqual(await checkToken(null, ACCOUNTS, 2 * DAY, now), { ok: false, reason: "missing" });
  assert.deepEqual(await checkToken("abc", ACCOUNTS, 2 * DAY, now), { ok: false, reason: "malformed" });
  for (const skew of [-3 * DAY, 3 * DAY]) {
    const t = await loginToken(ACCOUNTS[0]!, ts + skew / 1000);
    assert.deepEqual(await checkToken(t, ACCOUNTS, 2 * DAY, now), { ok: false, reason: "expired" });
  }
  const edge = await loginToken(ACCOUNTS[0]!, ts - 2 * DAY / 1000);
  assert.equal((await checkToken(edge, ACCOUNTS, 2 * DAY, now)).ok, true);
  // Ahead of the clock (Pingap 0.16): at most min(max_age, 5 minutes).
  const ahead = async (seconds: number, maxAge = 2 * DAY) =>
    (await checkToken(await loginToken(ACCOUNTS[0]!, ts + seconds), ACCOUNTS, maxAge, now)).ok;
  assert.equal(await ahead(300), true);
  assert.equal(await ahead(301), false);
  assert.equal(await ahead(3600), false, "an hour ahead: refused although max_age is 2 days");
  assert.equal(await ahead(60, 30_000), false, "max_age below 5 minutes bounds it");
  assert.equal(await ahead(30, 30_000), true);
});

Deno.test("constantTimeEqual: equal only when equal", () => {
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "ab"), false);
  assert.equal(constantTimeEqual("", "a"), false);
});
