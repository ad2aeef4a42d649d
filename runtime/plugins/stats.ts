/**
 * `stats`: process figures as JSON on one exact path.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { type PluginEnv, runtimePlugin } from "./contract.ts";

async function answer(env: PluginEnv): Promise<Response> {
  return Response.json(await env.stats(), { headers: { "cache-control": "private, no-cache" } });
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
