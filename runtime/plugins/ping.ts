/**
 * `ping`: `200 pong` on one exact path.
 *
 * @module
 */
import type { PluginFactory } from "./types.ts";
import { configOf } from "./types.ts";

/** Creates the ping plugin. */
export const ping: PluginFactory = (plan) => {
  const { path } = configOf<{ path: string }>(plan);
  // Built once: a Response copies a Headers object's list faster than it converts a record.
  const headers = new Headers({ "content-type": "text/plain; charset=utf-8", "cache-control": "private, no-cache" });
  const init: ResponseInit = { headers };
  return {
    name: plan.name,
    step: plan.step,
    request(ctx) {
      if (ctx.path !== path) return undefined;
      return new Response("pong", init);
    },
  };
};
