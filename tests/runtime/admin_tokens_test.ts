/**
 * The admin's credentials of Pingap 0.16 over real sockets (the proxy in its own process, `fetch` as the client):
 * `readonly_authorizations` and `readonly_tokens` read and are refused every write (403), `tokens` as
 * `Authorization: Bearer` may write and each write is logged with who made it, `/aes` encrypts and decrypts as
 * Pingap's storages do, and wrong tokens count toward `ip_fail_limit` until the IP is refused even with a good one.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnProxy } from "../_support/process.ts";
import { createHash } from "node:crypto";
import { loginToken } from "../../runtime/admin/mod.ts";

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

Deno.test("admin: read-only accounts and tokens read but never write; tokens write, logged; wrong ones count", async () => {
  const writer = "ci-t0ken-7f3a";
  const reader = "graf-t0ken-19b2";
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["adm"]

[locations.adm]
path = "/adm"
plugins = ["adm"]

[plugins.adm]
category = "admin"
path = "/adm"
authorizations = ["${btoa("ops:0ps")}"]
readonly_authorizations = ["${btoa("viewer:v1ew")}"]
tokens = ["ci:${sha256Hex(writer)}"]
readonly_tokens = ["grafana:${sha256Hex(reader)}"]
ip_fail_limit = 3
`);
  const api = `http://127.0.0.1:${port}/adm/api`;
  const call = async (path: string, authorization: string, method = "GET") => {
    const res = await fetch(`${api}${path}`, { method, headers: { authorization } });
    return `${res.status} ${method === "GET" && res.ok ? "" : await res.text()}`.trim();
  };
  const viewer = await loginToken({ user: "viewer", password: "v1ew" }, Math.floor(Date.now() / 1000));
  try {
    assert.equal(await call("/basic", viewer), "200");
    assert.equal(await call("/basic", `Bearer ${reader}`), "200");
    assert.equal(await call("/basic", `bearer ${writer}`), "200", "the scheme in any case");
    // /basic says whether the login may write: the UI hides its writes for a read-only one.
    const readonlyOf = async (authorization: string) =>
      ((await (await fetch(`${api}/basic`, { headers: { authorization } })).json()) as { readonly: unknown }).readonly;
    assert.equal(await readonlyOf(viewer), true);
    assert.equal(await readonlyOf(`Bearer ${reader}`), true);
    assert.equal(await readonlyOf(`Bearer ${writer}`), false);
    const ops = await loginToken({ user: "ops", password: "0ps" }, Math.floor(Date.now() / 1000));
    assert.equal(await readonlyOf(ops), false);
    for (const who of [viewer, `Bearer ${reader}`]) {
      assert.equal(await call("/restart", who, "POST"), "403 Forbidden, this account is read-only");
      assert.equal(await call("/configs/upstream/x", who, "DELETE"), "403 Forbidden, this account is read-only");
    }
    const wrote = await call("/configs/upstream/nope", `Bearer ${writer}`, "DELETE");
    assert.doesNotMatch(wrote, /^40[13]/, wrote);
    await child.waitFor(/DELETE \/adm\/api\/configs\/upstream\/nope by "ci" from 127\.0\.0\.1/);
    assert.doesNotMatch(child.output(), new RegExp(`${writer}|${reader}`), "tokens are never logged");
    // /aes: Pingap's AES-256-GCM-SIV of storage secrets, both ways.
    const aes = async (body: unknown, who = `Bearer ${writer}`) => {
      const res = await fetch(`${api}/aes`, {
        method: "POST",
        headers: { authorization: who },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() as Record<string, string> };
    };
    const key = "12345678901234567890123456789012";
    const sealed = await aes({ category: "encrypt", key, data: "hello" });
    assert.equal(sealed.status, 200);
    assert.equal(atob(sealed.body.value!).length, 5 + 16, "the text and the 16-byte tag");
    assert.deepEqual(await aes({ category: "decrypt", key, data: sealed.body.value }), {
      status: 200,
      body: { value: "hello" },
    });
    const wrongKey = await aes({ category: "decrypt", key: "other", data: sealed.body.value });
    assert.equal(wrongKey.status, 400);
    assert.match(wrongKey.body.message!, /does not decrypt with this key/);
    assert.equal((await aes({ category: "encrypt" })).status, 400, "no key or data");
    // Three wrong tokens: the IP is locked out, the good token too.
    for (const bad of [`Bearer ${writer}x`, "Bearer ", `Bearer ${reader.toUpperCase()}`]) {
      assert.equal(await call("/basic", bad), "401");
    }
    assert.equal(await call("/basic", `Bearer ${writer}`), "403 Forbidden, too many failures");
  } finally {
    await child.stop();
    await Deno.remove(file);
  }
});
