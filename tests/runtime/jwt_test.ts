/**
 * `jwt` end to end: the proxy in its own process, real origins, curl as the client, tokens signed by jose. Pingap's
 * vectors 81 and 82 (the HS256 token of secret `123123` and its HS512 twin pass; no token, `Bearer a.b`, a wrong
 * signature and `exp` 1716903265 get their 401 bodies), the header, cookie and query sources, RS256 and ES256 with a
 * public key, a JWKS served by a real HTTP server, `alg: none` and algorithm confusion refused, and the `auth_path`
 * that signs the upstream's answer into a token that then opens the other paths.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT, UnsecuredJWT } from "jose";
import { type Echo, echoHandler, type Origin, startOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";
import { curl } from "../_support/curl.ts";

/** Pingap's vector 81: HS256, secret 123123, `{"name":"John","admin":true,"exp":2348055265}`. */
const VECTOR_81 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYW1lIjoiSm9obiIsImFkbWluIjp0cnVlLCJleHAiOjIzNDgwNTUyNjV9." +
  "j6sYJ2dCCSxskwPmvHM7WniGCbkT30z2BrjfsuQLFJc";

const now = () => Math.floor(Date.now() / 1000);
const text = (s: string) => new TextEncoder().encode(s);

function hs(alg: string, secret: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(text(secret));
}

/** The origin: `/api/login` answers what a login service would (its `mode` query picks a failure); the rest echo. */
async function startApp(): Promise<Origin> {
  const echo = echoHandler("app");
  return await startOrigin("app", (req, info) => {
    const url = new URL(req.url);
    if (url.pathname !== "/api/login") return echo(req, info);
    const mode = url.searchParams.get("mode");
    const claims = { sub: "u1", exp: now() + 600, ae: req.headers.get("accept-encoding") };
    if (mode === "denied") return new Response("wrong password", { status: 401 });
    if (mode === "noexp") return Response.json({ sub: "u1" });
    if (mode === "gzip") {
      const body = new Blob([JSON.stringify(claims)]).stream().pipeThrough(new CompressionStream("gzip"));
      return new Response(body, { headers: { "content-encoding": "gzip", "content-type": "application/json" } });
    }
    return Response.json(claims);
  });
}

