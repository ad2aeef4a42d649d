/**
 * `ping`: `200 pong` on one exact path.
 *
 * @module
 */
import type { PluginFactory } from "./types.ts";
import { configOf } from "./types.ts";
import { responseWith } from "../response_build.ts";

/** Creates the ping plugin. */
export const ping: PluginFactory = (plan) => {
  const { path } = configOf<{ path: string }>(plan);
  // Pingap sends only cache-control; Deno.serve adds `content-type: text/plain;charset=UTF-8` for a string body
  // itself, natively.
  const headers = { "cache-control": "private, no-cache" };
  return {
    name: plan.name,
    step: plan.step,
    request(ctx) {
      if (ctx.path !== path) return undefined;
      return responseWith("pong", {}, headers);
    },
  };
};
