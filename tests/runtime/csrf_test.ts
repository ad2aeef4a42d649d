/**
 * `csrf` end to end: the proxy in its own process, an echo origin, and curl with a cookie jar. The token path answers
 * `204` with the token in a cookie; GET passes; a POST passes only with the same valid token in the header and the
 * cookie; a missing, mismatched, forged or expired token is `401 Csrf token is empty or invalid` and never reaches the
 * origin.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type Echo, type Origin, startEchoOrigin } from "../_support/origin.ts";
import { curl } from "../_support/curl.ts";
import { type Child, spawnProxy } from "../_support/process.ts";

const KEY = "WjrXUG47wu-test-key";
const REFUSED = "Csrf token is empty or invalid";

/** A token as Pingap signs it, issued `ago` seconds back. */
function signed(key: string, ago: number): string {
  const prefix = `abcdefghijkl.${(Math.floor(Date.now() / 1000) - ago).toString(16)}`;
  return `${prefix}.${createHash("sha256").update(prefix + key).digest("base64")}`;
}

function config(origin: string): string {
  return `
[servers.s]
addr = "127.0.0.1:0"
locations = ["app", "long"]

[upstreams.main]
addrs = ["${origin}"]

[locations.app]
path = "/app"
upstream = "main"
plugins = ["csrf"]

[locations.long]
path = "/long"
upstream = "main"
plugins = ["csrfLong"]

[plugins.csrf]
category = "csrf"
token_path = "/app/csrf-token"
key = "${KEY}"
ttl = "10s"

[plugins.csrfLong]
category = "csrf"
token_path = "/long/csrf-token"
key = "${KEY}"
name = "X-Token"
`;
}

Deno.test({
  name: "csrf: token endpoint, cookie + header double submit, forged and expired tokens refused (curl, cookie jar)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const origin: Origin = await startEchoOrigin("main");
    const jar = await Deno.makeTempFile({ suffix: ".jar" });
    let child: Child | undefined;
    let file: string | undefined;
    try {
      const started = await spawnProxy(config(origin.addr));
      child = started.child;
      file = started.file;
      const base = `http://127.0.0.1:${started.port}`;

      const issued = await curl(`${base}/app/csrf-token`, "-c", jar);
      assert.equal(issued.status, 204);
      assert.equal(issued.headers.get("cache-control"), "private, no-store");
      const cookie = issued.headers.getSetCookie()[0]?.match(/^x-csrf-token=([^;]+); Path=\/; Max-Age=10$/);
      assert.ok(cookie, issued.headers.get("set-cookie") ?? "no set-cookie");
      const token = cookie[1]!;
      assert.equal(token.length, 66);
      assert.equal(origin.count(), 0, "the token path is answered by the proxy");
      const inJar = (await Deno.readTextFile(jar)).split("\n").find((l) => l.includes("x-csrf-token"));
      assert.ok(inJar?.endsWith(`\t${token}`), "curl stored the cookie");

      // Safe methods pass without a token.
      assert.equal((await curl(`${base}/app/page`)).status, 200);
      assert.equal((await curl(`${base}/app/page`, "-X", "OPTIONS")).status, 200);

      const posts = async (...args: string[]) => await curl(`${base}/app/form`, "-d", "a=1", ...args);
      const before = origin.count();
      for (
        const args of [
          [],
          ["-b", jar],
          ["-H", `x-csrf-token: ${token}`],
          ["-b", jar, "-H", "x-csrf-token: 123"],
          ["-b", "x-csrf-token=123", "-H", "x-csrf-token: 123"],
        ]
      ) {
        const r = await posts(...args);
        assert.equal(r.status, 401, args.join(" "));
        assert.equal(r.body, REFUSED);
      }
      const forged = signed("not-the-key", 0);
      assert.equal((await posts("-b", `x-csrf-token=${forged}`, "-H", `x-csrf-token: ${forged}`)).status, 401);
      const expired = signed(KEY, 100);
      assert.equal((await posts("-b", `x-csrf-token=${expired}`, "-H", `x-csrf-token: ${expired}`)).status, 401);
      assert.equal(origin.count(), before, "no refused request reached the origin");

      const ok = await posts("-b", jar, "-H", `x-csrf-token: ${token}`);
      assert.equal(ok.status, 200, ok.body);
      assert.equal((JSON.parse(ok.body) as Echo).bodyLength, 3);
      const fresh = signed(KEY, 1);
      assert.equal((await posts("-b", `x-csrf-token=${fresh}`, "-H", `x-csrf-token: ${fresh}`)).status, 200);

      // Without a ttl: no Max-Age, and an old token stays valid; `name` as written for the cookie.
      const long = await curl(`${base}/long/csrf-token`);
      assert.match(long.headers.getSetCookie()[0] ?? "", /^X-Token=[^;]{66}; Path=\/$/);
      const older = signed(KEY, 100_000);
      const r = await curl(`${base}/long/x`, "-X", "DELETE", "-b", `X-Token=${older}`, "-H", `x-token: ${older}`);
      assert.equal(r.status, 200, r.body);
      assert.doesNotMatch(child.output(), new RegExp(KEY), "the key is never logged");
    } finally {
      await child?.stop();
      if (file) await Deno.remove(file);
      await Deno.remove(jar);
      await origin.close();
    }
  },
});