Deno.test("jwt: Pingap's vectors, every source and key kind, a JWKS server and the auth_path, with curl", async () => {
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const ec = await generateKeyPair("ES256", { extractable: true });
  const other = await generateKeyPair("RS256", { extractable: true });
  const rsa384 = await generateKeyPair("RS384", { extractable: true });
  const rsaPem = await exportSPKI(rsa.publicKey);
  const jwk = { ...await exportJWK(ec.publicKey), kid: "k1", alg: "ES256", use: "sig" };
  let jwksHits = 0;
  const jwks = await startOrigin("jwks", () => {
    jwksHits++;
    return Response.json({ keys: [jwk] });
  });
  const app = await startApp();
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["api", "cookie", "query", "rs", "pkcs1", "es", "jwks", "claims"]

[upstreams.app]
addrs = ["${app.addr}"]

[locations.api]
path = "/api"
upstream = "app"
plugins = ["hs"]

[locations.cookie]
path = "/c"
upstream = "app"
plugins = ["hs512Cookie"]

[locations.query]
path = "/q"
upstream = "app"
plugins = ["byQuery"]

[locations.rs]
path = "/rs"
upstream = "app"
plugins = ["rs256"]

[locations.pkcs1]
path = "/pkcs1"
upstream = "app"
plugins = ["rs384Pkcs1"]

[locations.es]
path = "/es"
upstream = "app"
plugins = ["es256"]

[locations.jwks]
path = "/jwks"
upstream = "app"
plugins = ["remote"]

[locations.claims]
path = "/claims"
upstream = "app"
plugins = ["claimRules"]

[plugins.claimRules]
category = "jwt"
header = "Authorization"
secret = "s3cret"
require_exp = false
leeway = "0s"
issuers = ["https://id.test"]
audiences = ["api"]
required_claims = ["sub"]
claims_to_headers = ["sub:X-User-Id", "roles:X-Roles", "https://id.test/tenant:X-Tenant"]

[plugins.hs]
category = "jwt"
header = "Authorization"
secret = "123123"
auth_path = "/api/login"
delay = "20ms"

[plugins.hs512Cookie]
category = "jwt"
cookie = "jwt"
secret = "s3cret"
algorithm = "HS512"

[plugins.byQuery]
category = "jwt"
query = "token"
secret = "s3cret"

[plugins.rs256]
category = "jwt"
header = "Authorization"
algorithm = "RS256"
public_key = """
${rsaPem}"""

[plugins.rs384Pkcs1]
category = "jwt"
header = "Authorization"
algorithm = "RS384"
public_key = """
${
    createPublicKey({ key: await exportJWK(rsa384.publicKey), format: "jwk" }).export({ type: "pkcs1", format: "pem" })
  }"""

[plugins.es256]
category = "jwt"
header = "X-Token"
algorithm = "ES256"
public_key = """
${await exportSPKI(ec.publicKey)}"""

[plugins.remote]
category = "jwt"
header = "Authorization"
jwks_url = "http://${jwks.addr}/.well-known/jwks.json"
`);
  const url = `http://127.0.0.1:${port}`;
  const bearer = (token: string) => `Authorization: Bearer ${token}`;
  const status = async (...args: string[]) => (await curl(...args)).status;
  const refusal = async (...args: string[]) => {
    const r = await curl(...args);
    assert.equal(r.status, 401, `${args.join(" ")}: ${r.body}`);
    assert.equal(r.headers.get("cache-control"), "private, no-cache");
    return r.body;
  };
  try {
    // Vector 81: the HS256 token and the same claims under HS512 pass; the origin gets the header.
    const ok = await curl("-H", bearer(VECTOR_81), `${url}/api/a`);
    assert.equal(ok.status, 200, ok.body);
    assert.equal((JSON.parse(ok.body) as Echo).headers["authorization"], `Bearer ${VECTOR_81}`);
    const claims = { name: "John", admin: true, exp: 2348055265 };
    assert.equal(await status("-H", bearer(await hs("HS512", "123123", claims)), `${url}/api/b`), 200);
    assert.equal(await status("-H", `Authorization: bearer ${VECTOR_81}`, `${url}/api/c`), 200, "Bearer in any case");
    assert.equal(await status("-H", `Authorization: ${VECTOR_81}`, `${url}/api/d`), 200, "a bare token");

    // Vector 82, and what Pingap 0.16 adds.
    const before = app.count();
    assert.equal(await refusal(`${url}/api/x`), "Jwt authorization is missing");
    assert.equal(
      await refusal("-H", "Authorization: Bearer a.b", `${url}/api/x`),
      "Jwt authorization format is invalid",
    );
    assert.equal(
      await refusal("-H", bearer(VECTOR_81.slice(0, -2) + "xx"), `${url}/api/x`),
      "Jwt authorization is invalid",
    );
    assert.equal(
      await refusal("-H", bearer(await hs("HS256", "123124", claims)), `${url}/api/x`),
      "Jwt authorization is invalid",
    );
    assert.equal(
      await refusal("-H", bearer(await hs("HS256", "123123", { ...claims, exp: 1716903265 })), `${url}/api/x`),
      "Jwt authorization is expired",
    );
    assert.equal(
      await refusal("-H", bearer(await hs("HS256", "123123", { name: "John" })), `${url}/api/x`),
      "Jwt authorization has no exp",
    );
    assert.equal(
      await refusal("-H", bearer(await hs("HS256", "123123", { exp: now() + 3600, nbf: now() + 600 })), `${url}/api/x`),
      "Jwt authorization is not yet valid",
    );
    // Within the 60 s leeway, both ways.
    assert.equal(await status("-H", bearer(await hs("HS256", "123123", { exp: now() - 10 })), `${url}/api/y`), 200);
    // HS384 passes unpinned (Pingap 0.16); alg none and an RS256 token on the secret path do not.
    assert.equal(await status("-H", bearer(await hs("HS384", "123123", { exp: now() + 3600 })), `${url}/api/z`), 200);
    const none = new UnsecuredJWT({ exp: now() + 3600 }).encode();
    assert.equal(await refusal("-H", bearer(none), `${url}/api/x`), "Jwt authorization is invalid");
    const rsToken = await new SignJWT({ exp: now() + 3600 }).setProtectedHeader({ alg: "RS256" }).sign(rsa.privateKey);
    assert.equal(await refusal("-H", bearer(rsToken), `${url}/api/x`), "Jwt authorization is invalid");
    assert.equal(app.count(), before + 2, "only the tokens within the leeway and of HS384 reached the origin");

    // Cookie, pinned to HS512: an HS256 token with the right secret is refused.
    const cookieToken = await hs("HS512", "s3cret", { exp: now() + 3600 });
    assert.equal(await status("-b", `a=1; jwt=${cookieToken}; b=2`, `${url}/c`), 200);
    assert.equal(
      await refusal("-b", `jwt=${await hs("HS256", "s3cret", { exp: now() + 3600 })}`, `${url}/c`),
      "Jwt authorization is invalid",
    );
    assert.equal(await refusal("-H", bearer(cookieToken), `${url}/c`), "Jwt authorization is missing");

    // Query, percent-encoded or not.
    const queryToken = await hs("HS256", "s3cret", { exp: now() + 3600 });
    assert.equal(await status(`${url}/q?token=${queryToken}`), 200);
    assert.equal(await status(`${url}/q?token=${queryToken.replaceAll(".", "%2E")}`), 200);
    assert.equal(await refusal(`${url}/q?tok=${queryToken}`), "Jwt authorization is missing");

    // RS256 with a public key: only RS256 under that key; an HS256 token signed with the public key's PEM as the
    // secret (algorithm confusion) is refused, and so is an expired one.
    assert.equal(await status("-H", bearer(rsToken), `${url}/rs`), 200);
    const confused = await hs("HS256", rsaPem, { exp: now() + 3600 });
    assert.equal(await refusal("-H", bearer(confused), `${url}/rs`), "Jwt authorization is invalid");
    const otherKey = await new SignJWT({ exp: now() + 3600 }).setProtectedHeader({ alg: "RS256" }).sign(
      other.privateKey,
    );
    assert.equal(await refusal("-H", bearer(otherKey), `${url}/rs`), "Jwt authorization is invalid");
    const oldRs = await new SignJWT({ exp: now() - 3600 }).setProtectedHeader({ alg: "RS256" }).sign(rsa.privateKey);
    assert.equal(await refusal("-H", bearer(oldRs), `${url}/rs`), "Jwt authorization is invalid");
    assert.equal(await refusal("-H", bearer(none), `${url}/rs`), "Jwt authorization is invalid");

    // A PKCS#1 ("RSA PUBLIC KEY") PEM, pinned to RS384: an RS256 token of the same key is refused.
    const rs384 = await new SignJWT({ exp: now() + 3600 }).setProtectedHeader({ alg: "RS384" }).sign(rsa384.privateKey);
    assert.equal(await status("-H", bearer(rs384), `${url}/pkcs1`), 200);
    const sameKey256 = await importPKCS8(await exportPKCS8(rsa384.privateKey), "RS256");
    const rs256 = await new SignJWT({ exp: now() + 3600 }).setProtectedHeader({ alg: "RS256" }).sign(sameKey256);
    assert.equal(await refusal("-H", bearer(rs256), `${url}/pkcs1`), "Jwt authorization is invalid");

    // ES256 from another header.
    const esToken = await new SignJWT({ exp: now() + 3600 }).setProtectedHeader({ alg: "ES256" }).sign(ec.privateKey);
    assert.equal(await status("-H", `X-Token: ${esToken}`, `${url}/es`), 200);
    assert.equal(await refusal("-H", bearer(esToken), `${url}/es`), "Jwt authorization is missing");

    // JWKS from a real server: the key named by kid; an unknown kid, an HMAC token and alg none are refused.
    const kidToken = await new SignJWT({ exp: now() + 3600 }).setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(
      ec.privateKey,
    );
    assert.equal(await status("-H", bearer(kidToken), `${url}/jwks`), 200);
    assert.ok(jwksHits >= 1, "the key set was fetched");
    const wrongKid = await new SignJWT({ exp: now() + 3600 }).setProtectedHeader({ alg: "ES256", kid: "k2" }).sign(
      ec.privateKey,
    );
    assert.equal(await refusal("-H", bearer(wrongKid), `${url}/jwks`), "Jwt authorization is invalid");
    assert.equal(await refusal("-H", bearer(VECTOR_81), `${url}/jwks`), "Jwt authorization is invalid");
    assert.equal(await refusal("-H", bearer(none), `${url}/jwks`), "Jwt authorization is invalid");
    assert.equal(await status("-H", bearer(kidToken), `${url}/jwks/again`), 200);

    // Pingap 0.16's claim rules: issuer, audience (one of a list), required claims, claims sent as headers (the
    // client's copies removed, `_` spellings too); no exp needed here, and no leeway.
    const good = {
      iss: "https://id.test",
      aud: ["web", "api"],
      sub: "u1",
      roles: ["a", "b"],
      "https://id.test/tenant": "t1",
    };
    const claimed = await curl(
      "-H",
      bearer(await hs("HS256", "s3cret", good)),
      "-H",
      "X-User-Id: evil",
      "-H",
      "X_User_Id: evil",
      "-H",
      "X-Roles: admin",
      `${url}/claims`,
    );
    assert.equal(claimed.status, 200, claimed.body);
    const seen = (JSON.parse(claimed.body) as Echo).headers;
    assert.equal(seen["x-user-id"], "u1");
    assert.equal(seen["x_user_id"], undefined);
    assert.equal(seen["x-roles"], "a,b");
    assert.equal(seen["x-tenant"], "t1");
    const claimsRefusal = async (claims: Record<string, unknown>) =>
      await refusal("-H", bearer(await hs("HS256", "s3cret", claims)), `${url}/claims`);
    assert.equal(await claimsRefusal({ ...good, iss: "https://evil.test" }), "Jwt authorization issuer is not allowed");
    assert.equal(await claimsRefusal({ ...good, aud: "web" }), "Jwt authorization audience is not allowed");
    assert.equal(await claimsRefusal({ ...good, sub: null }), "Jwt authorization has no sub");
    assert.equal(await claimsRefusal({ ...good, exp: now() - 5 }), "Jwt authorization is expired");

    // auth_path: the upstream's answer, asked for without Accept-Encoding, is signed; the token opens the API.
    const login = await curl("-H", "Accept-Encoding: gzip", "-d", "user=u1", `${url}/api/login`);
    assert.equal(login.status, 200, login.body);
    assert.match(login.headers.get("content-type") ?? "", /^application\/json/);
    const token = (JSON.parse(login.body) as { token: string }).token;
    const [head, payload] = token.split(".");
    assert.equal(atob(head!), '{"alg": "HS256","typ": "JWT"}');
    const signed = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    assert.equal(signed.sub, "u1");
    assert.equal(signed.ae, null, "the upstream was asked without Accept-Encoding");
    const opened = await curl("-H", bearer(token), `${url}/api/private`);
    assert.equal(opened.status, 200, opened.body);
    // A refusal passes through as it is; no exp or a coded body is a 502 (no token rather than a wrong one).
    const denied = await curl(`${url}/api/login?mode=denied`);
    assert.equal(denied.status, 401);
    assert.equal(denied.body, "wrong password");
    assert.equal(await status(`${url}/api/login?mode=noexp`), 502);
    assert.equal(await status(`${url}/api/login?mode=gzip`), 502);
    assert.equal(await status(`${url}/api/login?mode=ok`), 200);
    assert.doesNotMatch(child.output(), /eyJ|123123|s3cret/, "tokens and secrets are never logged");
  } finally {
    await child.stop();
    await Deno.remove(file);
    await app.close();
    await jwks.close();
  }
});
