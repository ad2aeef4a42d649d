/**
 * `oidc` (Pingap 0.16): login at an OpenID Connect provider, authorization code flow with PKCE; the session lives in
 * a sealed cookie (`oidc_seal.ts`), so nothing is kept on this side and every instance with the same `cookie_secret`
 * reads it. Pingap's steps, statuses and texts:
 *
 * - At `redirect_path` (the callback): `?error=` ⇒ 403 `Login refused: <name>` (the name only when `[a-z_]{1,64}`);
 *   no code or state ⇒ 400 `no login to finish`; no login cookie for that state ⇒ 400 `this login was not started
 *   here, or was finished already`; an expired login ⇒ 400 `the login took too long`; then the code is exchanged and
 *   the ID token verified (`oidc_provider.ts`); success ⇒ 302 to the page the login started from, with the session
 *   cookie and the login cookies cleared; a provider failure ⇒ 502 `Login failed`.
 * - At `logout_path`: the session cookie is cleared; 302 to the provider's `end_session_endpoint?client_id=`, or 200
 *   `Logged out`.
 * - A valid session: the client's copies of the claim headers go, the claims are set (lists comma-joined).
 * - No session: a browser navigating (GET, `Sec-Fetch-Mode: navigate`, or `Accept` with `text/html` when that is
 *   absent) is sent to the provider with a login cookie (`<cookie_name>_<state tag>`, `Path=<redirect_path>`,
 *   10 minutes); anything else gets 401 `Login required`; no provider ⇒ 502 `Login is not available`.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { type OidcPlan, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import type { HttpResponse } from "../http/message.ts";
import { responseWith } from "../http/response_build.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { appLog } from "../observe/log/app_log.ts";
import type { RequestContext } from "../proxy/context.ts";
import { constantTimeEqual } from "./constant_time.ts";
import { runtimePlugin } from "./contract.ts";
import { claimHeaderValue, stripClaimHeaders } from "./jwt_token.ts";
import { exchangeCode, type Login, type Provider, ProviderSource } from "./oidc_provider.ts";
import { seal, unseal } from "./oidc_seal.ts";

/** How long a login at the provider may take, in seconds. */
export const LOGIN_TTL = 600;
/** The most a query value of the callback is taken for. */
const MAX_QUERY_VALUE = 4096;
/** The most a sealed cookie value may be (a browser keeps 4096 bytes of a cookie). */
const MAX_COOKIE_VALUE = 3800;
/** How many left-over login cookies one callback clears. */
const MAX_STALE_LOGINS = 16;

/** A session: until when, and the claims kept of the user. */
export interface SessionData {
  readonly exp: number;
  readonly claims: Record<string, unknown>;
}

const random = (n: number) => randomBytes(n).toString("base64url");
const nowSec = () => Math.floor(Date.now() / 1000);

/** A local path, else `/` (`//host` and `/\host` are other sites to a browser). */
export function localPath(value: string): string {
  if (!value.startsWith("/") || value[1] === "/" || value[1] === "\\") return "/";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return "/";
  }
  return value;
}

/** The name of a login's cookie: the session cookie's name, `_`, and up to 8 alphanumerics of the state. */
export function loginCookieName(cookieName: string, state: string): string {
  return `${cookieName}_${state.replace(/[^A-Za-z0-9]/g, "").slice(0, 8)}`;
}

