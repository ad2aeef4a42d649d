/**
 * `admin`: the runtime half of Pingap's admin plugin. Under its `path`, it
 * answers `/api/*` (api.ts) after Pingap's token check (token.ts), and
 * serves the UI's files (ui.ts) without one.
 *
 * The gate, in order:
 * - an IP with `ip_fail_limit` failed logins within 5 minutes: 403 `Forbidden, too many failures`;
 * - the exact `path` without its slash: 307 to `path/` (query kept);
 * - without accounts (`authorizations` empty): only a client on this machine, and (against DNS rebinding) only
 *   with an IP or `localhost` as Host: else 403;
 * - a write (not GET/HEAD) from another site (`Sec-Fetch-Site: cross-site`, or an `Origin` whose host is not the
 *   request's): 403 — the token travels in a header a page cannot make another site's browser send, and this closes
 *   the no-account case too;
 * - `/api/*` without a valid token: 401, counted; a token whose time is more than `max_age` away: 401 with a clock
 *   message, not counted. `Authorization: Bearer <token>` is checked against `tokens` and `readonly_tokens`;
 * - a write with a read-only account or token (`readonly_authorizations`, `readonly_tokens`): 403
 *   `Forbidden, this account is read-only`. Every write that passes is logged with who made it.
 * Every answer carries `X-Frame-Options: DENY`, `Content-Security-Policy` (`frame-ancestors 'none'`, nothing from
 * another host), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`. Refusals are logged.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { runtimePlugin } from "../plugins/contract.ts";
import { fromFetchResponse } from "../http/fetch_adapter.ts";
import { readCapped } from "../http/read_capped.ts";
import type { RequestContext } from "../proxy/context.ts";
import { log } from "../observe/log/app_log.ts";
import { api, MAX_BODY } from "./api.ts";
import { FailLimit } from "./fail_limit.ts";
import { isLoopbackHost } from "./flag.ts";
import { rateMemory } from "./status.ts";
import { bearerToken, checkBearer, checkToken } from "./token.ts";
import { uiAsset } from "./ui.ts";

const SECURITY_HEADERS: readonly [string, string][] = [
  ["x-frame-options", "DENY"],
  ["content-security-policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"],
  ["x-content-type-options", "nosniff"],
  ["referrer-policy", "no-referrer"],
];

function secured(res: Response): Response {
  for (const [k, v] of SECURITY_HEADERS) res.headers.set(k, v);
  return res;
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** Reads a request body, at most `limit` bytes. */
async function readBody(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string> {
  const bytes = await readCapped(body, limit);
  if (bytes === undefined) throw new RangeError(`The body is larger than ${limit} bytes`);
  return new TextDecoder().decode(bytes);
}

/** A write from another site: a browser says so, or its Origin names another host than the request's. */
function crossSite(ctx: RequestContext): boolean {
  if (ctx.header("sec-fetch-site") === "cross-site") return true;
  const origin = ctx.header("origin");
  if (origin === null) return false;
  try {
    // The request's host without its port (HTTP/2 has no Host field, only :authority).
    return new URL(origin).hostname.replace(/^\[|\]$/g, "") !== ctx.host.replace(/^\[|\]$/g, "");
  } catch {
    return true;
  }
}

/** A Host that names this machine by address or as localhost (a DNS name could be rebound to it). */
function hostIsLocal(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || /^[\d.]+$/.test(h) || h.includes(":");
}

/** The runtime half of `admin`. */
export const admin = runtimePlugin(PLUGIN_DEFINITIONS.admin, (plan, env, self) => {
  const mount = plan.path === "/" ? "" : plan.path;
  const fails = new FailLimit(plan.ipFailLimit);
  const rates = rateMemory();
  const open = plan.accounts.length === 0 && plan.tokens.length === 0;

  async function serve(ctx: RequestContext): Promise<Response> {
    const ip = ctx.clientIp();
    if (!fails.allowed(ip)) {
      if (fails.firstRefusal(ip)) log.warn(`admin ${self.name}: refused ${ip}: too many failed logins (for 5 minutes)`);
      return text(403, "Forbidden, too many failures");
    }
    if (mount && ctx.path === mount) {
      const to = `${mount}/${ctx.rawQuery ? `?${ctx.rawQuery}` : ""}`;
      return new Response(null, { status: 307, headers: { location: to } });
    }
    const rest = ctx.path.slice(mount.length) || "/";
    if (open) {
      if (!isLoopbackHost(ip)) {
        log.warn(`admin ${self.name}: refused ${ip}: no authorizations, so only this machine may use it`);
        return text(403, "Forbidden, the admin has no account: only this machine may use it");
      }
      if (!hostIsLocal(ctx.host)) {
        log.warn(`admin ${self.name}: refused Host ${JSON.stringify(ctx.host)} from ${ip}`);
        return text(403, "Forbidden, Host must be an IP address or localhost");
      }
    }
    const isApi = rest === "/api" || rest.startsWith("/api/");
    const write = ctx.method !== "GET" && ctx.method !== "HEAD";
    if (write && crossSite(ctx)) {
      log.warn(`admin ${self.name}: refused a cross-site ${ctx.method} ${ctx.path} from ${ip}`);
      return text(403, "Forbidden, cross-site request");
    }
    if (!isApi) {
      return uiAsset(rest, mount, ctx.header("accept-encoding") ?? "", ctx.header("if-none-match") ?? "");
    }
    let user = "";
    let readonly = false;
    if (!open) {
      const value = ctx.header("authorization");
      const bearer = bearerToken(value);
      const check = bearer !== undefined
        ? await checkBearer(bearer, plan.tokens)
        : await checkToken(value, plan.accounts, plan.maxAge, Date.now());
      if (!check.ok) {
        if (check.reason === "expired") {
          log.warn(`admin ${self.name}: refused a token from ${ip}: its time is more than max_age from the clock`);
          return text(401, "Unauthorized, the token's time is too far from the server clock: check the clocks");
        }
        fails.fail(ip);
        log.warn(`admin ${self.name}: failed login from ${ip} (${check.reason}) on ${ctx.method} ${ctx.path}`);
        return new Response(null, { status: 401 });
      }
      user = check.user;
      readonly = check.readonly;
      if (write && check.readonly) {
        log.warn(`admin ${self.name}: refused a ${ctx.method} ${ctx.path} by read-only ${JSON.stringify(user)}`);
        return text(403, "Forbidden, this account is read-only");
      }
    }
    if (write) log.info(`admin ${self.name}: ${ctx.method} ${ctx.path} by ${JSON.stringify(user)} from ${ip}`);
    const body = () => readBody(ctx.req.body, MAX_BODY);
    try {
      return await api({
        method: ctx.method,
        route: rest.slice("/api".length) || "/",
        query: new URLSearchParams(ctx.rawQuery),
        body,
        user,
        readonly,
        ip,
        env,
        rates,
      });
    } catch (e) {
      if (e instanceof RangeError) return text(413, (e as Error).message);
      log.error(`admin ${self.name}: ${ctx.method} ${ctx.path} failed: ${(e as Error).message}`);
      return new Response(JSON.stringify({ message: (e as Error).message }), {
        status: 500,
        headers: { "content-type": "application/json; charset=utf-8" },
      });
    }
  }

  return {
    async request(ctx) {
      // The mount and what is below it, never a longer name (`/pingapx` is not `/pingap`).
      if (mount && ctx.path !== mount && !ctx.path.startsWith(`${mount}/`)) return undefined;
      // The API is written against fetch `Response`s; the adapter makes the answer a message (not a hot path).
      return fromFetchResponse(secured(await serve(ctx)));
    },
  };
});
