/**
 * `forward_auth` end to end: the proxy in its own process, a real auth service (`Deno.serve`) the test starts, an
 * echo origin, and curl as the client. A `2xx` lets the request through with the auth answer's `add_headers` on it
 * (and a client's own copy of those headers removed); `401`, `403` and `302` reach the client with status, headers
 * and body; only `request_headers` are forwarded; a refused auth service and one that never answers both fail closed
 * with `502` and an error line, and the origin never sees the request.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Echo,
  freePort,
  type Origin,
  startEchoOrigin,
  startOrigin,
  startSilentOrigin,
} from "../_support/origin.ts";
import { curl } from "../_support/curl.ts";
import { type Child, spawnProxy } from "../_support/process.ts";

/** What the auth service saw last, by path. */
type Seen = Map<string, Record<string, string>>;

function startAuthService(seen: Seen): Promise<Origin> {
  return startOrigin("auth", (req) => {
    const path = new URL(req.url).pathname;
    seen.set(path, Object.fromEntries(req.headers));
    switch (path) {
      case "/allow":
        return new Response("fine", { headers: { "x-user-id": "42", "x-other": "no" } });
      case "/allow-bare":
        return new Response(null, { status: 204 });
      case "/deny401":
        return new Response("who are you", {
          status: 401,
          headers: [["www-authenticate", 'Bearer realm="t"'], ["set-cookie", "a=1"], ["set-cookie", "b=2"]],
        });
      case "/deny403":
        return new Response("go away", { status: 403, headers: { "content-type": "text/plain" } });
      case "/login":
        return new Response(null, { status: 302, headers: { location: "https://sso.test/login" } });
      default:
        return new Response("unknown", { status: 500 });
    }
  });
}

