/**
 * The `maintenance` plugin through the real proxy and a real origin, with curl: the notice (status, body, type,
 * `Retry-After`, `no-store`) for a client that is not let through, the origin never reached; the allow header with its
 * value lets a request through; the loopback client, listed, passes on a second location.
 *
 * @module
 */
import assert from "node:assert/strict";
import { curl } from "../_support/curl.ts";
import { startEchoOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

Deno.test("maintenance: the notice, the allow header and the allowed address, over real sockets", async () => {
  const origin = await startEchoOrigin("app");
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["site", "ops"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.site]
path = "/site"
upstream = "app"
plugins = ["down"]

[locations.ops]
path = "/ops"
upstream = "app"
plugins = ["downButLocal"]

[plugins.down]
category = "maintenance"
retry_after = "10m"
message = "Back at noon"
allow_header = "X-Maintenance-Pass: s3cret"

[plugins.downButLocal]
category = "maintenance"
allow_ip_list = ["127.0.0.0/8"]
`);
  try {
    const notice = await curl(`${proxy.url}/site/x`);
    assert.equal(notice.status, 503);
    assert.equal(notice.body, "Back at noon");
    assert.equal(notice.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(notice.headers.get("retry-after"), "600");
    assert.match(notice.headers.get("cache-control") ?? "", /no-store/);
    assert.equal(origin.count(), 0, "the origin is not reached");
    const wrong = await curl(`${proxy.url}/site/x`, "-H", "X-Maintenance-Pass: s3cret2");
    assert.equal(wrong.status, 503);
    const pass = await curl(`${proxy.url}/site/x`, "-H", "X-Maintenance-Pass: s3cret");
    assert.equal(pass.status, 200);
    assert.equal(pass.headers.get("x-origin"), "app");
    const local = await curl(`${proxy.url}/ops/x`);
    assert.equal(local.status, 200, "the listed loopback client passes");
    assert.equal(origin.count(), 2);
  } finally {
    await proxy.close();
    await origin.close();
  }
});
