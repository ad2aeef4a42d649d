/**
 * `mirror` through a compiled Plan without sockets on the proxy side (runtime/proxy/harness.ts), with Pingap's
 * vectors 142 and 143. The mirror target is a real origin: the copy goes out with the plugin's own client.
 */
import assert from "node:assert/strict";
import { compileSources, type PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { startOrigin, startSilentOrigin } from "../../tests/_support/origin.ts";
import { planHarness } from "../proxy/harness.ts";
import { planOf } from "./_test_utils.ts";

interface Copy {
  readonly method: string;
  readonly target: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A real origin that notes each copy it gets. */
async function mirrorOrigin() {
  const copies: Copy[] = [];
  let arrived = Promise.withResolvers<void>();
  const origin = await startOrigin("mirror", async (req) => {
    const url = new URL(req.url);
    copies.push({
      method: req.method,
      target: url.pathname + url.search,
      headers: Object.fromEntries(req.headers),
      body: await req.text(),
    });
    arrived.resolve();
    return new Response("ignored", { status: 500 });
  });
  return {
    origin,
    copies,
    /** Waits for the next copy (10 s at most: the test then fails on the count). */
    async next() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([arrived.promise, new Promise((ok) => timer = setTimeout(ok, 10_000))]);
      clearTimeout(timer);
      arrived = Promise.withResolvers<void>();
    },
  };
}

function config(target: string, extra = ""): string {
  return `
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["copy"]
[plugins.copy]
category = "mirror"
target = "${target}"
${extra}
`;
}

/** The fake upstream: reads the body (so a copied body has ended) and says how long it was. */
async function upstream(req: Request): Promise<Response> {
  const body = await req.text();
  return new Response(`upstream got ${body.length}`, { headers: { "x-origin": "1" } });
}

Deno.test("mirror: vector 142, target stored without its slash, the defaults, 64kb = 64 000", () => {
  const plan = planOf(config("http://10.0.0.2:8080/", 'max_body_size = "64kb"'));
  const c = plan.plugins.find((p) => p.name === "copy")!.config as PlanOf<typeof PLUGIN_DEFINITIONS.mirror>;
  assert.equal(c.target, "http://10.0.0.2:8080");
  assert.equal(c.percentage, 100);
  assert.deepEqual(c.methods, ["GET", "HEAD"]);
  assert.equal(c.maxBodySize, 64_000);
  assert.equal(c.timeout, 5000);
  assert.equal(c.maxInflight, 100);
});

Deno.test("mirror: vector 143, the copy's target and forwarding headers; a copy is never copied again", async () => {
  const m = await mirrorOrigin();
  const h = planHarness(planOf(config(`http://${m.origin.addr}/shadow`)), {
    upstream,
    client: { hostname: "10.9.8.7", port: 40000 },
  });
  try {
    const skipped = await h.request("http://app.test/again", { headers: { "x-pingap-mirror": "1" } });
    assert.equal(await skipped.text(), "upstream got 0");
    const res = await h.request("http://app.test/api/users?page=2", {
      headers: { "x-forwarded-for": "1.2.3.4", "x-real-ip": "1.2.3.4", "x-tenant": "t1", expect: "100-continue" },
    });
    assert.equal(res.status, 200, "the real request is answered by its upstream");
    assert.equal(await res.text(), "upstream got 0");
    await m.next();
    assert.equal(m.copies.length, 1, "one copy, of the request without x-pingap-mirror");
    const copy = m.copies[0]!;
    assert.equal(copy.method, "GET");
    assert.equal(copy.target, "/shadow/api/users?page=2");
    assert.equal(copy.headers["x-forwarded-for"], "10.9.8.7");
    assert.equal(copy.headers["x-real-ip"], "10.9.8.7");
    assert.equal(copy.headers["x-forwarded-proto"], "http");
    assert.equal(copy.headers["x-pingap-mirror"], "1");
    assert.equal(copy.headers["host"], "app.test");
    assert.equal(copy.headers["x-tenant"], "t1");
    assert.equal(copy.headers["expect"], undefined);
  } finally {
    await h.dispose();
    await m.origin.close();
  }
});

Deno.test("mirror: a body within max_body_size is copied as it goes upstream; a larger one and other methods are not", async () => {
  const m = await mirrorOrigin();
  const h = planHarness(
    planOf(config(`http://${m.origin.addr}`, 'methods = ["post"]\nmax_body_size = 100\nhost = "shadow.test"')),
    { upstream },
  );
  try {
    const big = await h.request("http://app.test/big", { method: "POST", body: "x".repeat(101) });
    assert.equal(await big.text(), "upstream got 101", "the upstream gets the whole body");
    const get = await h.request("http://app.test/get");
    assert.equal(await get.text(), "upstream got 0");
    const small = await h.request("http://app.test/small", {
      method: "POST",
      body: "hello mirror",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(await small.text(), "upstream got 12");
    await m.next();
    assert.equal(m.copies.length, 1, m.copies.map((c) => c.target).join(" "));
    const copy = m.copies[0]!;
    assert.equal(copy.method, "POST");
    assert.equal(copy.target, "/small");
    assert.equal(copy.body, "hello mirror");
    assert.equal(copy.headers["content-type"], "text/plain");
    assert.equal(copy.headers["host"], "shadow.test");
  } finally {
    await h.dispose();
    await m.origin.close();
  }
});

Deno.test("mirror: copies beyond max_inflight are dropped, and the requests still go on", async () => {
  const silent = startSilentOrigin();
  const h = planHarness(planOf(config(`http://${silent.addr}`, 'max_inflight = 1\ntimeout = "30s"')), { upstream });
  try {
    for (const path of ["/a", "/b", "/c"]) {
      const res = await h.request(`http://app.test${path}`);
      assert.equal(await res.text(), "upstream got 0");
    }
    for (let i = 0; i < 100 && silent.accepted() === 0; i++) await new Promise((ok) => setTimeout(ok, 20));
    // Let any wrongly sent copy connect too.
    await new Promise((ok) => setTimeout(ok, 200));
    assert.equal(silent.accepted(), 1, "one copy held in flight, the two others dropped");
  } finally {
    await h.dispose();
    await silent.close();
  }
});

function errorsOf(keys: string): string[] {
  const { diagnostics } = compileSources([{ file: "t.toml", text: config("http://127.0.0.1:9", keys) }]);
  return diagnostics.filter((d) => d.severity === "error" && d.hint !== undefined).map((d) => d.path.join("."));
}

Deno.test("mirror: bad config is a check error at its key, with a hint", () => {
  assert.deepEqual(errorsOf(""), []);
  assert.deepEqual(errorsOf("percentage = 101"), ["plugins.copy.percentage"]);
  assert.deepEqual(errorsOf("max_inflight = 0"), ["plugins.copy.max_inflight"]);
  assert.deepEqual(errorsOf('timeout = "0s"'), ["plugins.copy.timeout"]);
  assert.deepEqual(errorsOf('step = "response"'), ["plugins.copy.step"]);
  const { diagnostics } = compileSources([{ file: "t.toml", text: config("ftp://x/?a=1") }]);
  assert.ok(diagnostics.some((d) => d.severity === "error" && d.path.join(".") === "plugins.copy.target"));
  const query = compileSources([{ file: "t.toml", text: config("http://x/?a=1") }]).diagnostics;
  assert.ok(query.some((d) => d.severity === "error" && d.path.join(".") === "plugins.copy.target"));
});
