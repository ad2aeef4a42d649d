/**
 * `csrf`: double-submit-cookie protection (Pingap's `csrf`; tokens in `csrf_token.ts`). A request to `token_path`, of
 * any method, gets `204` with a fresh token in the cookie `name` (`Path=/`, `Max-Age` = `ttl` when set) and
 * `Cache-Control: private, no-store`. GET, HEAD and OPTIONS pass. Any other method must send the token in the header
 * `name`, the same value in the cookie `name`, validly signed with `key` and not older than `ttl`; otherwise
 * `401 Csrf token is empty or invalid`.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { responseWith } from "../http/response_build.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { makeToken, tokenValid } from "./csrf_token.ts";
import { nanoid } from "./request_id.ts";
import { runtimePlugin } from "./contract.ts";

/** The refusal's body (Pingap's text). */
export const CSRF_REFUSED = "Csrf token is empty or invalid";

/** Creates the csrf plugin. */
export const csrf = runtimePlugin(PLUGIN_DEFINITIONS.csrf, (c) => {
  // Whole seconds, as Pingap reads the ttl; 0 never expires.
  const ttlSec = c.ttl === undefined ? 0 : Math.floor(c.ttl / 1000);
  const cookieTail = ttlSec > 0 ? `; Path=/; Max-Age=${ttlSec}` : "; Path=/";
  const headerName = c.name.toLowerCase();
  const refused = new StaticAnswer(401, [], CSRF_REFUSED);
  return {
    request(ctx) {
      if (ctx.path === c.tokenPath) {
        const token = makeToken(c.key, Date.now() / 1000, nanoid(12));
        return responseWith(null, { status: 204 }, [
          ["cache-control", "private, no-store"],
          ["set-cookie", `${c.name}=${token}${cookieTail}`],
        ]);
      }
      const method = ctx.method;
      if (method === "GET" || method === "HEAD" || method === "OPTIONS") return undefined;
      const value = ctx.header(headerName);
      if (!value) return refused;
      if (value !== (ctx.cookie(c.name) ?? "") || !tokenValid(c.key, ttlSec, value, Math.floor(Date.now() / 1000))) {
        return refused;
      }
      return undefined;
    },
  };
});
