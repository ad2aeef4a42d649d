/**
 * `oidc` end to end: the proxy in its own process in front of an echo origin, and a certified OpenID provider
 * (`npm:oidc-provider`, its development login and consent pages) started by the test. A client with a cookie jar
 * (fetch with manual redirects) walks the login: the page redirects to the provider, the test logs in there as
 * `alice`, the callback sets the session cookie, and the page then reaches the origin with the claim headers. A
 * replayed callback and a wrong state are refused; an expired session sends the browser back to the provider, which
 * (its own session still alive) returns it at once with a fresh session.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import Provider from "oidc-provider";
import { type Echo, freePort, startEchoOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";
import { seal } from "../../runtime/plugins/oidc_seal.ts";

const COOKIE_SECRET = "0123456789abcdef0123456789abcdef";

/** A cookie jar per host:port (paths ignored: every cookie of a host is sent to it). */
class Jar {
  readonly #hosts = new Map<string, Map<string, string>>();
  header(url: string): string {
    const jar = this.#hosts.get(new URL(url).host);
    return jar === undefined ? "" : [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  take(url: string, res: Response): void {
    const host = new URL(url).host;
    const jar = this.#hosts.get(host) ?? new Map<string, string>();
    this.#hosts.set(host, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim(), value = pair.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (gone || value === "") jar.delete(name);
      else jar.set(name, value);
    }
  }
  set(url: string, name: string, value: string): void {
    const host = new URL(url).host;
    if (!this.#hosts.has(host)) this.#hosts.set(host, new Map());
    this.#hosts.get(host)!.set(name, value);
  }
  get(url: string, name: string): string | undefined {
    return this.#hosts.get(new URL(url).host)?.get(name);
  }
}

interface Hop {
  readonly status: number;
  readonly location: string;
  readonly body: string;
  readonly res: Response;
}

/** One request with the jar, no redirect followed. */
async function hop(jar: Jar, url: string, init: RequestInit = {}): Promise<Hop> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie !== "") headers.set("cookie", cookie);
  const res = await fetch(url, { ...init, headers, redirect: "manual" });
  jar.take(url, res);
  const body = await res.text();
  const location = res.headers.get("location") ?? "";
  return { status: res.status, location: location === "" ? "" : new URL(location, url).href, body, res };
}

