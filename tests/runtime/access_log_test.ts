/**
 * Access-log lines for real exchanges (inventory §4): fixed tags, request
 * and response headers, cookies, context keys and the request id, with `-`
 * for missing values.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startEchoOrigin } from "../_support/origin.ts";
import { get, rawRequest, startTestProxy } from "../_support/proxy.ts";
import { until } from "../_support/load.ts";

Deno.test("access log: one line per request with the configured tags", async () => {
  const origin = await startEchoOrigin("main");
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
access_log = "{method} {host} {path} {query} {status} {remote} {:upstream_addr} {:location} {request_id} {>x-a} {<x-origin} {~sid}|"
locations = ["ping", "all"]
[locations.ping]
path = "=/ping"
plugins = ["pingap:ping"]
[locations.all]
upstream = "main"
plugins = ["pingap:requestId"]
[upstreams.main]
addrs = ["${origin.addr}"]
`);
  try {
    const res = await rawRequest(proxy.port, "GET", "/items?x=1", {
      host: "shop.test",
      "x-a": "A",
      cookie: "sid=s1; other=2",
      "x-request-id": "rid-1",
    });
    assert.equal(res.status, 200);
    assert.equal((await get(`${proxy.url}/ping`)).text, "pong");
    // A plugin's answer keeps its content-length on a logged server (no counting stream, so not chunked).
    const pong = await rawRequest(proxy.port, "GET", "/ping", { host: "127.0.0.1" });
    assert.equal(pong.headers["content-length"], "4");
    assert.equal(pong.headers["transfer-encoding"], undefined);
    await until(() => Promise.resolve(proxy.logs.length >= 3));
    proxy.logs.pop();
    assert.equal(proxy.logs.length, 2, proxy.logs.join("\n"));
    assert.equal(
      proxy.logs[0],
      `GET shop.test /items x=1 200 127.0.0.1 ${origin.addr} all rid-1 A main s1|`,
    );
    assert.equal(proxy.logs[1], `GET 127.0.0.1 /ping - 200 127.0.0.1  ping - - - |`);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("access log: an upstream's answer written as it came is logged with its status, size and headers", async () => {
  const origin = await startEchoOrigin("main");
  // No plugin, no request id: the HTTP/1.1 front end writes the upstream's answer without a Response.
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
access_log = "{status} {size} {<x-origin} {>x-a} {:upstream_addr}|"
locations = ["all"]
[locations.all]
upstream = "main"
[upstreams.main]
addrs = ["${origin.addr}"]
`);
  try {
    const res = await rawRequest(proxy.port, "GET", "/plain", { host: "shop.test", "x-a": "A" });
    assert.equal(res.status, 200);
    const second = await rawRequest(proxy.port, "GET", "/other", { host: "shop.test" });
    await until(() => Promise.resolve(proxy.logs.length >= 2));
    assert.deepEqual(proxy.logs, [
      `200 ${res.body.byteLength} main A ${origin.addr}|`,
      `${second.status} ${second.body.byteLength} main - ${origin.addr}|`,
    ]);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test('access log: the "json" preset writes one JSON object a line, values escaped', async () => {
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
access_log = "json"
locations = ["ping"]
[locations.ping]
path = "=/ping"
plugins = ["pingap:ping"]
`);
  try {
    const agent = 'curl "quoted" \\ back';
    const res = await rawRequest(proxy.port, "GET", "/ping?a=%22", { host: "json.test", "user-agent": agent });
    assert.equal(res.status, 200);
    await until(() => Promise.resolve(proxy.logs.length >= 1));
    const line = JSON.parse(proxy.logs[0]!);
    assert.equal(line.user_agent, agent);
    assert.equal(line.host, "json.test");
    assert.equal(line.method, "GET");
    assert.equal(line.uri, "/ping?a=%22");
    assert.equal(line.status, 200);
    assert.equal(typeof line.latency, "number");
  } finally {
    await proxy.close();
  }
});
