/**
 * `stats`: process figures as JSON on one exact path.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { type PluginEnv, runtimePlugin } from "./contract.ts";
import type { HttpResponse } from "../http/message.ts";
import { responseWith } from "../http/response_build.ts";

async function answer(env: PluginEnv): Promise<HttpResponse> {
  return responseWith(JSON.stringify(await env.stats()), { status: 200 }, {
    "content-type": "application/json",
    "cache-control": "private, no-cache",
  });
}

/** The runtime half of `stats`. */
export const stats = runtimePlugin(PLUGIN_DEFINITIONS.stats, (c, env) => {
  return {
    request(ctx) {
      if (c.path !== "" && ctx.path !== c.path) return undefined;
      return answer(env);
    },
  };
});
