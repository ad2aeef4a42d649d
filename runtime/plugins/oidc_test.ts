/**
 * `oidc` through a compiled Plan without proxy sockets (runtime/proxy/harness.ts), against a small provider served by
 * the test (discovery, a JWKS of an ES256 key made with jose, a token endpoint that signs what the test tells it):
 * Pingap 0.16's vectors 147–149, the sealed cookies, and the callback's refusals (state, nonce, expiry, error names).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { planHarness } from "../proxy/harness.ts";
import { echo, type Echoed, planOf } from "./_test_utils.ts";
import { cookieLine, localPath, LOGIN_TTL, loginCookieName, openLogin, openSession } from "./oidc.ts";
import { seal, unseal } from "./oidc_seal.ts";

const SECRET = "0123456789abcdef0123456789abcdef";

/** What the test provider signs into the next ID token, and what it saw. */
interface Next {
  nonce?: string;
  claims?: Record<string, unknown>;
  tokenStatus?: number;
}

async function startProvider() {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...await exportJWK(publicKey), kid: "k1", alg: "ES256", use: "sig" };
  const next: Next = {};
  const seen: { authorization?: string | null; form?: URLSearchParams } = {};
  let issuer = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/.well-known/openid-configuration") {
      return Response.json({
        issuer: `${issuer}/`,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
      });
    }
    if (path === "/jwks") return Response.json({ keys: [jwk] });
    if (path === "/token") {
      seen.authorization = req.headers.get("authorization");
      seen.form = new URLSearchParams(await req.text());
      if (next.tokenStatus !== undefined) return new Response("no", { status: next.tokenStatus });
      const idToken = await new SignJWT({ nonce: next.nonce, ...next.claims })
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setIssuer(issuer).setAudience("pingap").setSubject("u-1").setIssuedAt().setExpirationTime("5m")
        .sign(privateKey);
      return Response.json({ id_token: idToken, access_token: "a", token_type: "Bearer" });
    }
    return new Response("not found", { status: 404 });
  });
  issuer = `http://127.0.0.1:${server.addr.port}`;
  return { issuer, next, seen, close: () => server.shutdown() };
}

