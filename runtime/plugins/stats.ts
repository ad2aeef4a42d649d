/**
 * `stats`: process figures as JSON on one exact path.
 *
 * @module
 */
import type { StatsPlan } from "../../compiler/mod.ts";
import type { PluginEnv, PluginFactory } from "./types.ts";
import { configOf } from "./types.ts";
import type { HttpResponse } from "../http/message.ts";
import { responseWith } from "../http/response_build.ts";

async function answer(env: PluginEnv): Promise<HttpResponse> {
  return responseWith(JSON.stringify(await env.stats()), { status: 200 }, {
    "content-type": "application/json",
    "cache-control": "private, no-cache",
  });
}

/** Creates the stats plugin. */
export const stats: PluginFactory = (plan, env) => {
  const c = configOf<StatsPlan>(plan);
  return {
    name: plan.name,
    step: plan.step,
    request(ctx) {
      if (c.path !== "" && ctx.path !== c.path) return undefined;
      return answer(env);
    },
  };
};
