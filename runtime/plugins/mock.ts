/**
 * `mock`: a fixed response.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { runtimePlugin } from "./contract.ts";
import { StaticAnswer } from "../http/static_answer.ts";

/** The runtime half of `mock`. */
export const mock = runtimePlugin(PLUGIN_DEFINITIONS.mock, (c) => {
  const status = c.status >= 200 && c.status <= 599 ? c.status : 200;
  // Made once: the same answer for every request.
  const answer = new StaticAnswer(status, c.headers, status === 204 || status === 304 ? null : c.data);
  const delay = c.delay;
  if (delay) {
    return {
      async request(ctx) {
        if (c.path !== "" && ctx.path !== c.path) return undefined;
        await new Promise((r) => setTimeout(r, delay));
        return answer;
      },
    };
  }
  return {
    request(ctx) {
      return c.path === "" || ctx.path === c.path ? answer : undefined;
    },
  };
});
