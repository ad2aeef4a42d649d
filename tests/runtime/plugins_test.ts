/**
 * The runtime plugins through a real proxy and origin (issue 3): ping,
 * mock, redirect (http_to_https with prefix, 301), request_id (at the
 * origin and on the response), response_headers, stats.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, type Origin, startEchoOrigin } from "../_support/origin.ts";
import { get, getJson, rawExchange, rawJson, rawRequest, startTestProxy, type TestProxy } from "../_support/proxy.ts";

async function withProxy(fn: (proxy: TestProxy, origin: Origin) => Promise<void>): Promise<void> {
  const origin = await startEchoOrigin("main");
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
# The wire tests send two requests in one write.
h1_pipelining = true
locations = ["ping", "mock", "redirect", "rid", "nano", "rh", "mockHeaders", "stats"]

[upstreams.main]
addrs = ["${origin.addr}"]

[locations.ping]
path = "=/ping"
plugins = ["pingap:ping"]

[locations.mock]
path = "/mock"
upstream = "main"
plugins = ["mock1"]

[locations.redirect]
path = "/r"
plugins = ["toHttps"]
upstream = "main"

[locations.rid]
path = "/rid"
upstream = "main"
plugins = ["pingap:requestId"]

[locations.nano]
path = "/nano"
upstream = "main"
plugins = ["nanoId"]

[locations.rh]
path = "/rh"
upstream = "main"
plugins = ["headers"]

[locations.mockHeaders]
path = "/mh"
plugins = ["mock2", "headers"]

[locations.stats]
path = "/stats"
plugins = ["pingap:stats"]

[plugins.mock1]
category = "mock"
path = "/mock/x"
status = 500
headers = ["Content-Type:application/json", "X-Mock:1"]
data = '{"error":"mocked"}'

[plugins.mock2]
category = "mock"
headers = ["Content-Type:text/plain"]
data = "mocked"

[plugins.toHttps]
category = "redirect"
http_to_https = true
prefix = "/api"
status = 301

[plugins.nanoId]
category = "request_id"
algorithm = "nanoid"
size = 10

[plugins.headers]
category = "response_headers"
add_headers = ["X-Service:1", "X-Service:2"]
set_headers = ["X-Response-Id:123", "X-Served-Host:$host"]
remove_headers = ["X-Origin"]
set_headers_not_exists = ["X-Response-Id:abc", "X-Tag:userTag"]
`);
    await fn(proxy, origin);
  } finally {
    await proxy?.close();
    await origin.close();
  }
}

Deno.test("plugins: ping answers pong; mock answers its path only", async () => {
  await withProxy(async (proxy, origin) => {
    const ping = await get(`${proxy.url}/ping`);
    assert.equal(ping.status, 200);
    assert.equal(ping.text, "pong");
    const mock = await get(`${proxy.url}/mock/x`);
    assert.equal(mock.status, 500);
    assert.equal(mock.headers.get("content-type"), "application/json");
    assert.equal(mock.headers.get("x-mock"), "1");
    assert.deepEqual(JSON.parse(mock.text), { error: "mocked" });
    assert.equal(origin.count(), 0);
    // Another path of the location: the mock skips and the origin answers.
    const passed = await getJson<Echo>(`${proxy.url}/mock/y`);
    assert.equal(passed.path, "/mock/y");
    assert.equal(origin.count(), 1);
  });
});

Deno.test("plugins: ping and mock answers on the wire: exact fields, HEAD without a body, response hooks still apply", async () => {
  await withProxy(async (proxy) => {
    const text = (raw: Uint8Array) => new TextDecoder().decode(raw).replace(/^date: .*\r\n/m, "date: -\r\n");
    // Two on one connection: the fixed answer's bytes are shared, the second must be as whole as the first.
    const one = "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n";
    const ping = await rawExchange(proxy.port, `${one}${one.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")}`);
    const answer = "HTTP/1.1 200 OK\r\ncache-control: private, no-cache\r\ncontent-type: text/plain;charset=UTF-8\r\n" +
      "date: -\r\ncontent-length: 4\r\n\r\npong";
    const [first, second] = text(ping!.raw).split(/(?<=pong)/);
    assert.equal(first, answer);
    assert.equal(
      second!.replace(/^date: .*\r\n/m, "date: -\r\n"),
      answer.replace("date: -\r\n", "date: -\r\nconnection: close\r\n"),
    );

    const head = await rawRequest(proxy.port, "HEAD", "/ping", { host: "t" });
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], "4");
    assert.equal(head.body.byteLength, 0);

    const mock = await rawRequest(proxy.port, "GET", "/mock/x", { host: "t" });
    assert.equal(mock.status, 500);
    assert.match(
      text(mock.raw),
      /^HTTP\/1\.1 500 Internal Server Error\r\ncontent-type: application\/json\r\nx-mock: 1\r\n/,
    );
    assert.equal(new TextDecoder().decode(mock.body), '{"error":"mocked"}');

    // A mock with a response_headers plugin after it: the hooks see and change the answer.
    const hooked = await rawRequest(proxy.port, "GET", "/mh", { host: "t" });
    assert.equal(hooked.status, 200);
    assert.equal(hooked.headers["x-response-id"], "123");
    assert.equal(hooked.headers["x-service"], "1, 2");
    assert.equal(new TextDecoder().decode(hooked.body), "mocked");
  });
});

Deno.test("plugins: redirect to https under a prefix with status 301 (vectors 93–95)", async () => {
  await withProxy(async (proxy, origin) => {
    const res = await rawRequest(proxy.port, "GET", "/r/vicanso/pingap?size=1", { host: "github.com" });
    assert.equal(res.status, 301);
    assert.equal(res.headers["location"], "https://github.com/api/r/vicanso/pingap?size=1");
    assert.equal(origin.count(), 0);
    const fetched = await fetch(`${proxy.url}/r/x`, { redirect: "manual" });
    await fetched.body?.cancel();
    assert.equal(fetched.status, 301);
    assert.equal(fetched.headers.get("location"), `https://127.0.0.1:${proxy.port}/api/r/x`);
  });
});

Deno.test("plugins: request_id reaches the origin and the response; an existing id is kept", async () => {
  await withProxy(async (proxy) => {
    const res = await fetch(`${proxy.url}/rid`);
    const echo = await res.json() as Echo;
    const id = echo.headers["x-request-id"];
    assert.ok(id, "the origin got an id");
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "UUID v7");
    assert.equal(res.headers.get("x-request-id"), id);
    const kept = await fetch(`${proxy.url}/rid`, { headers: { "x-request-id": "123" } });
    assert.equal((await kept.json() as Echo).headers["x-request-id"], "123");
    assert.equal(kept.headers.get("x-request-id"), "123");
    const nano = await fetch(`${proxy.url}/nano`);
    const nanoId = (await nano.json() as Echo).headers["x-request-id"];
    assert.equal(nanoId?.length, 10);
    assert.equal(nano.headers.get("x-request-id"), nanoId);
  });
});

Deno.test("plugins: response_headers adds, sets, removes and sets-if-absent (vector 98)", async () => {
  await withProxy(async (proxy) => {
    const res = await rawRequest(proxy.port, "GET", "/rh", { host: "svc.test" });
    assert.equal(res.status, 200);
    assert.equal(res.headers["x-service"], "1, 2");
    assert.equal(res.headers["x-response-id"], "123");
    assert.equal(res.headers["x-tag"], "userTag");
    assert.equal(res.headers["x-served-host"], "svc.test");
    assert.equal(res.headers["x-origin"], undefined, "removed");
    assert.equal(rawJson<Echo>(res).path, "/rh");
    // Also on a response a plugin produced.
    const mocked = await get(`${proxy.url}/mh`);
    assert.equal(mocked.text, "mocked");
    assert.equal(mocked.headers.get("x-service"), "1, 2");
    assert.equal(mocked.headers.get("x-tag"), "userTag");
  });
});

Deno.test("plugins: stats answers JSON with the process figures", async () => {
  await withProxy(async (proxy) => {
    await get(`${proxy.url}/ping`);
    const stats = await getJson<Record<string, unknown>>(`${proxy.url}/stats`);
    for (const key of ["processing", "accepted", "start_time", "uptime", "memory_mb", "cpus"]) {
      assert.equal(typeof stats[key], "number", `${key}: ${JSON.stringify(stats[key])}`);
    }
    for (const key of ["hostname", "version", "memory", "arch"]) {
      assert.equal(typeof stats[key], "string", `${key}: ${JSON.stringify(stats[key])}`);
    }
    assert.ok((stats.accepted as number) >= 2);
    assert.ok((stats.processing as number) >= 1, "the stats request itself is in flight");
    const accepted = stats.location_accepted as Record<string, number>;
    assert.equal(accepted.ping, 1);
    assert.equal(accepted.stats, 1);
    assert.equal(typeof (stats.location_processing as Record<string, number>).ping, "number");
  });
});
