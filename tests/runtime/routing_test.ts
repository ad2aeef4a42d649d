/**
 * Routing against real origins (issue 3): every path kind (`=exact`,
 * prefix, `~regex`), every host kind (exact, `*.suffix`, `~regex` with
 * captures feeding `upstream = "$name"`), weight ordering, 404 when nothing
 * matches, match_headers / match_query / match_cookies, and rewrite with
 * captures and the query kept — all checked at the origin.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, type Origin, startEchoOrigin } from "../_support/origin.ts";
import { get, rawExchange, rawJson, rawRequest, startTestProxy, type TestProxy } from "../_support/proxy.ts";

interface Env {
  proxy: TestProxy;
  main: Origin;
  alpha: Origin;
  beta: Origin;
}

async function withRouting(fn: (env: Env) => Promise<void>): Promise<void> {
  const main = await startEchoOrigin("main");
  const alpha = await startEchoOrigin("alpha");
  const beta = await startEchoOrigin("beta");
  const loc = (name: string, body: string) => `[locations.${name}]\n${body}\nproxy_set_headers = ["X-Loc:${name}"]\n`;
  const toml = `
[servers.s]
addr = "127.0.0.1:0"
locations = [
  "exact", "prefix", "regex", "heavy", "heavyExact",
  "hostExact", "hostWild", "hostRegex", "hostAny",
  "headers", "query", "cookies", "mAny",
  "rewriteNamed", "rewriteNumbered", "rewriteUpstream",
]

[upstreams.main]
addrs = ["${main.addr}"]
[upstreams.alpha]
addrs = ["${alpha.addr}"]
[upstreams.beta]
addrs = ["${beta.addr}"]

${loc("exact", 'path = "=/api"\nupstream = "main"')}
${loc("prefix", 'path = "/api"\nupstream = "main"')}
[locations.regex]
path = "~/v(?<ver>[0-9]+)/"
upstream = "main"
proxy_set_headers = ["X-Loc:regex", "X-Ver:$ver"]
${loc("heavy", 'path = "/heavy"\nweight = 2000\nupstream = "main"')}
${loc("heavyExact", 'path = "=/heavy/x"\nupstream = "main"')}
${loc("hostExact", 'host = "exact.test"\npath = "/h"\nupstream = "main"')}
${loc("hostWild", 'host = "*.wild.test"\npath = "/h"\nupstream = "main"')}
[locations.hostRegex]
host = "~^(?<name>alpha|beta)\\\\.svc\\\\.test$"
path = "/h"
upstream = "$name"
proxy_set_headers = ["X-Loc:hostRegex"]
${loc("hostAny", 'path = "/h"\nupstream = "main"')}
${loc("headers", 'path = "/m"\nmatch_headers = ["x-version:2", "x-canary"]\nupstream = "main"')}
${loc("query", 'path = "/m"\nmatch_query = ["ver:2"]\nupstream = "main"')}
${loc("cookies", 'path = "/m"\nmatch_cookies = ["session"]\nupstream = "main"')}
${loc("mAny", 'path = "/m"\nupstream = "main"')}
${loc("rewriteNamed", 'path = "/rw/"\nrewrite = "^/rw/(?<rest>.*)$ /$rest"\nupstream = "main"')}
${loc("rewriteNumbered", 'path = "/old/"\nrewrite = "^/old/(.*)$ /new/$1"\nupstream = "main"')}
${loc("rewriteUpstream", 'path = "/users/"\nrewrite = "^/users/(?<upstream>.*?)/(.*)$ /$2"\nupstream = "$upstream"')}
`;
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(toml);
    await fn({ proxy, main, alpha, beta });
  } finally {
    await proxy?.close();
    await main.close();
    await alpha.close();
    await beta.close();
  }
}

/** GET through the proxy (raw HTTP/1.1, so the Host header is ours), returning the origin's echo. */
async function echoVia(
  proxy: TestProxy,
  path: string,
  init: { host?: string; headers?: Record<string, string> } = {},
): Promise<Echo> {
  const res = await rawRequest(proxy.port, "GET", path, { host: init.host ?? "127.0.0.1", ...init.headers });
  assert.equal(res.status, 200, new TextDecoder().decode(res.body));
  return rawJson<Echo>(res);
}

Deno.test("routing: each path kind, weight order and 404 reach the right location", async () => {
  await withRouting(async ({ proxy }) => {
    // `=/api` (1029) beats `/api` (516); the prefix takes the rest, including `/apis` (plain string prefix).
    assert.equal((await echoVia(proxy, "/api")).headers["x-loc"], "exact");
    assert.equal((await echoVia(proxy, "/api/users")).headers["x-loc"], "prefix");
    assert.equal((await echoVia(proxy, "/apis")).headers["x-loc"], "prefix");
    // A regex path matches anywhere (unanchored), and its named group is a variable.
    const re = await echoVia(proxy, "/x/v2/items?q=1");
    assert.equal(re.headers["x-loc"], "regex");
    assert.equal(re.headers["x-ver"], "2");
    assert.equal(re.path, "/x/v2/items");
    assert.equal(re.query, "q=1");
    // The prefix wins over the regex when both match (516+ > 261+).
    assert.equal((await echoVia(proxy, "/api/v3/")).headers["x-loc"], "prefix");
    // An explicit weight (2000) beats a computed exact weight (1032).
    assert.equal((await echoVia(proxy, "/heavy/x")).headers["x-loc"], "heavy");
    // Nothing matches: 404 with the proxy's error body, the origin is not asked.
    const miss = await get(`${proxy.url}/nothing/here`);
    assert.equal(miss.status, 404);
    assert.equal(miss.headers.get("x-pingap-etype"), "no_location");
    assert.match(miss.text, /No matching location/);
  });
});

