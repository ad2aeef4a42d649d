/**
 * `forward_auth` through a compiled Plan without sockets on the proxy side (runtime/proxy/harness.ts), against a real
 * auth service (`Deno.serve`) the test starts: a `2xx` lets the request through with the `add_headers` of the answer
 * (the client's own copy replaced), only `request_headers` and the `X-Forwarded-*` facts are sent, a `401` reaches the
 * client with its headers and body, and a dead auth service fails closed with `502`.
 */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, type Echoed, planOf } from "./_test_utils.ts";

Deno.test("forward_auth: the auth service's verdict passes, is relayed, or fails closed", async () => {
  const seen: Record<string, string>[] = [];
  const auth = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push(Object.fromEntries(req.headers));
    const path = new URL(req.url).pathname;
    if (path === "/allow") return new Response("fine", { headers: { "x-user-id": "42", "x-other": "no" } });
    return new Response("who are you", { status: 401, headers: { "www-authenticate": 'Bearer realm="t"' } });
  });
  // A port that was free a moment ago: nothing listens there.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dead = probe.addr.port;
  probe.close();
  const at = `127.0.0.1:${auth.addr.port}`;
  const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["allow", "deny", "dead"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.allow]
path = "/allow"
upstream = "u"
plugins = ["allow"]
[locations.deny]
path = "/deny"
upstream = "u"
plugins = ["deny"]
[locations.dead]
path = "/dead"
upstream = "u"
plugins = ["dead"]
[plugins.allow]
category = "forward_auth"
auth_url = "http://${at}/allow"
request_headers = ["Authorization"]
add_headers = ["X-User-Id"]
[plugins.deny]
category = "forward_auth"
auth_url = "http://${at}/deny"
[plugins.dead]
category = "forward_auth"
auth_url = "http://127.0.0.1:${dead}/verify"
timeout = "2s"
`);
  const h = planHarness(plan, { upstream: echo });
  try {
    const ok = await h.request("http://a.test/allow/x?q=1", {
      headers: { authorization: "Bearer t", cookie: "a=1", "x-user-id": "forged" },
    });
    assert.equal(ok.status, 200);
    const up = (await ok.json()) as Echoed;
    assert.equal(up.headers["x-user-id"], "42", "the auth answer's header, not the client's");
    assert.equal(up.headers["x-other"], undefined, "only add_headers are copied");
    const asked = seen.at(-1)!;
    assert.equal(asked["authorization"], "Bearer t");
    assert.equal(asked["cookie"], undefined, "only request_headers are forwarded");
    assert.equal(asked["x-forwarded-method"], "GET");
    assert.equal(asked["x-forwarded-uri"], "/allow/x?q=1");

    const denied = await h.request("http://a.test/deny/x");
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="t"');
    assert.equal(denied.headers.get("x-origin"), null, "the upstream is not asked");
    assert.equal(await denied.text(), "who are you");

    const down = await h.request("http://a.test/dead/x");
    assert.equal(down.status, 502);
    assert.equal(down.headers.get("x-origin"), null);
    assert.equal(await down.text(), "Forward auth request failed");
  } finally {
    await h.dispose();
    await auth.shutdown();
  }
});