/** A `Set-Cookie` value as Pingap writes them. */
export function cookieLine(name: string, value: string, path: string, maxAge: number, secure: boolean): string {
  return `${name}=${value}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

/** A sealed session that still holds, or undefined. */
export function openSession(key: Uint8Array, text: string | undefined, now: number): SessionData | undefined {
  if (text === undefined) return undefined;
  const v = unseal(key, text) as Partial<SessionData> | undefined;
  if (typeof v !== "object" || v === null || typeof v.exp !== "number" || typeof v.claims !== "object") {
    return undefined;
  }
  if (v.claims === null || Array.isArray(v.claims) || now >= v.exp) return undefined;
  return v as SessionData;
}

/** A sealed login, or undefined. */
export function openLogin(key: Uint8Array, text: string | undefined): Login | undefined {
  if (text === undefined) return undefined;
  const v = unseal(key, text) as Partial<Login> | undefined;
  if (typeof v !== "object" || v === null) return undefined;
  const { state, verifier, nonce, url, exp } = v;
  if (typeof state !== "string" || typeof verifier !== "string" || typeof nonce !== "string") return undefined;
  if (typeof url !== "string" || typeof exp !== "number") return undefined;
  return v as Login;
}

/** Whether a request is a browser going to a page (it can follow a redirect to the provider). */
export function isNavigation(ctx: RequestContext): boolean {
  if (ctx.method !== "GET") return false;
  const mode = ctx.header("sec-fetch-mode") ?? "";
  return mode === "" ? (ctx.header("accept") ?? "").includes("text/html") : mode === "navigate";
}

/** A query value of the callback, decoded ("" when absent, too long or not decodable). */
function queryValue(ctx: RequestContext, name: string): string {
  const raw = ctx.query(name);
  if (raw === undefined || raw.length > MAX_QUERY_VALUE) return "";
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return "";
  }
}

const text = (status: number, body: string) =>
  new StaticAnswer(status, [["content-type", "text/plain; charset=utf-8"], ["cache-control", "no-store"]], body);

/** A refused callback: its status and text. */
class Refusal extends Error {
  constructor(readonly answer: HttpResponse, message: string) {
    super(message);
  }
}

/** Creates the oidc plugin. */
export const oidc = runtimePlugin(PLUGIN_DEFINITIONS.oidc, (c: OidcPlan, _env, self) => {
  const provider = new ProviderSource(c, self.name);
  const own = c.claimsToHeaders.map((h) => h.header);
  const answers = {
    noLogin: text(400, "no login to finish"),
    notStarted: text(400, "this login was not started here, or was finished already"),
    tooLong: text(400, "the login took too long"),
    failed: text(502, "Login failed"),
    required: text(401, "Login required"),
    unavailable: text(502, "Login is not available"),
    loggedOut: text(200, "Logged out"),
  };
  const secure = (ctx: RequestContext) =>
    c.redirectUrl !== undefined ? c.redirectUrl.startsWith("https://") : ctx.scheme === "https";
  const redirectUri = (ctx: RequestContext): string | undefined => {
    if (c.redirectUrl !== undefined) return c.redirectUrl;
    const host = ctx.header("host") ?? ctx.host;
    return host === "" ? undefined : `${ctx.scheme}://${host}${c.redirectPath}`;
  };
  const redirect = (location: string, cookies: readonly string[]) =>
    responseWith(null, { status: 302 }, [
      ["location", location],
      ["cache-control", "no-store"],
      ...cookies.map((v) => ["set-cookie", v] as const),
    ]);

  /** Sends a browser to the provider, with its login in a cookie. */
  const toProvider = (ctx: RequestContext, p: Provider): HttpResponse | undefined => {
    const uri = redirectUri(ctx);
    if (uri === undefined) return undefined;
    const target = ctx.rawQuery === "" ? ctx.routedPath : `${ctx.routedPath}?${ctx.rawQuery}`;
    let login: Login = {
      state: random(16),
      verifier: random(32),
      nonce: random(16),
      url: localPath(target),
      exp: nowSec() + LOGIN_TTL,
    };
    let sealed = seal(c.key, login);
    if (sealed.length > MAX_COOKIE_VALUE) sealed = seal(c.key, login = { ...login, url: "/" });
    const challenge = createHash("sha256").update(login.verifier).digest().toString("base64url");
    const sep = p.authorizationEndpoint.includes("?") ? "&" : "?";
    const location = `${p.authorizationEndpoint}${sep}response_type=code&client_id=${
      encodeURIComponent(c.clientId)
    }&redirect_uri=${encodeURIComponent(uri)}&scope=${
      encodeURIComponent(c.scopes)
    }&state=${login.state}&nonce=${login.nonce}&code_challenge=${challenge}&code_challenge_method=S256`;
    return redirect(location, [
      cookieLine(loginCookieName(c.cookieName, login.state), sealed, c.redirectPath, LOGIN_TTL, secure(ctx)),
    ]);
  };

  /** The browser back from the provider. */
  const callback = async (ctx: RequestContext): Promise<HttpResponse> => {
    const error = queryValue(ctx, "error");
    if (error !== "") {
      const name = /^[a-z_]{1,64}$/.test(error) ? error : "error";
      throw new Refusal(text(403, `Login refused: ${name}`), "refused by the provider");
    }
    const code = queryValue(ctx, "code"), state = queryValue(ctx, "state");
    if (code === "" || state === "") throw new Refusal(answers.noLogin, "no code or state");
    const name = loginCookieName(c.cookieName, state);
    const login = openLogin(c.key, ctx.cookie(name));
    if (login === undefined || !constantTimeEqual(login.state, state)) {
      throw new Refusal(answers.notStarted, "no login for this state");
    }
    if (login.exp <= nowSec()) throw new Refusal(answers.tooLong, "login expired");
    const p = await provider.get();
    if (p === undefined) throw new Error("the provider can not be reached");
    const uri = redirectUri(ctx);
    if (uri === undefined) throw new Refusal(text(400, "the request has no host"), "no host");
    const claims = await exchangeCode(c, p, code, login, uri);
    const kept: Record<string, unknown> = {};
    for (const claim of ["sub", ...c.claimsToHeaders.map((h) => h.claim)]) {
      if (claims[claim] !== undefined) kept[claim] = claims[claim];
    }
    const sealed = seal(c.key, { exp: nowSec() + c.sessionTtl, claims: kept } satisfies SessionData);
    if (sealed.length > MAX_COOKIE_VALUE) throw new Error("the session does not fit a cookie");
    const isSecure = secure(ctx);
    const cookies = [cookieLine(c.cookieName, sealed, "/", c.sessionTtl, isSecure)];
    // The login is done with: its cookie goes, and those of logins this browser started and left.
    const stale = [name];
    const prefix = `${c.cookieName}_`;
    for (const pair of (ctx.cookieHeader() ?? "").split(";")) {
      const n = (pair.split("=", 1)[0] ?? "").trim();
      if (n.startsWith(prefix) && !stale.includes(n) && /^[A-Za-z0-9._-]+$/.test(n)) stale.push(n);
      if (stale.length > MAX_STALE_LOGINS) break;
    }
    for (const n of stale) cookies.push(cookieLine(n, "", c.redirectPath, 0, isSecure));
    return redirect(localPath(login.url), cookies);
  };

  const logout = async (ctx: RequestContext): Promise<HttpResponse> => {
    const end = (await provider.get())?.endSessionEndpoint;
    const clear = cookieLine(c.cookieName, "", "/", 0, secure(ctx));
    if (end === undefined) {
      return responseWith("Logged out", { status: 200 }, [
        ["content-type", "text/plain; charset=utf-8"],
        ["cache-control", "no-store"],
        ["set-cookie", clear],
      ]);
    }
    return redirect(`${end}${end.includes("?") ? "&" : "?"}client_id=${encodeURIComponent(c.clientId)}`, [clear]);
  };

  return {
    request(ctx) {
      // The path the client asked for: the provider was told to come back to it, not to a rewrite of it.
      const path = ctx.routedPath;
      if (path === c.redirectPath) {
        return callback(ctx).catch((e: unknown) => {
          if (e instanceof Refusal) return e.answer;
          appLog("warn", "oidc login failed", { plugin: self.name, issuer: c.issuer, error: String(e) });
          return answers.failed;
        });
      }
      if (path === c.logoutPath) return logout(ctx);
      const session = openSession(c.key, ctx.cookie(c.cookieName), nowSec());
      if (session !== undefined) {
        if (own.length > 0) {
          const headers = ctx.upstreamHeaders;
          stripClaimHeaders(headers, own);
          for (const { claim, header } of c.claimsToHeaders) {
            const value = claimHeaderValue(session.claims[claim]);
            if (value !== undefined) headers.set(header, value);
          }
        }
        return undefined;
      }
      if (own.length > 0) stripClaimHeaders(ctx.upstreamHeaders, own);
      if (!isNavigation(ctx)) return answers.required;
      return provider.get().then((p) => (p === undefined ? undefined : toProvider(ctx, p)) ?? answers.unavailable);
    },
  };
});
