/**
 * `key_auth` end to end: the proxy in its own process, an echo origin, curl as the client. Pingap's vectors 85–87
 * (header `X-User`, keys 123 and 456, `hide_credentials`: `X-User: 123` passes without the header, `X-User: 12` gets
 * `401 Key auth fail`, none `401 Key missing`) and its query test (`?user=123&type=1` reaches the upstream as
 * `?type=1`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";
import { curl } from "../_support/curl.ts";

Deno.test("key_auth: Pingap's vectors 85-87 and the query key, over real sockets with curl", async () => {
  const origin = await startEchoOrigin("app");
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["header", "query", "kept"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.header]
path = "/h"
upstream = "app"
plugins = ["byHeader"]

[locations.query]
path = "/q"
upstream = "app"
plugins = ["byQuery"]

[locations.kept]
path = "/k"
upstream = "app"
plugins = ["kept"]

[plugins.byHeader]
category = "key_auth"
header = "X-User"
keys = ["123", "456"]
hide_credentials = true

[plugins.byQuery]
category = "key_auth"
query = "user"
keys = ["123", "456"]
hide_credentials = true

[plugins.kept]
category = "key_auth"
header = "X-Api-Key"
keys = ["k-1"]
delay = "50ms"
`);
  const url = `http://127.0.0.1:${port}`;
  try {
    const ok = await curl("-H", "X-User: 123", `${url}/h/vicanso/pingap?size=1`);
    assert.equal(ok.status, 200, ok.body);
    const echo = JSON.parse(ok.body) as Echo;
    assert.equal(echo.headers["x-user"], undefined, "the key is hidden from the upstream");
    assert.equal(echo.query, "size=1");
    assert.equal((await curl("-H", "X-User: 456", `${url}/h`)).status, 200);

    const before = origin.count();
    const wrong = await curl("-H", "X-User: 12", `${url}/h`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body, "Key auth fail");
    const missing = await curl(`${url}/h`);
    assert.equal(missing.status, 401);
    assert.equal(missing.body, "Key missing");
    assert.equal((await curl("-H", "X-User;", `${url}/h`)).body, "Key missing", "an empty header is no key");
    // The header key is not read from the query, nor the query key from a header.
    assert.equal((await curl(`${url}/h?X-User=123`)).body, "Key missing");
    assert.equal((await curl("-H", "user: 123", `${url}/q`)).body, "Key missing");

    // Query: the key is taken out of the query the upstream gets, the rest kept in order.
    const q = await curl(`${url}/q/vicanso/pingap?user=123&type=1`);
    assert.equal(q.status, 200, q.body);
    assert.equal((JSON.parse(q.body) as Echo).query, "type=1");
    assert.equal((JSON.parse(q.body) as Echo).path, "/q/vicanso/pingap");
    const q2 = await curl(`${url}/q?a=1&user=456`);
    assert.equal((JSON.parse(q2.body) as Echo).query, "a=1");
    assert.equal((await curl(`${url}/q?user=12`)).body, "Key auth fail");
    assert.equal((await curl(`${url}/q?user`)).body, "Key missing");
    assert.equal((await curl(`${url}/q?users=123`)).body, "Key missing");
    assert.equal(origin.count(), before + 2, "only the two good requests reached the origin");

    // Without hide_credentials the upstream gets the key.
    const kept = await curl("-H", "X-Api-Key: k-1", `${url}/k`);
    assert.equal((JSON.parse(kept.body) as Echo).headers["x-api-key"], "k-1");
    const slow = await curl("-H", "X-Api-Key: k-2", `${url}/k`);
    assert.equal(slow.status, 401);
    assert.equal(slow.body, "Key auth fail");
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});
