/**
 * `redirect`: to https and/or under a path prefix.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { runtimePlugin } from "./contract.ts";
import { responseWith } from "../http/response_build.ts";

/** The runtime half of `redirect`. */
export const redirect = runtimePlugin(PLUGIN_DEFINITIONS.redirect, (c) => {
  const scheme = c.httpToHttps ? "https" : "http";
  return {
    request(ctx) {
      const prefixed = c.prefix === "" || ctx.path.startsWith(c.prefix);
      if (ctx.scheme === scheme && prefixed) return undefined;
      const path = prefixed ? ctx.path : c.prefix + ctx.path;
      const location = `${scheme}://${ctx.header("host") ?? ctx.host}${path}${ctx.rawQuery ? `?${ctx.rawQuery}` : ""}`;
      return responseWith(null, { status: c.status }, { location });
    },
  };
});
