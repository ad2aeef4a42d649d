/**
 * The socket-free harness and the two phases after the response hooks: a response-body transform applies only on a
 * location whose chain has one, and logging runs once per response, when it is done (errors included).
 */
import assert from "node:assert/strict";
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { runtimePlugin } from "../plugins/contract.ts";
import { RUNTIME_PLUGINS } from "../plugins/registry.ts";
import { planOf } from "../plugins/_test_utils.ts";
import { planHarness, planRequest } from "./harness.ts";

/** A test-only half for category `ping`: upper-cases response bodies and logs each response's status. */
function shouting(logged: { name: string; status: number }[]) {
  const shout = runtimePlugin(PLUGIN_DEFINITIONS.ping, (_plan, _env, self) => ({
    responseBody(_ctx, headers) {
      headers.set("x-shout", "1");
      return new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          controller.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase()));
        },
      });
    },
    logging(_ctx, done) {
      logged.push({ name: self.name, status: done.status });
    },
  }));
  return new Map([...RUNTIME_PLUGINS, ["ping", shout]]);
}

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["loud", "plain"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.loud]
path = "/loud"
upstream = "u"
plugins = ["shout"]
[locations.plain]
path = "/plain"
upstream = "u"
[plugins.shout]
category = "ping"
path = "/never"
`);

Deno.test("harness: a body transform and logging run where the chain has them, and only there", async () => {
  const logged: { name: string; status: number }[] = [];
  const h = planHarness(plan, {
    upstream: () => new Response("quiet words", { headers: { "content-length": "11" } }),
    plugins: shouting(logged),
  });
  try {
    const loud = await h.request("http://t/loud/x");
    assert.equal(loud.headers.get("x-shout"), "1");
    assert.equal(loud.headers.get("content-length"), null, "the transformed length is not known");
    assert.deepEqual(logged, [], "not done before its body is read");
    assert.equal(await loud.text(), "QUIET WORDS");
    assert.deepEqual(logged, [{ name: "shout", status: 200 }], "once, when done");
    const plain = await h.request("http://t/plain/x");
    assert.equal(plain.headers.get("x-shout"), null);
    assert.equal(await plain.text(), "quiet words");
    assert.equal(logged.length, 1, "a location without the plugin logs nothing");
  } finally {
    await h.dispose();
  }
});

Deno.test("harness: without a fake upstream, sending upstream fails as a refused connect; logging sees the 502", async () => {
  const logged: { name: string; status: number }[] = [];
  const res = await planRequest(plan, "http://t/loud", { plugins: shouting(logged) });
  assert.equal(res.status, 502);
  await res.body?.cancel();
  assert.deepEqual(logged, [{ name: "shout", status: 502 }]);
});

Deno.test("harness: the request reaches the fake upstream as the proxy sends it, body included", async () => {
  let seen: Request | undefined;
  let body = "";
  const res = await planRequest(plan, "http://t/plain/post?q=1", {
    init: { method: "POST", body: "payload", headers: { "x-client": "1" } },
    upstream: async (req) => {
      seen = req;
      body = await req.text();
      return new Response(null, { status: 204 });
    },
  });
  assert.equal(res.status, 204);
  assert.equal(seen?.method, "POST");
  assert.equal(seen?.url, "http://10.0.0.1:8080/plain/post?q=1");
  assert.equal(seen?.headers.get("x-client"), "1");
  assert.equal(body, "payload");
});