/** Starts oidc-provider on a free port; `close` stops it. */
async function startProvider(redirectUri: string) {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: "pingap",
      client_secret: "s3cret",
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [],
    }],
    claims: { openid: ["sub"], email: ["email"], groups: ["groups"] },
    conformIdTokenClaims: false,
    cookies: { keys: ["a test key, not a secret"] },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@example.test`, groups: ["dev", "ops"] }),
    }),
  });
  const handler = provider.callback();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => handler(req, res));
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The provider's development pages: log in as `login`, then consent when asked. */
async function loginAtProvider(jar: Jar, authorizeUrl: string, login: string): Promise<string> {
  let url = authorizeUrl;
  for (let i = 0; i < 12; i++) {
    const r = await hop(jar, url);
    if (r.status === 200 && /\/interaction\//.test(url)) {
      const prompt = /name="prompt" value="([a-z]+)"/.exec(r.body)?.[1] ??
        (r.body.includes('name="login"') ? "login" : "consent");
      const form = new URLSearchParams({ prompt, login, password: "any" });
      const posted = await hop(jar, url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
      assert.ok(posted.status >= 300 && posted.status < 400, `${prompt}: ${posted.status} ${posted.body}`);
      url = posted.location;
      continue;
    }
    assert.ok(r.status >= 300 && r.status < 400, `${url}: ${r.status} ${r.body.slice(0, 300)}`);
    if (!r.location.startsWith(authorizeUrl.slice(0, authorizeUrl.indexOf("/", 8)))) return r.location;
    url = r.location;
  }
  throw new Error("the provider never sent the browser back");
}

Deno.test({
  name: "oidc: the login dance against oidc-provider, the session cookie, claim headers, refusals and re-login",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const origin = await startEchoOrigin("app");
  const port = freePort();
  const app = `http://127.0.0.1:${port}`;
  const idp = await startProvider(`${app}/oauth2/callback`);
  const { child, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:${port}"
locations = ["app"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.app]
path = "/"
upstream = "app"
plugins = ["sso"]

[plugins.sso]
category = "oidc"
issuer = "${idp.issuer}"
client_id = "pingap"
client_secret = "s3cret"
cookie_secret = "${COOKIE_SECRET}"
scopes = ["email", "groups"]
logout_path = "/logout"
claims_to_headers = ["sub:X-User", "email:X-User-Email", "groups:X-User-Groups"]
`);
  const html = { accept: "text/html" };
  try {
    const jar = new Jar();
    // No session: an API client is told so; a browser goes to the provider.
    const api = await hop(jar, `${app}/api`, { headers: { accept: "application/json" } });
    assert.equal(api.status, 401);
    assert.equal(api.body, "Login required");
    const start = await hop(jar, `${app}/app/page?x=1`, { headers: html });
    assert.equal(start.status, 302, start.body);
    assert.ok(
      start.location.startsWith(
        `${idp.issuer}/auth?response_type=code&client_id=pingap&redirect_uri=${
          encodeURIComponent(`${app}/oauth2/callback`)
        }&scope=openid%20email%20groups&state=`,
      ),
      start.location,
    );
    assert.equal(start.res.headers.get("cache-control"), "no-store");
    const loginCookie = start.res.headers.getSetCookie()[0] ?? "";
    assert.match(
      loginCookie,
      /^pingap_oidc_[A-Za-z0-9]{1,8}=[^;]+; Path=\/oauth2\/callback; Max-Age=600; HttpOnly; SameSite=Lax$/,
    );

    // Logging in at the provider brings the browser back to the callback.
    const back = await loginAtProvider(jar, start.location, "alice");
    assert.ok(back.startsWith(`${app}/oauth2/callback?`), back);
    const state = new URL(back).searchParams.get("state") ?? "";

    // A wrong state is refused (and does not use up the login).
    const wrong = await hop(new Jar(), back.replace(`state=${state}`, "state=forged"));
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body, "this login was not started here, or was finished already");

    const done = await hop(jar, back);
    assert.equal(done.status, 302, done.body);
    assert.equal(done.location, `${app}/app/page?x=1`);
    const cookies = done.res.headers.getSetCookie();
    assert.match(cookies[0] ?? "", /^pingap_oidc=[^;]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/);
    assert.ok(cookies.slice(1).some((c) => /^pingap_oidc_\w+=; Path=\/oauth2\/callback; Max-Age=0;/.test(c)));

    // The page now reaches the origin with who the user is; a client's own copy of a claim header is dropped.
    const page = await hop(jar, `${app}/app/page?x=1`, {
      headers: { ...html, "x-user": "mallory", "x-user_email": "m" },
    });
    assert.equal(page.status, 200, page.body);
    const echo = JSON.parse(page.body) as Echo;
    assert.equal(echo.headers["x-user"], "alice");
    assert.equal(echo.headers["x-user-email"], "alice@example.test");
    assert.equal(echo.headers["x-user-groups"], "dev,ops");
    assert.equal(echo.headers["x-user_email"], undefined);

    // The same callback again: the login is finished.
    const replay = await hop(jar, back);
    assert.equal(replay.status, 400);
    assert.equal(replay.body, "this login was not started here, or was finished already");

    // A provider's error is shown by name only.
    const refused = await hop(jar, `${app}/oauth2/callback?error=access_denied&state=x`);
    assert.equal(refused.status, 403);
    assert.equal(refused.body, "Login refused: access_denied");

    // An expired session (sealed with the same key, exp in the past) goes back to the provider, which knows alice
    // already: the browser returns at once with a fresh session.
    const key = createHash("sha256").update(COOKIE_SECRET).update("\0").update(idp.issuer).update("\0").update("pingap")
      .digest();
    jar.set(app, "pingap_oidc", seal(key, { exp: Math.floor(Date.now() / 1000) - 5, claims: { sub: "alice" } }));
    const again = await hop(jar, `${app}/app/other`, { headers: html });
    assert.equal(again.status, 302);
    assert.ok(again.location.startsWith(`${idp.issuer}/auth?`), again.location);
    const back2 = await loginAtProvider(jar, again.location, "nobody");
    const done2 = await hop(jar, back2);
    assert.equal(done2.status, 302, done2.body);
    assert.equal(done2.location, `${app}/app/other`);
    const page2 = await hop(jar, `${app}/app/other`, { headers: html });
    assert.equal(
      (JSON.parse(page2.body) as Echo).headers["x-user"],
      "alice",
      "the provider's session, not a new login",
    );

    // Logout clears the cookie and sends the browser to the provider's end_session_endpoint.
    const out = await hop(jar, `${app}/logout`, { headers: html });
    assert.equal(out.status, 302);
    assert.equal(out.location, `${idp.issuer}/session/end?client_id=pingap`);
    assert.equal(jar.get(app, "pingap_oidc"), undefined);
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
    await idp.close();
  }
});