Deno.test("routing: exact, *.suffix and ~regex hosts; regex captures pick the upstream", async () => {
  await withRouting(async ({ proxy, alpha, beta }) => {
    assert.equal((await echoVia(proxy, "/h", { host: "exact.test" })).headers["x-loc"], "hostExact");
    assert.equal((await echoVia(proxy, "/h", { host: "EXACT.test:8080" })).headers["x-loc"], "hostExact");
    assert.equal((await echoVia(proxy, "/h", { host: "a.wild.test" })).headers["x-loc"], "hostWild");
    assert.equal((await echoVia(proxy, "/h", { host: "x.y.wild.test" })).headers["x-loc"], "hostWild");
    // The apex is not a subdomain, and a look-alike is not one either.
    assert.equal((await echoVia(proxy, "/h", { host: "wild.test" })).headers["x-loc"], "hostAny");
    assert.equal((await echoVia(proxy, "/h", { host: "evilwild.test" })).headers["x-loc"], "hostAny");
    assert.equal((await echoVia(proxy, "/h", { host: "other.test" })).headers["x-loc"], "hostAny");
    // `upstream = "$name"` from the host regex's named group.
    const a = await echoVia(proxy, "/h/x", { host: "alpha.svc.test" });
    assert.equal(a.name, "alpha");
    assert.equal(a.headers["x-loc"], "hostRegex");
    assert.equal(a.headers["host"], "alpha.svc.test");
    const b = await echoVia(proxy, "/h/x", { host: "beta.svc.test" });
    assert.equal(b.name, "beta");
    assert.equal(alpha.count(), 1);
    assert.equal(beta.count(), 1);
    assert.equal((await echoVia(proxy, "/h", { host: "gamma.svc.test" })).headers["x-loc"], "hostAny");
    // The same through a raw HTTP/1.1 request (Host header exactly as sent).
    const raw = await rawExchange(
      proxy.port,
      "GET /h HTTP/1.1\r\nHost: a.wild.test\r\nConnection: close\r\n\r\n",
    );
    assert.ok(raw);
    assert.equal(raw.status, 200);
    assert.equal(rawJson<Echo>(raw).headers["x-loc"], "hostWild");
    // An absolute-form target's authority wins over the Host header (RFC 9112 §3.2.2; inventory §2.2, vector 120).
    const absolute = async (target: string, host: string) => {
      const res = await rawExchange(proxy.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.equal(res?.status, 200);
      return rawJson<Echo>(res!);
    };
    const abs = await absolute("http://exact.test/h?x=1", "other.test");
    assert.equal(abs.headers["x-loc"], "hostExact");
    assert.equal(abs.path, "/h");
    assert.equal(abs.query, "x=1");
    assert.equal((await absolute("http://a.wild.test:8080/h", "other.test")).headers["x-loc"], "hostWild");
    // User info in the target is an error (RFC 9110 §4.2.4; nginx's 400; Pingap drops it).
    const userinfo = await rawExchange(
      proxy.port,
      "GET http://user:pass@a.wild.test:8080/h HTTP/1.1\r\nHost: a.wild.test:8080\r\nConnection: close\r\n\r\n",
    );
    assert.equal(userinfo?.status, 400);
    assert.equal((await absolute("http://exact.test.evil/h", "exact.test")).headers["x-loc"], "hostAny");
  });
});

Deno.test("routing: match_headers, match_query and match_cookies are AND conditions", async () => {
  await withRouting(async ({ proxy }) => {
    const loc = async (path: string, headers: Record<string, string> = {}) =>
      (await echoVia(proxy, path, { headers })).headers["x-loc"];
    assert.equal(await loc("/m"), "mAny");
    assert.equal(await loc("/m", { "x-version": "2" }), "mAny");
    assert.equal(await loc("/m", { "x-version": "2", "x-canary": "anything" }), "headers");
    assert.equal(await loc("/m", { "x-version": "3", "x-canary": "y" }), "mAny");
    assert.equal(await loc("/m?ver=2"), "query");
    assert.equal(await loc("/m?a=1&ver=2"), "query");
    assert.equal(await loc("/m?ver=3"), "mAny");
    assert.equal(await loc("/m?ver=20"), "mAny");
    assert.equal(await loc("/m", { cookie: "id=1; session=abc" }), "cookies");
    assert.equal(await loc("/m", { cookie: "sessionx=abc" }), "mAny");
  });
});

Deno.test("routing: rewrite with named and numbered captures keeps the query; captures choose the upstream", async () => {
  await withRouting(async ({ proxy, alpha, main }) => {
    const named = await echoVia(proxy, "/rw/users/1?x=1&y=a%20b");
    assert.equal(named.name, "main");
    assert.equal(named.path, "/users/1");
    assert.equal(named.query, "x=1&y=a%20b");
    const numbered = await echoVia(proxy, "/old/thing?x=1");
    assert.equal(numbered.path, "/new/thing");
    assert.equal(numbered.query, "x=1");
    // No query stays no query.
    const plain = await echoVia(proxy, "/old/a/b");
    assert.equal(plain.path, "/new/a/b");
    assert.equal(plain.query, "");
    // Inventory vector 17: the rewrite's named group is a variable, here the upstream's name.
    const before = main.count();
    const up = await echoVia(proxy, "/users/alpha/me?abc=1");
    assert.equal(up.name, "alpha");
    assert.equal(up.path, "/me");
    assert.equal(up.query, "abc=1");
    assert.equal(alpha.count(), 1);
    assert.equal(main.count(), before);
    // A capture naming no upstream: 503 from the proxy.
    const none = await get(`${proxy.url}/users/nope/me`);
    assert.equal(none.status, 503);
    assert.equal(none.headers.get("x-pingap-etype"), "no_upstream");
  });
});
