/** `basic_auth` and `key_auth` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, type Echoed, planOf } from "./_test_utils.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["basic", "key"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.basic]
path = "/basic"
upstream = "u"
plugins = ["auth"]
[locations.key]
path = "/key"
upstream = "u"
plugins = ["keys"]
[plugins.auth]
category = "basic_auth"
authorizations = ["YWRtaW46MTIzMTIz"]
hide_credentials = true
[plugins.keys]
category = "key_auth"
header = "X-User"
keys = ["123", "456"]
hide_credentials = true
`);

Deno.test("basic_auth: the account passes without its credentials upstream; none or a wrong one is 401", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const ok = await h.request("http://a.test/basic/x", { headers: { authorization: "Basic YWRtaW46MTIzMTIz" } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as Echoed).headers["authorization"], undefined, "hide_credentials");
    const missing = await h.request("http://a.test/basic/x");
    assert.equal(missing.status, 401);
    assert.equal(await missing.text(), "Authorization is missing");
    assert.match(missing.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    const wrong = await h.request("http://a.test/basic/x", { headers: { authorization: "Basic d3Jvbmc6d3Jvbmc=" } });
    assert.equal(wrong.status, 401);
    assert.equal(await wrong.text(), "Invalid user or password");
  } finally {
    await h.dispose();
  }
});

Deno.test("key_auth: a listed key passes without the header upstream; none or another is 401", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const ok = await h.request("http://a.test/key/x", { headers: { "x-user": "456" } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as Echoed).headers["x-user"], undefined, "hide_credentials");
    const missing = await h.request("http://a.test/key/x");
    assert.equal(missing.status, 401);
    assert.equal(await missing.text(), "Key missing");
    const wrong = await h.request("http://a.test/key/x", { headers: { "x-user": "789" } });
    assert.equal(wrong.status, 401);
    assert.equal(await wrong.text(), "Key auth fail");
  } finally {
    await h.dispose();
  }
});
