/**
 * `mirror` end to end: curl through a real proxy; a real mirror origin gets the copy, and a dead or silent mirror
 * neither fails nor holds the real request.
 */
import assert from "node:assert/strict";
import { freePort, startEchoOrigin, startOrigin, startSilentOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

/** curl with a hard limit: a request held by its mirror would fail here (exit 28), not merely be slow. */
async function curl(args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command("curl", { args: ["-s", "-m", "10", ...args], stdout: "piped" }).output();
  return { code: out.code, out: new TextDecoder().decode(out.stdout) };
}

function config(origin: string, mirror: string, timeout = "5s"): string {
  return `
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]
[upstreams.app]
addrs = ["${origin}"]
[locations.l]
upstream = "app"
plugins = ["copy"]
[plugins.copy]
category = "mirror"
target = "http://${mirror}/shadow"
methods = ["GET", "POST"]
max_body_size = "1mb"
timeout = "${timeout}"
`;
}

Deno.test("mirror: the mirror origin gets the copy (method, path, headers, body), the client the real answer", async () => {
  const copies: { method: string; target: string; headers: Headers; body: string }[] = [];
  const got = Promise.withResolvers<void>();
  const mirror = await startOrigin("mirror", async (req) => {
    const url = new URL(req.url);
    copies.push({
      method: req.method,
      target: url.pathname + url.search,
      headers: req.headers,
      body: await req.text(),
    });
    got.resolve();
    return new Response("from the mirror", { status: 503 });
  });
  const app = await startEchoOrigin("app");
  const proxy = await startTestProxy(config(app.addr, mirror.addr));
  try {
    const body = "a=1&".repeat(5000);
    const r = await curl([
      "-X",
      "POST",
      "-H",
      "x-tenant: t1",
      "-H",
      "content-type: application/x-www-form-urlencoded",
      "--data-binary",
      body,
      `${proxy.url}/orders?id=7`,
    ]);
    assert.equal(r.code, 0);
    const echo = JSON.parse(r.out);
    assert.equal(echo.name, "app", "the real answer is the app's");
    assert.equal(echo.bodyLength, body.length);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([got.promise, new Promise((ok) => timer = setTimeout(ok, 10_000))]);
    clearTimeout(timer);
    assert.equal(copies.length, 1);
    const copy = copies[0]!;
    assert.equal(copy.method, "POST");
    assert.equal(copy.target, "/shadow/orders?id=7");
    assert.equal(copy.body, body);
    assert.equal(copy.headers.get("x-tenant"), "t1");
    assert.equal(copy.headers.get("content-type"), "application/x-www-form-urlencoded");
    assert.equal(copy.headers.get("x-pingap-mirror"), "1");
    assert.equal(copy.headers.get("x-real-ip"), "127.0.0.1");
    assert.equal(app.count(), 1, "the app got the request once");
  } finally {
    await proxy.close();
    await app.close();
    await mirror.close();
  }
});

Deno.test("mirror: a dead mirror and a silent one fail and hold no real request", async () => {
  const app = await startEchoOrigin("app");
  const silent = startSilentOrigin();
  const dead = await startTestProxy(config(app.addr, `127.0.0.1:${freePort()}`));
  // The silent mirror would hold a copy for 60 s: curl's 10 s limit shows the request does not wait for it.
  const held = await startTestProxy(config(app.addr, silent.addr, "60s"));
  try {
    for (const proxy of [dead, held]) {
      for (const args of [[`${proxy.url}/a`], ["--data-binary", "x".repeat(70_000), `${proxy.url}/b`]]) {
        const r = await curl(args);
        assert.equal(r.code, 0, `curl ${args.at(-1)} exits 0 (not 28, timed out)`);
        assert.equal(JSON.parse(r.out).name, "app");
      }
    }
    assert.equal(app.count(), 4);
    assert.ok(silent.accepted() >= 1, "the silent mirror was sent copies");
  } finally {
    await dead.close();
    await held.close();
    await silent.close();
    await app.close();
  }
});
