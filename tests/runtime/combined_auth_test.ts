/**
 * `combined_auth` end to end: the proxy in its own process, an echo origin, curl as the client. Pingap's vectors 105
 * and 106: app `pingap` (secret `abcd`, 60 s deviation, IPs 127.0.0.1 and 192.168.1.0/24) refused with each of Pingap's
 * reasons in its order (no app id, an unknown one, an IP outside the list, no `ts`, `ts=123`, no digest, a wrong
 * digest), let through with the digest of `abcd:<ts>`; a `*` app passes without any check; the IP is the client IP
 * of `trusted_proxies`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";
import { curl } from "../_support/curl.ts";

const digest = (secret: string, ts: string) => createHash("sha256").update(`${secret}:${ts}`).digest("hex");

Deno.test("combined_auth: Pingap's vectors 105 and 106 over real sockets with curl", async () => {
  const origin = await startEchoOrigin("app");
  const { child, port, file } = await spawnProxy(`
[basic]
trusted_proxies = ["127.0.0.1"]

[servers.s]
addr = "127.0.0.1:0"
locations = ["api"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.api]
path = "/"
upstream = "app"
plugins = ["apps"]

[plugins.apps]
category = "combined_auth"
authorizations = [
  { app_id = "pingap", secret = "abcd", deviation = 60, ip_list = ["127.0.0.1", "192.168.1.0/24"] },
  { app_id = "remote", secret = "efgh", deviation = 60, ip_list = ["10.0.0.0/8"] },
  { app_id = "internal", secret = "*" },
]
`);
  const url = `http://127.0.0.1:${port}/vicanso/pingap`;
  const ts = String(Math.floor(Date.now() / 1000));
  const refused = async (query: string, ...args: string[]) => {
    const r = await curl(...args, `${url}?${query}`);
    assert.equal(r.status, 401, `${query}: ${r.body}`);
    assert.equal(r.headers.get("cache-control"), "private, no-store");
    return r.body.replace(/^Plugin combined_auth invalid, message: /, "");
  };
  try {
    const before = origin.count();
    assert.equal(await refused("size=1"), "app id is empty");
    assert.equal(await refused("app_id=abc"), "app id is invalid");
    assert.equal(await refused("app_id=pingap", "-H", "X-Forwarded-For: 1.1.1.1"), "ip is invalid");
    assert.equal(await refused("app_id=pingap"), "timestamp is empty");
    assert.equal(await refused("app_id=pingap&ts=123"), "timestamp deviation is invalid");
    assert.equal(await refused("app_id=pingap&ts=12a"), "invalid digit found in string");
    assert.equal(await refused(`app_id=pingap&ts=${ts}`), "digest is empty");
    assert.equal(await refused(`app_id=pingap&ts=${ts}&digest=${digest("abce", ts)}`), "digest is invalid");
    assert.equal(
      await refused(`app_id=pingap&ts=${ts}&digest=${digest("abcd", String(Number(ts) - 1))}`),
      "digest is invalid",
    );
    const full = await curl("--get", url, "--data", "app_id=abc");
    assert.equal(full.body, "Plugin combined_auth invalid, message: app id is invalid");
    assert.equal(origin.count(), before, "refused requests never reach the origin");

    // The digest of abcd:<ts> (hex, any case) from an allowed client passes, with the query as it came.
    const good = `app_id=pingap&ts=${ts}&digest=${digest("abcd", ts)}`;
    const ok = await curl(`${url}?${good}`);
    assert.equal(ok.status, 200, ok.body);
    assert.equal((JSON.parse(ok.body) as Echo).query, good);
    assert.equal((await curl(`${url}?app_id=pingap&ts=${ts}&digest=${digest("abcd", ts).toUpperCase()}`)).status, 200);
    assert.equal((await curl("-H", "X-Forwarded-For: 192.168.1.7", `${url}?${good}`)).status, 200);
    // An app bound to 10/8: the client a trusted proxy names counts.
    const remote = `app_id=remote&ts=${ts}&digest=${digest("efgh", ts)}`;
    assert.equal(await refused(remote), "ip is invalid");
    assert.equal((await curl("-H", "X-Forwarded-For: 10.1.2.3", `${url}?${remote}`)).status, 200);
    // The super user: no ts, no digest, any IP.
    assert.equal((await curl("-H", "X-Forwarded-For: 1.1.1.1", `${url}?app_id=internal`)).status, 200);
    assert.doesNotMatch(child.output(), /abcd|efgh/, "secrets are never logged");
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});
