/**
 * `redirect`: to https and/or under a path prefix.
 *
 * @module
 */
import type { RedirectPlan } from "../../compiler/mod.ts";
import type { PluginFactory } from "./types.ts";
import { configOf } from "./types.ts";
import { responseWith } from "../http/response_build.ts";

/** Creates the redirect plugin. */
export const redirect: PluginFactory = (plan) => {
  const c = configOf<RedirectPlan>(plan);
  const scheme = c.httpToHttps ? "https" : "http";
  return {
    name: plan.name,
    step: plan.step,
    request(ctx) {
      const prefixed = c.prefix === "" || ctx.path.startsWith(c.prefix);
      if (ctx.scheme === scheme && prefixed) return undefined;
      const path = prefixed ? ctx.path : c.prefix + ctx.path;
      const location = `${scheme}://${ctx.header("host") ?? ctx.host}${path}${ctx.rawQuery ? `?${ctx.rawQuery}` : ""}`;
      return responseWith(null, { status: c.status }, { location });
    },
  };
};
