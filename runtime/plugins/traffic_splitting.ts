/**
 * `traffic_splitting`: sends `weight` percent of a location's requests to another upstream, as Pingap: a roll of
 * 0–99 below `weight` switches. The roll is random, or with `stickiness` the CRC-32 of the sticky value (cookie, else
 * header) modulo 100, so one client always lands on the same side; without the value it never switches. With a
 * `matcher`, a sticky value that matches always switches and any other never does.
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { type PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import type { RequestContext } from "../proxy/context.ts";
import { runtimePlugin } from "./contract.ts";

/** The compiled config. */
export type TrafficSplittingPlan = PlanOf<typeof PLUGIN_DEFINITIONS.trafficSplitting>;

/** Never below any weight: the request stays. */
const STAY = 255;

/** The sticky value of a request: the cookie when one is configured, else the header. */
function stickyValue(c: TrafficSplittingPlan, ctx: RequestContext): string | undefined {
  if (c.stickyCookie !== undefined) return ctx.cookie(c.stickyCookie);
  if (c.stickyHeader !== undefined) return ctx.header(c.stickyHeader) ?? undefined;
  return undefined;
}

/**
 * The roll of a request, 0–99 (or 255: never switch).
 *
 * @param c The plan.
 * @param sticky The sticky value, when the plan is sticky.
 * @param random A number in [0, 1).
 * @returns The roll.
 */
export function roll(c: TrafficSplittingPlan, sticky: string | undefined, random: number): number {
  if (!c.stickiness) return Math.floor(random * 100);
  if (sticky === undefined) return STAY;
  if (c.matcher !== undefined) return c.matcher.test(sticky) ? 0 : STAY;
  return crc32(sticky) % 100;
}

/** The traffic_splitting plugin. */
export const trafficSplitting = runtimePlugin(PLUGIN_DEFINITIONS.trafficSplitting, (c) => {
  return {
    request(ctx) {
      if (roll(c, c.stickiness ? stickyValue(c, ctx) : undefined, Math.random()) < c.weight) {
        ctx.upstreamName = c.upstream;
      }
      return undefined;
    },
  };
});
