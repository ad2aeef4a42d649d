/**
 * `ping`: `200 pong` on one exact path.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { runtimePlugin } from "./contract.ts";
import { StaticAnswer } from "../http/static_answer.ts";

/** The runtime half of `ping`. */
export const ping = runtimePlugin(PLUGIN_DEFINITIONS.ping, ({ path }) => {
  // Pingap sends cache-control; the content-type is the one a string body gets from `Response` (and had before).
  const pong = new StaticAnswer(200, [
    ["cache-control", "private, no-cache"],
    ["content-type", "text/plain;charset=UTF-8"],
  ], "pong");
  return {
    request(ctx) {
      return ctx.path === path ? pong : undefined;
    },
  };
});
