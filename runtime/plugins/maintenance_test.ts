/** `maintenance` through a compiled Plan without sockets (runtime/proxy/harness.ts): Pingap's vectors 135, 136. */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, planOf } from "./_test_utils.ts";

function plan(plugin: string) {
  return planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["m"]
[plugins.m]
category = "maintenance"
${plugin}
`);
}

/** The status a client at `peer` gets, with its `Retry-After`, body and content type. */
async function ask(config: string, peer: string, headers: Record<string, string> = {}) {
  const h = planHarness(plan(config), { upstream: echo, client: { hostname: peer, port: 40000 } });
  try {
    const res = await h.request("http://a.test/x", { headers });
    return {
      status: res.status,
      body: await res.text(),
      type: res.headers.get("content-type"),
      retry: res.headers.get("retry-after"),
      cache: res.headers.get("cache-control"),
      upstream: res.headers.get("x-origin") === "1",
    };
  } finally {
    await h.dispose();
  }
}

Deno.test("maintenance: the defaults (vector 135)", async () => {
  const got = await ask("", "1.1.1.1");
  assert.equal(got.status, 503);
  assert.equal(got.body, "Service is under maintenance");
  assert.equal(got.type, "text/plain; charset=utf-8");
  assert.equal(got.retry, null);
  assert.match(got.cache ?? "", /no-store/);
  assert.equal(got.upstream, false);
});

Deno.test("maintenance: status, Retry-After, allowed addresses and header (vector 136)", async () => {
  const config = `status = 500
retry_after = "10m"
html = "<h1>Back soon</h1>"
allow_ip_list = ["10.0.0.0/8", "192.168.1.9"]
allow_header = "X-Maintenance-Pass: s3cret"`;
  const blocked = await ask(config, "1.1.1.1");
  assert.equal(blocked.status, 500);
  assert.equal(blocked.body, "<h1>Back soon</h1>");
  assert.equal(blocked.type, "text/html; charset=utf-8");
  assert.equal(blocked.retry, "600");
  for (const peer of ["10.2.3.4", "192.168.1.9"]) assert.equal((await ask(config, peer)).upstream, true, peer);
  assert.equal((await ask(config, "192.168.1.10")).status, 500);
  assert.equal((await ask(config, "1.1.1.1", { "x-forwarded-for": "10.2.3.4" })).status, 500, "no trusted proxy");
  assert.equal((await ask(config, "1.1.1.1", { "x-real-ip": "10.2.3.4" })).status, 500);
  assert.equal((await ask(config, "1.1.1.1", { "x-maintenance-pass": "s3cret" })).upstream, true);
  for (const guess of ["guess", "s3cret2", ""]) {
    assert.equal((await ask(config, "1.1.1.1", { "x-maintenance-pass": guess })).status, 500, guess);
  }
  assert.equal((await ask("enabled = false", "1.1.1.1")).upstream, true, "switched off, as if not listed");
  assert.equal((await ask("enabled = true", "1.1.1.1")).status, 503);
});