function planFor(issuer: string, secret = "s3cret", extra = "") {
  return planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
rewrite = "^/app/(.*)$ /rewritten/$1"
plugins = ["sso"]
[plugins.sso]
category = "oidc"
issuer = "${issuer}/"
client_id = "pingap"
client_secret = "${secret}"
cookie_secret = "${SECRET}"
claims_to_headers = ["email:X-User-Email", "groups:X-User-Groups"]
logout_path = "/bye"
${extra}
`);
}

const keyOf = (issuer: string) =>
  new Uint8Array(
    createHash("sha256").update(SECRET).update("\0").update(issuer).update("\0").update("pingap").digest(),
  );
const jar = (res: Response) => res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");

Deno.test("oidc: sealed values open only under their key, unchanged; a login is not a session", () => {
  const key = keyOf("https://idp.test"), other = keyOf("https://idp2.test");
  const sealed = seal(key, { exp: 42, claims: { sub: "u-1" } });
  assert.notEqual(sealed, seal(key, { exp: 42, claims: { sub: "u-1" } }), "a fresh nonce each time");
  assert.ok(!sealed.includes("u-1"));
  assert.equal(openSession(key, sealed, 41)?.claims.sub, "u-1");
  assert.equal(openSession(key, sealed, 42), undefined, "expired");
  const last = sealed.at(-1) === "A" ? "B" : "A";
  assert.equal(unseal(key, sealed.slice(0, -1) + last), undefined, "changed");
  assert.equal(unseal(key, sealed.slice(0, -4)), undefined, "cut off");
  assert.equal(unseal(key, ""), undefined);
  assert.equal(unseal(other, sealed), undefined, "another issuer's key");
  const login = seal(key, { state: "s", verifier: "v", nonce: "n", url: "/", exp: 2 ** 40 });
  assert.equal(openSession(key, login, 0), undefined);
  assert.equal(openLogin(key, login)?.state, "s");
  assert.equal(openLogin(key, sealed), undefined);
});

Deno.test("oidc: local paths, login cookie names and cookie lines as Pingap writes them", () => {
  const cases: [string, string][] = [
    ["/app/page?x=1", "/app/page?x=1"],
    ["/", "/"],
    ["//evil.test/x", "/"],
    ["/\\evil.test/x", "/"],
    ["https://evil.test/", "/"],
    ["evil.test", "/"],
    ["/a\r\nSet-Cookie: x=1", "/"],
    ["", "/"],
  ];
  for (const [value, want] of cases) assert.equal(localPath(value), want, JSON.stringify(value));
  assert.equal(loginCookieName("pingap_oidc", "012-_345678xyz"), "pingap_oidc_01234567");
  assert.equal(
    cookieLine("pingap_oidc", "v", "/", 43200, true),
    "pingap_oidc=v; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure",
  );
});

Deno.test({
  name: "oidc: vectors 147-149, the callback's refusals, the nonce and the logout",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const idp = await startProvider();
  const h = planHarness(planFor(idp.issuer), { upstream: echo });
  const html = { accept: "text/html" };
  try {
    // 149: no session, not a browser ⇒ 401.
    const api = await h.request("http://app.test/api", { headers: { accept: "application/json" } });
    assert.equal(api.status, 401);
    assert.equal(await api.text(), "Login required");
    const post = await h.request("http://app.test/app/page", { method: "POST", headers: html, body: "x" });
    assert.equal(post.status, 401, "a form that is posted can not follow to the provider");
    const fetched = await h.request("http://app.test/app/page", { headers: { ...html, "sec-fetch-mode": "cors" } });
    assert.equal(fetched.status, 401, "a script's fetch can not follow either, whatever it accepts");
    await fetched.body?.cancel();

    /** Starts a login; the Location, its state and nonce, and the login cookie. */
    const start = async (url = "http://app.test/app/page?x=1") => {
      const res = await h.request(url, { headers: html });
      await res.body?.cancel();
      assert.equal(res.status, 302);
      const location = res.headers.get("location") ?? "";
      const q = new URL(location).searchParams;
      return { res, location, state: q.get("state") ?? "", nonce: q.get("nonce") ?? "", cookie: jar(res) };
    };
    // 147
    const s = await start();
    assert.ok(
      s.location.startsWith(
        `${idp.issuer}/authorize?response_type=code&client_id=pingap&redirect_uri=http%3A%2F%2Fapp.test%2Foauth2%2Fcallback&scope=openid&state=`,
      ),
      s.location,
    );
    assert.match(s.location, /&code_challenge=[\w-]{43}&code_challenge_method=S256$/);
    assert.equal(s.res.headers.get("cache-control"), "no-store");
    const set = s.res.headers.getSetCookie()[0] ?? "";
    assert.ok(set.startsWith(`${loginCookieName("pingap_oidc", s.state)}=`), set);
    assert.ok(set.endsWith(`; Path=/oauth2/callback; Max-Age=${LOGIN_TTL}; HttpOnly; SameSite=Lax`), set);
    const login = openLogin(keyOf(idp.issuer), set.split(";")[0]!.split("=")[1]);
    assert.equal(login?.url, "/app/page?x=1");
    assert.equal(login?.nonce, s.nonce);

    const callback = (query: string, cookie = s.cookie) =>
      h.request(`http://app.test/oauth2/callback?${query}`, { headers: cookie === "" ? {} : { cookie } });
    const refusal = async (res: Response, status: number, body: string) => {
      assert.equal(res.status, status);
      assert.equal(await res.text(), body);
    };
    await refusal(await callback("error=access_denied"), 403, "Login refused: access_denied");
    await refusal(await callback("error=Access%20Denied%3Cscript%3E"), 403, "Login refused: error");
    await refusal(await callback(`state=${s.state}`), 400, "no login to finish");
    const notStarted = "this login was not started here, or was finished already";
    await refusal(await callback(`code=c&state=${s.state}`, ""), 400, notStarted);
    await refusal(await callback(`code=c&state=forged${s.state}`), 400, notStarted);
    // A login cookie sealed under the key, but long ago.
    const key = keyOf(idp.issuer);
    const old = seal(key, { state: "OLDSTATE", verifier: "v", nonce: "n", url: "/", exp: 1 });
    await refusal(
      await callback("code=c&state=OLDSTATE", `${loginCookieName("pingap_oidc", "OLDSTATE")}=${old}`),
      400,
      "the login took too long",
    );

    // A token for another login (its nonce) is refused; the provider's failure is a 502.
    idp.next.nonce = "another";
    await refusal(await callback(`code=c&state=${s.state}`), 502, "Login failed");
    idp.next.nonce = s.nonce;
    idp.next.tokenStatus = 400;
    await refusal(await callback(`code=c&state=${s.state}`), 502, "Login failed");
    delete idp.next.tokenStatus;

    // 148: success.
    idp.next.claims = { email: "u@example.test", groups: ["dev", "ops"] };
    const done = await callback(`code=the-code&state=${s.state}`, `${s.cookie}; pingap_oidc_stale123=x`);
    await done.body?.cancel();
    assert.equal(done.status, 302);
    assert.equal(done.headers.get("location"), "/app/page?x=1");
    assert.equal(idp.seen.authorization, "Basic cGluZ2FwOnMzY3JldA==");
    assert.equal(idp.seen.form?.get("code"), "the-code");
    assert.equal(idp.seen.form?.get("redirect_uri"), "http://app.test/oauth2/callback");
    assert.equal(idp.seen.form?.get("code_verifier"), login?.verifier);
    const cookies = done.headers.getSetCookie();
    assert.match(cookies[0]!, /^pingap_oidc=[\w-]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/);
    assert.ok(
      cookies.includes(
        `${loginCookieName("pingap_oidc", s.state)}=; Path=/oauth2/callback; Max-Age=0; HttpOnly; SameSite=Lax`,
      ),
    );
    assert.ok(cookies.includes("pingap_oidc_stale123=; Path=/oauth2/callback; Max-Age=0; HttpOnly; SameSite=Lax"));

    // 149: the session's claims go upstream; the client's own copies do not.
    const session = cookies[0]!.split(";")[0]!;
    const page = await h.request("http://app.test/app/page", {
      headers: { cookie: session, "x-user-groups": "admin", "x-user_email": "m@x" },
    });
    const echoed = await page.json() as Echoed;
    assert.equal(echoed.headers["x-user-groups"], "dev,ops");
    assert.equal(echoed.headers["x-user-email"], "u@example.test");
    assert.equal(echoed.headers["x-user_email"], undefined);

    // Logout: no end_session_endpoint ⇒ 200 and the cookie cleared.
    const bye = await h.request("http://app.test/bye", { headers: { cookie: session } });
    assert.equal(bye.status, 200);
    assert.equal(await bye.text(), "Logged out");
    assert.equal(bye.headers.getSetCookie()[0], "pingap_oidc=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
  } finally {
    await h.dispose();
    await idp.close();
  }
});

