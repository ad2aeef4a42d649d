/**
 * Upstream request headers against a real origin (issue 3, inventory §2.6
 * and vectors 111–114): every header variable, an environment variable,
 * `$http_*`, literal values, the reverse-proxy defaults, set-then-add order,
 * and hop-by-hop headers dropped.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, type Origin, startEchoOrigin } from "../_support/origin.ts";
import { rawJson, rawRequest, startTestProxy, type TestProxy } from "../_support/proxy.ts";

const ENV_NAME = "PINGAP_RUNTIME_TEST_ENV";

async function withProxy(fn: (proxy: TestProxy, origin: Origin) => Promise<void>): Promise<void> {
  Deno.env.set(ENV_NAME, "from-the-environment");
  const origin = await startEchoOrigin("main");
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["vars", "defaults", "plain"]

[upstreams.main]
addrs = ["${origin.addr}"]

[locations.vars]
path = "/vars"
upstream = "main"
proxy_set_headers = [
  "X-Host:$host",
  "X-Scheme:$scheme",
  "X-Remote-Addr:$remote_addr",
  "X-Remote-Port:$remote_port",
  "X-Server-Addr:$server_addr",
  "X-Server-Port:$server_port",
  "X-Upstream-Addr:$upstream_addr",
  "X-Fwd:$proxy_add_x_forwarded_for",
  "X-Custom-Copy:$http_x_custom",
  "X-Origin-Copy:$http_origin",
  "X-Env:$${ENV_NAME}",
  "X-No-Env:$PINGAP_RUNTIME_TEST_NO_SUCH_VAR",
  "X-Literal:UUID",
  "X-Hostname:$hostname",
  "X-Location::location",
  "X-Custom:overwritten",
]
proxy_add_headers = ["X-Added:one", "X-Added:two"]

[locations.defaults]
path = "/defaults"
upstream = "main"
enable_reverse_proxy_headers = true
proxy_set_headers = ["X-Trace-Id:ab"]
proxy_add_headers = ["X-Server:123", "X-Server:456"]

[locations.plain]
path = "/plain"
upstream = "main"
`);
    await fn(proxy, origin);
  } finally {
    await proxy?.close();
    await origin.close();
    Deno.env.delete(ENV_NAME);
  }
}

Deno.test("headers: every variable of proxy_set_headers is substituted at the origin", async () => {
  await withProxy(async (proxy, origin) => {
    const res = await rawRequest(proxy.port, "GET", "/vars?a=1", {
      host: "pingap.io:8080",
      "x-custom": "custom-value",
      origin: "https://github.com",
      "x-forwarded-for": "1.1.1.1, 2.2.2.2",
    });
    assert.equal(res.status, 200);
    const h = rawJson<Echo>(res).headers;
    assert.equal(h["x-host"], "pingap.io");
    assert.equal(h["host"], "pingap.io:8080", "the client's Host is passed on");
    assert.equal(h["x-scheme"], "http");
    assert.equal(h["x-remote-addr"], "127.0.0.1");
    assert.equal(h["x-remote-port"], String(res.localPort));
    assert.equal(h["x-server-addr"], "127.0.0.1");
    assert.equal(h["x-server-port"], String(proxy.port));
    assert.equal(h["x-upstream-addr"], origin.addr);
    assert.equal(h["x-fwd"], "1.1.1.1, 2.2.2.2, 127.0.0.1");
    assert.equal(h["x-custom-copy"], "custom-value");
    assert.equal(h["x-origin-copy"], "https://github.com");
    assert.equal(h["x-env"], "from-the-environment");
    assert.equal(h["x-no-env"], "$PINGAP_RUNTIME_TEST_NO_SUCH_VAR", "unresolvable: literal kept");
    assert.equal(h["x-literal"], "UUID");
    assert.equal(h["x-hostname"], Deno.hostname());
    assert.equal(h["x-location"], "vars");
    assert.equal(h["x-custom"], "overwritten", "set replaces the client's value");
    assert.equal(h["x-added"], "one, two");
    // The client's own X-Forwarded-For is passed on untouched without the defaults.
    assert.equal(h["x-forwarded-for"], "1.1.1.1, 2.2.2.2");
    assert.equal(h["x-real-ip"], undefined);
  });
});

Deno.test("headers: $proxy_add_x_forwarded_for without a client X-Forwarded-For is the peer", async () => {
  await withProxy(async (proxy) => {
    const res = await rawRequest(proxy.port, "GET", "/vars", { host: "a.test" });
    const h = rawJson<Echo>(res).headers;
    assert.equal(h["x-fwd"], "127.0.0.1");
    assert.equal(h["x-custom-copy"], "", "a missing header renders empty");
  });
});

Deno.test("headers: enable_reverse_proxy_headers defaults, then set, then add (vector 114)", async () => {
  await withProxy(async (proxy) => {
    const res = await rawRequest(proxy.port, "GET", "/defaults", {
      host: "github.com",
      "x-forwarded-for": "1.1.1.1, 192.168.1.2",
      "x-server": "from-client",
    });
    const h = rawJson<Echo>(res).headers;
    assert.equal(h["x-real-ip"], "127.0.0.1");
    assert.equal(h["x-forwarded-for"], "1.1.1.1, 192.168.1.2, 127.0.0.1");
    assert.equal(h["x-forwarded-proto"], "http");
    assert.equal(h["x-forwarded-host"], "github.com");
    assert.equal(h["x-forwarded-port"], String(proxy.port));
    assert.equal(h["x-trace-id"], "ab");
    assert.equal(h["x-server"], "from-client, 123, 456", "add appends to what the client sent");
  });
});

Deno.test("headers: hop-by-hop headers are not forwarded; end-to-end ones and the body are", async () => {
  await withProxy(async (proxy) => {
    const res = await rawRequest(proxy.port, "POST", "/plain", {
      host: "a.test",
      "keep-alive": "timeout=5",
      "x-drop-me": "1",
      connection: "x-drop-me",
      te: "trailers",
      "proxy-connection": "keep-alive",
      trailer: "x-sum",
      "x-keep": "kept",
      "content-type": "text/plain",
    }, "hello body");
    assert.equal(res.status, 200);
    const echo = rawJson<Echo>(res);
    assert.equal(echo.method, "POST");
    assert.equal(echo.bodyLength, 10);
    assert.equal(echo.headers["x-keep"], "kept");
    assert.equal(echo.headers["content-type"], "text/plain");
    assert.equal(echo.headers["x-drop-me"], undefined);
    assert.equal(echo.headers["keep-alive"], undefined);
    assert.equal(echo.headers["te"], undefined);
    assert.equal(echo.headers["proxy-connection"], undefined);
    assert.equal(echo.headers["trailer"], undefined);
    // The origin's response headers come back.
    assert.equal(res.headers["x-origin"], "main");
  });
});
