/**
 * `hmac_auth` end to end: the proxy in its own process, an echo origin, curl as the client with a signature made the
 * way a client library makes it (HMAC over `(request-target)`, `host`, `date`). A good signature passes (and, with
 * `hide_credentials`, the origin never sees it); a rewritten location still checks the target the client sent; the
 * same signature on another path, a stale date, no signature or an unknown key get 401 with the challenge.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";
import { curl } from "../_support/curl.ts";

const CHALLENGE = 'Signature realm="pingap",headers="(request-target) host date"';

function authorization(key: string, secret: string, method: string, target: string, host: string, date: string) {
  const text = `(request-target): ${method.toLowerCase()} ${target}\nhost: ${host}\ndate: ${date}`;
  const signature = createHmac("sha256", secret).update(text).digest("base64");
  return `Authorization: Signature keyId="${key}",algorithm="hmac-sha256",headers="(request-target) host date",` +
    `signature="${signature}"`;
}

Deno.test("hmac_auth: signed requests over real sockets with curl", async () => {
  const origin = await startEchoOrigin("app");
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["v1", "body", "api"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.v1]
path = "/v1"
upstream = "app"
rewrite = "^/v1/(.*)$ /$1"
plugins = ["signed"]

[locations.body]
path = "/body"
upstream = "app"
plugins = ["signedBody"]

[plugins.signedBody]
category = "hmac_auth"
keys = ["app1:s3cret"]
validate_body = true

[locations.api]
path = "/"
upstream = "app"
plugins = ["signed"]

[plugins.signed]
category = "hmac_auth"
keys = ["app1:s3cret", "app2:a:b"]
hide_credentials = true
`);
  const url = `http://127.0.0.1:${port}`;
  const host = `127.0.0.1:${port}`;
  const date = new Date().toUTCString();
  const send = (auth: string, target: string, d = date, ...args: string[]) =>
    curl("-H", `Date: ${d}`, "-H", auth, ...args, `${url}${target}`);
  try {
    const ok = await send(authorization("app1", "s3cret", "GET", "/api/users?page=2", host, date), "/api/users?page=2");
    assert.equal(ok.status, 200, ok.body);
    const echo = JSON.parse(ok.body) as Echo;
    assert.equal(echo.query, "page=2");
    assert.equal(echo.headers["authorization"], undefined, "hidden from the upstream");
    // A secret with a colon; a POST.
    const post = await send(authorization("app2", "a:b", "POST", "/orders", host, date), "/orders", date, "-d", "x=1");
    assert.equal(post.status, 200, post.body);
    // Behind a rewrite, the target the client signed and sent is what counts.
    const v1 = await send(authorization("app1", "s3cret", "GET", "/v1/users", host, date), "/v1/users");
    assert.equal(v1.status, 200, v1.body);
    assert.equal((JSON.parse(v1.body) as Echo).path, "/users");

    const before = origin.count();
    const refused = async (auth: string, target: string, d = date) => {
      const r = await send(auth, target, d);
      assert.equal(r.status, 401, r.body);
      assert.equal(r.headers.get("www-authenticate"), CHALLENGE);
      return r.body;
    };
    const good = authorization("app1", "s3cret", "GET", "/api/users?page=2", host, date);
    assert.equal(await refused(good, "/api/users?page=3"), "Signature invalid");
    assert.equal(await refused(good, "/api/admin?page=2"), "Signature invalid");
    assert.equal(await refused(good.replace("app1", "app9"), "/api/users?page=2"), "Signature invalid");
    const old = new Date(Date.now() - 3600_000).toUTCString();
    assert.equal(
      await refused(authorization("app1", "s3cret", "GET", "/x", host, old), "/x", old),
      "The date of the request is too far from now",
    );
    assert.equal(await refused("X-No: 1", "/x"), "Signature missing");
    assert.equal(await refused("Authorization: Basic YWRtaW46MTIz", "/x"), "Signature missing");
    assert.equal(
      await refused(good.replace("(request-target) host date", "host date"), "/api/users?page=2"),
      "Signature should cover (request-target)",
    );
    assert.equal(origin.count(), before, "refused requests never reach the origin");
    assert.doesNotMatch(child.output(), /s3cret|signature=/, "secrets and signatures are never logged");
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});

Deno.test("hmac_auth: validate_body holds the body to the signed Content-Digest, over real sockets with curl", async () => {
  const origin = await startEchoOrigin("app");
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["body"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.body]
path = "/"
upstream = "app"
plugins = ["signedBody"]

[plugins.signedBody]
category = "hmac_auth"
keys = ["app1:s3cret"]
validate_body = true
`);
  const url = `http://127.0.0.1:${port}`;
  const host = `127.0.0.1:${port}`;
  const date = new Date().toUTCString();
  const body = "x".repeat(200_000);
  const digest = `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
  const signedPost = (target: string) => {
    const text = `(request-target): post ${target}\nhost: ${host}\ndate: ${date}\ncontent-digest: ${digest}`;
    const signature = createHmac("sha256", "s3cret").update(text).digest("base64");
    return [
      "-H",
      `Date: ${date}`,
      "-H",
      `Content-Digest: ${digest}`,
      "-H",
      `Authorization: Signature keyId="app1",headers="(request-target) host date content-digest",signature="${signature}"`,
    ];
  };
  const bodyFile = await Deno.makeTempFile();
  const otherFile = await Deno.makeTempFile();
  await Deno.writeTextFile(bodyFile, body);
  await Deno.writeTextFile(otherFile, body.slice(0, -1) + "y");
  try {
    const ok = await curl(...signedPost("/orders"), "--data-binary", `@${bodyFile}`, `${url}/orders`);
    assert.equal(ok.status, 200, ok.body);
    assert.equal((JSON.parse(ok.body) as Echo).bodyLength, body.length);
    // The same signature and digest with one byte changed at the end: cut off with 401.
    const changed = await curl(...signedPost("/orders"), "--data-binary", `@${otherFile}`, `${url}/orders`);
    assert.equal(changed.status, 401, changed.body);
    // A body whose digest is not signed; a body of unknown length.
    const get = authorization("app1", "s3cret", "POST", "/plain", host, date);
    const unsigned = await curl("-H", `Date: ${date}`, "-H", get, "--data-binary", `@${bodyFile}`, `${url}/plain`);
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.body, "Signature should cover the digest of the body");
    const chunked = await curl(
      ...signedPost("/orders"),
      "-H",
      "Transfer-Encoding: chunked",
      "--data-binary",
      `@${bodyFile}`,
      `${url}/orders`,
    );
    assert.equal(chunked.status, 411);
    assert.equal(chunked.body, "A signed body needs a Content-Length");
    // No body, no digest: nothing to hold it to.
    const bare = await curl(
      "-H",
      `Date: ${date}`,
      "-H",
      authorization("app1", "s3cret", "GET", "/x", host, date),
      `${url}/x`,
    );
    assert.equal(bare.status, 200, bare.body);
  } finally {
    await child.stop();
    await Deno.remove(file);
    await Deno.remove(bodyFile);
    await Deno.remove(otherFile);
    await origin.close();
  }
});
