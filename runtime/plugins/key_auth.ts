/**
 * `key_auth`: an API key in a query parameter (when `query` is set) or else a header, as Pingap's `key_auth` plugin:
 * no key gets `401 Key missing`, a wrong one `401 Key auth fail` (after `delay`). Keys are compared in constant time,
 * the raw (not decoded) query value as Pingap reads it. With `hide_credentials` the parameter or header is removed
 * before the request is proxied. Keys are never logged.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { matchesAny, pause } from "./constant_time.ts";
import { queryValue, withoutQueryParam } from "./query_param.ts";
import { runtimePlugin } from "./contract.ts";

/** What {@linkcode checkKey} found. */
export type KeyAuthVerdict = "ok" | "missing" | "invalid";

/**
 * Pingap's decision on the key a request carries (`undefined` or empty: none).
 *
 * @example Usage
 * ```ts
 * import { checkKey } from "./key_auth.ts";
 * if (checkKey("123", ["123", "456"]) !== "ok" || checkKey("12", ["123"]) !== "invalid") throw new Error();
 * if (checkKey(undefined, ["123"]) !== "missing") throw new Error();
 * ```
 */
export function checkKey(value: string | null | undefined, keys: readonly string[]): KeyAuthVerdict {
  if (!value) return "missing";
  return matchesAny(value, keys) ? "ok" : "invalid";
}

/** Pingap's plugin response headers (no max-age). */
const FIELDS: readonly (readonly [string, string])[] = [["cache-control", "private, no-cache"]];

/** Creates the key_auth plugin. */
export const keyAuth = runtimePlugin(PLUGIN_DEFINITIONS.keyAuth, (c) => {
  const missing = new StaticAnswer(401, FIELDS, "Key missing");
  const invalid = new StaticAnswer(401, FIELDS, "Key auth fail");
  const query = c.query;
  const header = c.header;
  return {
    request(ctx) {
      const value = query !== undefined ? queryValue(ctx.rawQuery, query) : ctx.header(header!);
      const verdict = checkKey(value, c.keys);
      if (verdict === "ok") {
        if (c.hideCredentials) {
          if (query !== undefined) ctx.rawQuery = withoutQueryParam(ctx.rawQuery, query);
          else ctx.upstreamHeaders.delete(header!);
        }
        return undefined;
      }
      if (verdict === "missing") return missing;
      return pause(c.delay)?.then(() => invalid) ?? invalid;
    },
  };
});
