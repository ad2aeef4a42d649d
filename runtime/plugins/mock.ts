/**
 * `mock`: a fixed response.
 *
 * @module
 */
import type { HeaderLine } from "../../compiler/values/header.ts";
import type { PluginFactory } from "./types.ts";
import { configOf } from "./types.ts";
import { responseWith } from "../response_build.ts";

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
  const body = new TextEncoder().encode(c.data);
  const status = c.status >= 200 && c.status <= 599 ? c.status : 200;
  return {
    name: plan.name,
    step: plan.step,
    async request(ctx) {
      if (c.path !== "" && ctx.path !== c.path) return undefined;
      if (c.delay) await new Promise((r) => setTimeout(r, c.delay));
      return responseWith(status === 204 || status === 304 ? null : body, { status }, c.headers);
    },
  };
};