Deno.test("oidc: a provider that can not be reached: 502 Login is not available; an API client still gets 401", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const h = planHarness(planFor(`http://127.0.0.1:${port}`), { upstream: echo });
  try {
    const page = await h.request("http://app.test/app/page", { headers: { accept: "text/html" } });
    assert.equal(page.status, 502);
    assert.equal(await page.text(), "Login is not available");
    const api = await h.request("http://app.test/api");
    assert.equal(api.status, 401);
    await api.body?.cancel();
  } finally {
    await h.dispose();
  }
});

Deno.test({
  name: "oidc: a public client (no client_secret) names itself in the token request's form",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const idp = await startProvider();
  const h = planHarness(planFor(idp.issuer, ""), { upstream: echo });
  try {
    const res = await h.request("http://app.test/x", { headers: { accept: "text/html" } });
    await res.body?.cancel();
    const q = new URL(res.headers.get("location") ?? "").searchParams;
    idp.next.nonce = q.get("nonce") ?? "";
    const done = await h.request(`http://app.test/oauth2/callback?code=c&state=${q.get("state")}`, {
      headers: { cookie: jar(res) },
    });
    await done.body?.cancel();
    assert.equal(done.status, 302);
    assert.equal(idp.seen.authorization, null);
    assert.equal(idp.seen.form?.get("client_id"), "pingap");
    assert.equal(idp.seen.form?.get("client_secret"), null);
  } finally {
    await h.dispose();
    await idp.close();
  }
});

Deno.test({
  name: "oidc: redirect_url is what the provider is told, and makes the cookies Secure when it is https",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const idp = await startProvider();
  const h = planHarness(planFor(idp.issuer, "s3cret", 'redirect_url = "https://sso.example.com/oauth2/callback"'), {
    upstream: echo,
  });
  try {
    const res = await h.request("http://app.test/x", { headers: { accept: "text/html" } });
    await res.body?.cancel();
    const location = res.headers.get("location") ?? "";
    assert.equal(new URL(location).searchParams.get("redirect_uri"), "https://sso.example.com/oauth2/callback");
    assert.match(res.headers.getSetCookie()[0] ?? "", /; HttpOnly; SameSite=Lax; Secure$/);
  } finally {
    await h.dispose();
    await idp.close();
  }
});
