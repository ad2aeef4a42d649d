/**
 * `ping`: `200 pong` on one exact path.
 *
 * @module
 */
import type { PluginFactory } from "./types.ts";
import { configOf } from "./types.ts";
import { StaticAnswer } from "../http/static_answer.ts";

/** Creates the ping plugin. */
export const ping: PluginFactory = (plan) => {
  const { path } = configOf<{ path: string }>(plan);
  // Pingap sends cache-control; the content-type is the one a string body gets from `Response` (and had before).
  const pong = new StaticAnswer(200, [
    ["cache-control", "private, no-cache"],
    ["content-type", "text/plain;charset=UTF-8"],
  ], "pong");
  return {
    name: plan.name,
    step: plan.step,
    request(ctx) {
      return ctx.path === path ? pong : undefined;
    },
  };
};
