/** `csrf` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, planOf } from "./_test_utils.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["csrf"]
[plugins.csrf]
category = "csrf"
token_path = "/csrf-token"
key = "harness-key"
ttl = "1h"
`);

Deno.test("csrf: the token path mints a cookie; a POST passes only with it in the header and the cookie", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const minted = await h.request("http://a.test/csrf-token");
    assert.equal(minted.status, 204);
    const cookie = minted.headers.get("set-cookie") ?? "";
    const token = /x-csrf-token=([^;]+)/.exec(cookie)?.[1];
    assert.ok(token, cookie);
    assert.match(cookie, /Max-Age=3600/);
    assert.equal((await h.request("http://a.test/x")).status, 200, "a GET needs no token");
    const bare = await h.request("http://a.test/x", { method: "POST", body: "{}" });
    assert.equal(bare.status, 401);
    assert.equal(await bare.text(), "Csrf token is empty or invalid");
    const ok = await h.request("http://a.test/x", {
      method: "POST",
      body: "{}",
      headers: { "x-csrf-token": token, cookie: `x-csrf-token=${token}` },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("x-origin"), "1");
    await ok.body?.cancel();
    const forged = token.slice(0, -4) + "AAAA";
    const bad = await h.request("http://a.test/x", {
      method: "POST",
      headers: { "x-csrf-token": forged, cookie: `x-csrf-token=${forged}` },
    });
    assert.equal(bad.status, 401);
    await bad.body?.cancel();
  } finally {
    await h.dispose();
  }
});
