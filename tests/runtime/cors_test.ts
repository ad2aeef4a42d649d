/**
 * The `cors` plugin through the real proxy and a real origin, with curl: Pingap's vector (an `OPTIONS` preflight on
 * `^/api` answered 204 with every CORS header, the origin echoed from `$http_origin`), headers set over the upstream's
 * on answers to requests with `Origin`, nothing on requests without it or off the path, and a preflight without
 * `Origin` refused (400) when the allowed origin is `$http_origin`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

interface Curl {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** `curl -sS -D - <args> <url>`: status, headers (lower-cased) and body. */
async function curl(url: string, ...args: string[]): Promise<Curl> {
  const out = await new Deno.Command("curl", { args: ["-sS", "-i", ...args, url], stdout: "piped" }).output();
  assert.ok(out.success, `curl ${args.join(" ")} ${url}: ${new TextDecoder().decode(out.stderr)}`);
  const text = new TextDecoder().decode(out.stdout);
  const end = text.indexOf("\r\n\r\n");
  const lines = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(lines[0]!.split(" ")[1]), headers, body: text.slice(end + 4) };
}

Deno.test("cors: Pingap's vector — a preflight on the path gets 204 and every header, the origin echoed", async () => {
  let reached = 0;
  const origin = await startOrigin("api", () => {
    reached++;
    return new Response("data", { headers: { "access-control-allow-origin": "https://upstream.example" } });
  });
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["api"]

[upstreams.api]
addrs = ["${origin.addr}"]

[locations.api]
path = "/"
upstream = "api"
plugins = ["cors"]

[plugins.cors]
category = "cors"
path = "^/api"
allow_methods = "GET"
allow_origin = "$http_origin"
allow_credentials = true
allow_headers = "Content-Type, X-User-Id"
expose_headers = "Content-Encoding, Kuma-Revision"
max_age = "60m"
`);
  try {
    const pre = await curl(`${proxy.url}/api/pingap?size=1`, "-X", "OPTIONS", "-H", "Origin: https://pingap.io");
    assert.equal(pre.status, 204);
    assert.equal(pre.headers["access-control-allow-origin"], "https://pingap.io");
    assert.equal(pre.headers["access-control-allow-methods"], "GET");
    assert.equal(pre.headers["access-control-allow-headers"], "Content-Type, X-User-Id");
    assert.equal(pre.headers["access-control-max-age"], "3600");
    assert.equal(pre.headers["access-control-allow-credentials"], "true");
    assert.equal(pre.headers["access-control-expose-headers"], "Content-Encoding, Kuma-Revision");
    assert.equal(reached, 0, "a preflight is answered by the proxy");

    const get = await curl(`${proxy.url}/api/items`, "-H", "Origin: https://app.example");
    assert.equal(get.status, 200);
    assert.equal(get.body, "data");
    assert.equal(get.headers["access-control-allow-origin"], "https://app.example", "set over the upstream's");
    assert.equal(get.headers["access-control-allow-credentials"], "true");

    const noOrigin = await curl(`${proxy.url}/api/items`);
    assert.equal(noOrigin.headers["access-control-allow-origin"], "https://upstream.example", "left as it was");
    assert.equal(noOrigin.headers["access-control-allow-methods"], undefined);

    const offPath = await curl(`${proxy.url}/other`, "-H", "Origin: https://app.example");
    assert.equal(offPath.headers["access-control-allow-methods"], undefined, "off the path: untouched");
    const offPathPre = await curl(`${proxy.url}/other`, "-X", "OPTIONS", "-H", "Origin: https://app.example");
    assert.equal(offPathPre.status, 200, "an OPTIONS off the path goes to the upstream");

    const bare = await curl(`${proxy.url}/api/x`, "-X", "OPTIONS");
    assert.equal(bare.status, 400, "$http_origin without Origin");
    assert.equal(bare.body, "Allow origin is invalid");
    assert.equal(reached, 4);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cors: defaults — any path, origin *, the default methods and a max age of an hour", async () => {
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all"]

[locations.all]
path = "/"
plugins = ["cors", "pingap:ping"]

[plugins.cors]
category = "cors"
`);
  try {
    const pre = await curl(`${proxy.url}/anything`, "-X", "OPTIONS", "-H", "Origin: https://x.example");
    assert.equal(pre.status, 204);
    assert.equal(pre.headers["access-control-allow-origin"], "*");
    assert.equal(pre.headers["access-control-allow-methods"], "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    assert.equal(pre.headers["access-control-max-age"], "3600");
    assert.equal(pre.headers["access-control-allow-credentials"], undefined);
  } finally {
    await proxy.close();
  }
});