function config(auth: string, origin: string, dead: number, silent: string): string {
  const loc = (name: string, plugin: string) =>
    `[locations.${name}]\npath = "/${name}"\nupstream = "main"\nplugins = ["${plugin}"]\n`;
  const fa = (name: string, url: string, extra = "") =>
    `[plugins.${name}]\ncategory = "forward_auth"\nauth_url = "${url}"\n${extra}\n`;
  return `
[servers.s]
addr = "127.0.0.1:0"
locations = ["allow", "bare", "deny401", "deny403", "login", "only", "dead", "slow"]

[upstreams.main]
addrs = ["${origin}"]

${loc("allow", "faAllow")}
${loc("bare", "faBare")}
${loc("deny401", "fa401")}
${loc("deny403", "fa403")}
${loc("login", "faLogin")}
${loc("only", "faOnly")}
${loc("dead", "faDead")}
${loc("slow", "faSlow")}
${fa("faAllow", `http://${auth}/allow`, 'add_headers = ["X-User-Id"]')}
${fa("faBare", `http://${auth}/allow-bare`, 'add_headers = ["X-User-Id"]')}
${fa("fa401", `http://${auth}/deny401`)}
${fa("fa403", `http://${auth}/deny403`)}
${fa("faLogin", `http://${auth}/login`)}
${fa("faOnly", `http://${auth}/allow`, 'request_headers = ["Authorization"]')}
${fa("faDead", `http://127.0.0.1:${dead}/verify`)}
${fa("faSlow", `http://${silent}/verify`, 'timeout = "1s"')}
`;
}

Deno.test({
  name: "forward_auth: 2xx passes with copied headers; 401/403/302 relayed; dead and hanging auth fail closed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const seen: Seen = new Map();
    const auth = await startAuthService(seen);
    const origin = await startEchoOrigin("main");
    const silent = startSilentOrigin();
    let child: Child | undefined;
    let file: string | undefined;
    try {
      const started = await spawnProxy(config(auth.addr, origin.addr, freePort(), silent.addr));
      child = started.child;
      file = started.file;
      const base = `http://127.0.0.1:${started.port}`;

      // 2xx: through to the origin with the auth answer's X-User-Id (the client's own replaced).
      const ok = await curl(`${base}/allow/x?q=1`, "-H", "Authorization: Bearer t0k", "-H", "X-User-Id: admin");
      assert.equal(ok.status, 200, ok.body);
      const echo = JSON.parse(ok.body) as Echo;
      assert.equal(echo.path, "/allow/x");
      assert.equal(echo.headers["x-user-id"], "42");
      assert.equal(echo.headers["x-other"], undefined, "only add_headers are copied");
      assert.equal(echo.headers["authorization"], "Bearer t0k");
      const sent = seen.get("/allow")!;
      assert.equal(sent["authorization"], "Bearer t0k");
      assert.equal(sent["x-forwarded-method"], "GET");
      assert.equal(sent["x-forwarded-uri"], "/allow/x?q=1");
      assert.equal(sent["x-forwarded-host"], "127.0.0.1");
      assert.equal(sent["x-forwarded-proto"], "http");
      assert.equal(sent["x-forwarded-for"], "127.0.0.1");
      assert.equal(sent["host"], auth.addr, "the auth service gets its own Host");

      // A 2xx without the header: the client's own X-User-Id does not reach the origin.
      const bare = await curl(`${base}/bare`, "-H", "X-User-Id: admin");
      assert.equal(bare.status, 200, bare.body);
      assert.equal((JSON.parse(bare.body) as Echo).headers["x-user-id"], undefined);

      // A POST: its body stays for the origin; the auth GET gets no content-length.
      const post = await curl(`${base}/allow`, "-d", "hello");
      assert.equal(post.status, 200);
      assert.equal((JSON.parse(post.body) as Echo).bodyLength, 5);
      assert.equal(seen.get("/allow")!["content-length"], undefined);
      assert.equal(seen.get("/allow")!["x-forwarded-method"], "POST");

      // request_headers: only Authorization (and the X-Forwarded-* set) go to the auth service.
      await curl(`${base}/only`, "-H", "Authorization: Basic eA==", "-H", "Cookie: s=1");
      assert.equal(seen.get("/allow")!["authorization"], "Basic eA==");
      assert.equal(seen.get("/allow")!["cookie"], undefined);
      assert.equal(seen.get("/allow")!["x-forwarded-uri"], "/only");

      const hitsBefore = origin.count();
      const denied = await curl(`${base}/deny401`);
      assert.equal(denied.status, 401);
      assert.equal(denied.body, "who are you");
      assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="t"');
      assert.deepEqual(denied.headers.getSetCookie(), ["a=1", "b=2"]);
      const forbidden = await curl(`${base}/deny403`);
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body, "go away");
      const login = await curl(`${base}/login`);
      assert.equal(login.status, 302, "a redirect is the verdict, not followed");
      assert.equal(login.headers.get("location"), "https://sso.test/login");

      const dead = await curl(`${base}/dead`, "--max-time", "20");
      assert.equal(dead.status, 502);
      assert.equal(dead.body, "Forward auth request failed");
      const slow = await curl(`${base}/slow`, "--max-time", "20");
      assert.equal(slow.status, 502);
      assert.equal(slow.body, "Forward auth request failed");
      assert.ok(silent.accepted() >= 1, "the hanging auth service was asked");
      assert.equal(origin.count(), hitsBefore, "no denied or failed request reached the origin");

      const lines = child.output().split("\n").filter((l) => l.includes("forward auth subrequest failed"));
      assert.equal(lines.length, 2, child.output());
      assert.match(lines[0]!, /plugin=faDead/);
      assert.match(lines[1]!, /plugin=faSlow .*timed out after 1000 ms/);
      assert.doesNotMatch(child.output(), /t0k|eA==/, "credentials are never logged");
    } finally {
      await child?.stop();
      if (file) await Deno.remove(file);
      await silent.close();
      await origin.close();
      await auth.close();
    }
  },
});
