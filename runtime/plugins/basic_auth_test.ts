/** `basic_auth` and `key_auth` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, type Echoed, planOf } from "./_test_utils.ts";
import { HashedAccounts, VERIFIED_TTL } from "./basic_auth_hashed.ts";

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["basic", "key"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.basic]
path = "/basic"
upstream = "u"
plugins = ["auth"]
[locations.key]
path = "/key"
upstream = "u"
plugins = ["keys"]
[plugins.auth]
category = "basic_auth"
authorizations = ["YWRtaW46MTIzMTIz"]
hide_credentials = true
[plugins.keys]
category = "key_auth"
header = "X-User"
keys = ["123", "456"]
hide_credentials = true
`);

Deno.test("basic_auth: the account passes without its credentials upstream; none or a wrong one is 401", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const ok = await h.request("http://a.test/basic/x", { headers: { authorization: "Basic YWRtaW46MTIzMTIz" } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as Echoed).headers["authorization"], undefined, "hide_credentials");
    const missing = await h.request("http://a.test/basic/x");
    assert.equal(missing.status, 401);
    assert.equal(await missing.text(), "Authorization is missing");
    assert.match(missing.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    const wrong = await h.request("http://a.test/basic/x", { headers: { authorization: "Basic d3Jvbmc6d3Jvbmc=" } });
    assert.equal(wrong.status, 401);
    assert.equal(await wrong.text(), "Invalid user or password");
  } finally {
    await h.dispose();
  }
});

Deno.test("key_auth: a listed key passes without the header upstream; none or another is 401", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const ok = await h.request("http://a.test/key/x", { headers: { "x-user": "456" } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as Echoed).headers["x-user"], undefined, "hide_credentials");
    const missing = await h.request("http://a.test/key/x");
    assert.equal(missing.status, 401);
    assert.equal(await missing.text(), "Key missing");
    const wrong = await h.request("http://a.test/key/x", { headers: { "x-user": "789" } });
    assert.equal(wrong.status, 401);
    assert.equal(await wrong.text(), "Key auth fail");
  } finally {
    await h.dispose();
  }
});

/** bcrypt of "U*U" (OpenBSD's test vector) and argon2i of "password" with salt "somesalt" (the reference tests'). */
const BCRYPT = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
const ARGON2 = "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA";

const hashedPlan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["auth"]
[plugins.auth]
category = "basic_auth"
authorizations = ["${btoa("plain:p-secret")}"]
htpasswd = ["alice:${BCRYPT.replace("$2a$", "$2y$")}", "bob:${ARGON2}"]
hide_credentials = true
ip_fail_limit = 3
`);

Deno.test("basic_auth htpasswd: bcrypt and argon2 accounts pass with their password, anything else is 401", async () => {
  const h = planHarness(hashedPlan, { upstream: echo });
  try {
    const ask = async (user: string, password: string) => {
      const res = await h.request(
        new Request("http://a.test/x", { headers: { authorization: `Basic ${btoa(`${user}:${password}`)}` } }),
      );
      if (res.headers.get("x-origin") !== "1") return `${res.status} ${await res.text()}`;
      const seen = (await res.json()) as Echoed;
      return `${res.status} upstream${seen.headers["authorization"] ? " with credentials" : ""}`;
    };
    assert.equal(await ask("alice", "U*U"), "200 upstream");
    assert.equal(await ask("alice", "U*U"), "200 upstream", "remembered: passes again");
    assert.equal(await ask("bob", "password"), "200 upstream");
    assert.equal(await ask("plain", "p-secret"), "200 upstream", "authorizations still count");
    assert.equal(await ask("alice", "password"), "401 Invalid user or password", "another account's password");
    assert.equal(await ask("carol", "U*U"), "401 Invalid user or password", "no such user");
    assert.equal(await ask("bob", "passwore"), "401 Invalid user or password");
    // Three wrong ones from this client: now even the right password is refused.
    assert.equal(await ask("alice", "U*U"), "403 Forbidden, too many failures");
  } finally {
    await h.dispose();
  }
});

Deno.test("basic_auth htpasswd: credentials that passed are remembered by a keyed digest, wrong ones are not", async () => {
  const accounts = new HashedAccounts([{ user: "alice", kind: "bcrypt", hash: BCRYPT }]);
  try {
    const good = btoa("alice:U*U");
    assert.equal(accounts.isVerified(good), false);
    assert.equal(await accounts.verify(btoa("alice:nope"), () => true), false);
    assert.equal(accounts.isVerified(btoa("alice:nope")), false);
    assert.equal(await accounts.verify(good, () => false), undefined, "blocked while waiting: not computed");
    assert.equal(await accounts.verify(good, () => true), true);
    assert.equal(accounts.isVerified(good), true);
    assert.equal(accounts.isVerified(good, Date.now() + VERIFIED_TTL + 1), false, "forgotten after the TTL");
  } finally {
    accounts.dispose();
  }
});
