/**
 * `mock`: a fixed response.
 *
 * @module
 */
import type { HeaderLine } from "../../compiler/mod.ts";
import type { PluginFactory } from "./types.ts";
import { configOf } from "./types.ts";
import { StaticAnswer } from "../http/static_answer.ts";

interface MockConfig {
  path: string;
  status: number;
  headers: readonly HeaderLine[];
  data: string;
  delay?: number;
}

/** Creates the mock plugin. */
export const mock: PluginFactory = (plan) => {
  const c = configOf<MockConfig>(plan);
  const status = c.status >= 200 && c.status <= 599 ? c.status : 200;
  // Made once: the same answer for every request.
  const answer = new StaticAnswer(status, c.headers, status === 204 || status === 304 ? null : c.data);
  const delay = c.delay;
  if (delay) {
    return {
      name: plan.name,
      step: plan.step,
      async request(ctx) {
        if (c.path !== "" && ctx.path !== c.path) return undefined;
        await new Promise((r) => setTimeout(r, delay));
        return answer;
      },
    };
  }
  return {
    name: plan.name,
    step: plan.step,
    request(ctx) {
      return c.path === "" || ctx.path === c.path ? answer : undefined;
    },
  };
};
