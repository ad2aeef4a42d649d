/** `combined_auth` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
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
plugins = ["apps"]
[plugins.apps]
category = "combined_auth"
authorizations = [{ app_id = "app", secret = "s3cret", deviation = 60 }]
`);

function query(secret: string, ts: number): string {
  return `app_id=app&ts=${ts}&digest=${createHash("sha256").update(`${secret}:${ts}`).digest("hex")}`;
}

Deno.test("combined_auth: a request signed within the deviation passes; a wrong digest or an old one is 401", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const now = Math.floor(Date.now() / 1000);
    const ok = await h.request(`http://a.test/x?${query("s3cret", now)}`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    for (const url of [`http://a.test/x?${query("wrong", now)}`, `http://a.test/x?${query("s3cret", now - 600)}`]) {
      const res = await h.request(url);
      assert.equal(res.status, 401, url);
      assert.match(await res.text(), /^Plugin combined_auth invalid, message: /);
    }
  } finally {
    await h.dispose();
  }
});
