/**
 * The `error_page` plugin through the real proxy, a real origin and a dead one, with curl: the location's file page
 * for a 502 (nothing listening), a 4xx page with the proxy's own message for a 413, JSON for a client asking for it,
 * and `intercept` replacing the origin's 404 and 418 while its 200 passes as it came.
 *
 * @module
 */
import assert from "node:assert/strict";
import { curl } from "../_support/curl.ts";
import { startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

Deno.test("error_page: the location's pages for the proxy's errors and intercepted upstream answers", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/down.html`, "<h1>{{status}}</h1><p>{{message}}</p>");
  const origin = await startOrigin("app", (req) => {
    const status = Number(new URL(req.url).pathname.slice(1)) || 200;
    return new Response("origin body", { status });
  });
  const proxy = await startTestProxy(String.raw`
[servers.s]
addr = "127.0.0.1:0"
locations = ["dead", "app"]

[upstreams.dead]
addrs = ["127.0.0.1:1"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.dead]
path = "/dead"
upstream = "dead"
plugins = ["pages"]

[locations.app]
path = "/"
upstream = "app"
client_max_body_size = 4
plugins = ["pages"]

[plugins.pages]
category = "error_page"
pages = ["5xx: ${dir}/down.html", "404: {\"error\":\"{{message}}\",\"code\":{{status}}}", "4xx: <p>{{message}}</p>"]
json = true
intercept = true
`);
  try {
    const dead = await curl(`${proxy.url}/dead`);
    assert.equal(dead.status, 502);
    assert.equal(dead.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(dead.body, "<h1>502</h1><p>Bad Gateway</p>");
    const json = await curl("-H", "Accept: application/json", `${proxy.url}/dead`);
    assert.equal(json.body, '{"status":502,"message":"Bad Gateway"}');
    const big = await curl("-d", "0123456789", `${proxy.url}/upload`);
    assert.equal(big.status, 413);
    assert.equal(big.body, "<p>Request Entity Too Large, max:4</p>", "a 4xx of the proxy shows its message");
    const missing = await curl(`${proxy.url}/404`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '{"error":"Not Found","code":404}', "the origin's 404 intercepted");
    assert.equal(missing.headers.get("connection"), "close", "an intercepted answer closes the client's connection");
    assert.equal(dead.headers.get("connection"), null, "a proxy error keeps it");
    const teapot = await curl(`${proxy.url}/418`);
    assert.equal(teapot.status, 418);
    assert.match(teapot.body, /^<p>.*<\/p>$/, "the origin's 418 takes the 4xx page");
    const ok = await curl(`${proxy.url}/200`);
    assert.equal(ok.body, "origin body");
  } finally {
    await proxy.close();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
