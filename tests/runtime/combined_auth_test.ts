/**
 * `combined_auth` end to end: the proxy in its own process, an echo origin, curl as the client. A request signed with
 * the app's secret (`digest` = hex SHA-256 of `secret:ts`) within `deviation` passes; each failure is `401`,
 * `Cache-Control: private, no-store` and Pingap's message, and never reaches the origin; an app's `ip_list` is matched
 * against the peer, which an `X-Forwarded-For` from an untrusted client does not change.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { curl } from "../_support/curl.ts";
import { type Child, spawnProxy } from "../_support/process.ts";

function signed(app: string, secret: string, skew = 0): string {
  const ts = String(Math.floor(Date.now() / 1000) + skew);
  return `app_id=${app}&ts=${ts}&digest=${createHash("sha256").update(`${secret}:${ts}`).digest("hex")}`;
}

Deno.test({
  name: "combined_auth: signed requests pass; each failure is 401 with Pingap's message; ip_list is the peer (curl)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const origin = await startEchoOrigin("main");
    let child: Child | undefined;
    let file: string | undefined;
    try {
      const started = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["api"]

[upstreams.main]
addrs = ["${origin.addr}"]

[locations.api]
path = "/api"
upstream = "main"
plugins = ["apps"]

[plugins.apps]
category = "combined_auth"
authorizations = [
  { app_id = "local", secret = "l0cal-secret", deviation = 30, ip_list = ["127.0.0.1"] },
  { app_id = "office", secret = "0ffice-secret", deviation = 30, ip_list = ["10.0.0.0/8"] },
  { app_id = "root", secret = "*" },
]
`);
      child = started.child;
      file = started.file;
      const api = `http://127.0.0.1:${started.port}/api/orders`;

      const ok = await curl(`${api}?${signed("local", "l0cal-secret")}&size=1`);
      assert.equal(ok.status, 200, ok.body);
      const echo = JSON.parse(ok.body) as Echo;
      assert.equal(echo.path, "/api/orders");
      assert.match(echo.query, /^app_id=local&ts=\d+&digest=[0-9a-f]{64}&size=1$/);
      assert.equal((await curl(`${api}?app_id=root`)).status, 200, "a super user passes");

      const before = origin.count();
      const refused: [string, string[], string][] = [
        ["", [], "app id is empty"],
        ["app_id=nobody", [], "app id is invalid"],
        [signed("office", "0ffice-secret"), ["-H", "X-Forwarded-For: 10.1.2.3"], "ip is invalid"],
        ["app_id=local", [], "timestamp is empty"],
        ["app_id=local&ts=abc", [], "invalid digit found in string"],
        [signed("local", "l0cal-secret", -3600), [], "timestamp deviation is invalid"],
        [`app_id=local&ts=${Math.floor(Date.now() / 1000)}`, [], "digest is empty"],
        [signed("local", "wrong-secret"), [], "digest is invalid"],
      ];
      for (const [query, args, reason] of refused) {
        const r = await curl(query === "" ? api : `${api}?${query}`, ...args);
        assert.equal(r.status, 401, query);
        assert.equal(r.body, `Plugin combined_auth invalid, message: ${reason}`);
        assert.equal(r.headers.get("cache-control"), "private, no-store");
      }
      assert.equal(origin.count(), before, "no refused request reached the origin");
      assert.doesNotMatch(child.output(), /l0cal-secret|0ffice-secret/, "secrets are never logged");
    } finally {
      await child?.stop();
      if (file) await Deno.remove(file);
      await origin.close();
    }
  },
});
