/**
 * The `uri_block` plugin through the real proxy and a real origin, with curl sending targets as written
 * (`--path-as-is`): scanner paths however spelled, a decoded query, and methods off the allow-list
 * are answered 403 `Request is blocked` and never reach the origin; the rest is proxied.
 *
 * @module
 */
import assert from "node:assert/strict";
import { curl } from "../_support/curl.ts";
import { startEchoOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

Deno.test("uri_block: blocked requests get 403 and never reach the origin", async () => {
  const origin = await startEchoOrigin("app");
  const proxy = await startTestProxy(String.raw`
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.l]
path = "/"
upstream = "app"
plugins = ["scanners"]

[plugins.scanners]
category = "uri_block"
paths = ['\.env$', '^/\.git/']
queries = ['\.\./']
methods = ["GET", "HEAD", "POST"]
`);
  try {
    for (const target of ["/.env", "/%2eenv", "/public/../.env", "//.git/HEAD", "/download?file=..%2F..%2Fetc"]) {
      const res = await curl("--path-as-is", `${proxy.url}${target}`);
      assert.equal(res.status, 403, target);
      assert.equal(res.body, "Request is blocked", target);
      assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    }
    for (const method of ["DELETE", "OPTIONS"]) {
      assert.equal((await curl("-X", method, `${proxy.url}/x`)).status, 403, method);
    }
    // TRACE is refused (405) before any plugin, on every path.
    assert.equal((await curl("-X", "TRACE", `${proxy.url}/x`)).status, 405);
    assert.equal(origin.count(), 0, "no blocked request reached the origin");
    const ok = await curl(`${proxy.url}/app/.envoy?file=report.pdf`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("x-origin"), "app");
    assert.equal((await curl("-X", "POST", `${proxy.url}/x`)).status, 200);
  } finally {
    await proxy.close();
    await origin.close();
  }
});
