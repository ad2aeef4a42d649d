/**
 * `basic_auth` end to end: the proxy in its own process, an echo origin, curl as the client. Pingap's vector 68
 * (`YWRtaW46MTIzMTIz` with `hide_credentials`: `Basic YWRtaW46MTIzMTIz` passes without the header,
 * `Basic YWRtaW46MTIzMTIa` is refused), its answers (statuses, bodies, `WWW-Authenticate`), the case-insensitive
 * scheme, and that a refused request never reaches the origin.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";
import { curl } from "../_support/curl.ts";

const CHALLENGE = 'Basic realm="Access to the staging site"';

Deno.test("basic_auth: Pingap's vector 68 and its answers, over real sockets with curl", async () => {
  const origin = await startEchoOrigin("app");
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["hidden", "kept"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.hidden]
path = "/hidden"
upstream = "app"
plugins = ["hide"]

[locations.kept]
path = "/kept"
upstream = "app"
plugins = ["keep"]

[plugins.hide]
category = "basic_auth"
authorizations = ["YWRtaW46MTIzMTIz"]
hide_credentials = true

[plugins.keep]
category = "basic_auth"
authorizations = ["YWRtaW46MTIzMTIz", "cGluZ2FwOjEyMzEyMw=="]
delay = "50ms"
`);
  const url = `http://127.0.0.1:${port}`;
  try {
    // admin:123123 through curl's own Basic support: passes, and the origin never sees the header.
    const ok = await curl("-u", "admin:123123", `${url}/hidden/a`);
    assert.equal(ok.status, 200, ok.body);
    const echo = JSON.parse(ok.body) as Echo;
    assert.equal(echo.path, "/hidden/a");
    assert.equal(echo.headers["authorization"], undefined);

    // The scheme in any case, spaces after it: still Basic (Pingap 0.16).
    assert.equal((await curl("-H", "Authorization: basic   YWRtaW46MTIzMTIz", `${url}/hidden/b`)).status, 200);

    // One character off: 401 with the challenge; nothing reaches the origin.
    const before = origin.count();
    const wrong = await curl("-H", "Authorization: Basic YWRtaW46MTIzMTIa", `${url}/hidden/c`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body, "Invalid user or password");
    assert.equal(wrong.headers.get("www-authenticate"), CHALLENGE);
    assert.equal(wrong.headers.get("cache-control"), "private, no-cache");

    const missing = await curl(`${url}/hidden/d`);
    assert.equal(missing.status, 401);
    assert.equal(missing.body, "Authorization is missing");
    assert.equal(missing.headers.get("www-authenticate"), CHALLENGE);

    // Another scheme, a prefix of a good value, the user without the password: all wrong.
    for (const value of ["Bearer YWRtaW46MTIzMTIz", "BasicYWRtaW46MTIzMTIz", "Basic YWRtaW46MTIz"]) {
      const r = await curl("-H", `Authorization: ${value}`, `${url}/hidden/e`);
      assert.equal(r.status, 401, value);
      assert.equal(r.body, "Invalid user or password", value);
    }
    assert.equal(origin.count(), before, "refused requests never reach the origin");

    // Without hide_credentials the origin gets the header; the second account works too; a failure waits `delay`.
    const kept = await curl("-u", "pingap:123123", `${url}/kept`);
    assert.equal(kept.status, 200);
    assert.equal((JSON.parse(kept.body) as Echo).headers["authorization"], "Basic cGluZ2FwOjEyMzEyMw==");
    const slow = await curl("-u", "pingap:wrong", `${url}/kept`);
    assert.equal(slow.status, 401);
    assert.equal(slow.body, "Invalid user or password");
    assert.doesNotMatch(child.output(), /YWRtaW46|cGluZ2Fw|123123/, "credentials are never logged");
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});

Deno.test("basic_auth: ip_fail_limit blocks a client IP after its wrong credentials; realm names the challenge", async () => {
  const origin = await startEchoOrigin("app");
  const { child, port, file } = await spawnProxy(`
[basic]
trusted_proxies = ["127.0.0.1"]

[servers.s]
addr = "127.0.0.1:0"
locations = ["admin"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.admin]
path = "/"
upstream = "app"
plugins = ["limited"]

[plugins.limited]
category = "basic_auth"
authorizations = ["YWRtaW46MTIzMTIz"]
ip_fail_limit = 2
ip_fail_window = "1h"
realm = 'Admin "zone"'
`);
  const url = `http://127.0.0.1:${port}/`;
  const from = (ip: string, ...args: string[]) => curl("-H", `X-Forwarded-For: ${ip}`, ...args, url);
  try {
    const first = await from("10.0.0.1", "-u", "admin:wrong");
    assert.equal(first.status, 401);
    assert.equal(first.headers.get("www-authenticate"), 'Basic realm="Admin \\"zone\\""');
    assert.equal((await from("10.0.0.1", "-u", "admin:wrong")).status, 401);
    // Two failures: blocked, the right password too, until the window ends.
    const blocked = await from("10.0.0.1", "-u", "admin:123123");
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body, "Forbidden, too many failures");
    assert.equal(blocked.headers.get("cache-control"), "private, no-store");
    // Another client is not touched; a missing header is no failure.
    assert.equal((await from("10.0.0.2", "-u", "admin:123123")).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await from("10.0.0.3")).status, 401);
    assert.equal((await from("10.0.0.3", "-u", "admin:123123")).status, 200);
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});

Deno.test("basic_auth htpasswd over real sockets: bcrypt and argon2 accounts with curl -u", async () => {
  // OpenBSD's bcrypt vector ("U*U", as htpasswd -B writes it) and argon2's reference vector ("password").
  const bcrypt = "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
  const argon2 = "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA";
  const origin = await startEchoOrigin("app");
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.l]
upstream = "app"
plugins = ["hashed"]

[plugins.hashed]
category = "basic_auth"
htpasswd = ["alice:${bcrypt}", "bob:${argon2}"]
`);
  const url = `http://127.0.0.1:${port}/x`;
  try {
    for (const user of ["alice:U*U", "alice:U*U", "bob:password"]) {
      const ok = await curl("-u", user, url);
      assert.equal(ok.status, 200, `${user}: ${ok.body}`);
      assert.equal((JSON.parse(ok.body) as Echo).path, "/x");
    }
    const before = origin.count();
    for (const user of ["alice:password", "bob:U*U", "carol:U*U", "alice:"]) {
      const r = await curl("-u", user, url);
      assert.equal(r.status, 401, user);
      assert.equal(r.body, "Invalid user or password", user);
      assert.equal(r.headers.get("www-authenticate"), CHALLENGE);
    }
    assert.equal(origin.count(), before, "refused requests never reach the origin");
    assert.doesNotMatch(child.output(), /U\*U|password|\$2y\$|argon2i/, "neither passwords nor hashes are logged");
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});
