/**
 * `traffic_splitting`: sends a share of requests to another upstream.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { bool, field, int, str } from "../schema/types.ts";
import { headerNameType, regex } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `traffic_splitting` config. */
export interface TrafficSplittingPlan {
  /** Name of the alternate upstream. */
  readonly upstream: string;
  /** Percentage (0–100) of requests switched. */
  readonly weight: number;
  /** Decide from a cookie or header value (crc32 % 100 < weight) instead of at random. */
  readonly stickiness: boolean;
  /** Cookie holding the sticky value (wins over the header). */
  readonly stickyCookie?: string;
  /** Lower-cased header holding the sticky value. */
  readonly stickyHeader?: string;
  /** With stickiness: a sticky value matching this is always switched, any other value never. */
  readonly matcher?: RegExp;
}

/** The `traffic_splitting` plugin. */
export const trafficSplitting = definePlugin({
  category: "traffic_splitting",
  runtime: true,
  doc: "Sends `weight` percent of the location's requests to the upstream `upstream` instead of its own (canary " +
    "releases, A/B tests). With `stickiness`, the choice is derived from a cookie or header value, so one client " +
    "always lands on the same side; requests without the value stay on the location's upstream.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    upstream: field(str({ nonEmpty: true }), {
      doc: "Name of the `[upstreams.<name>]` that receives the switched requests.",
      required: true,
    }),
    weight: field(int({ min: 0, max: 100 }), {
      doc: "Percentage of requests sent to `upstream`.",
      default: 0,
      unit: "%",
    }),
    stickiness: field(bool(), {
      doc:
        "Decide from `sticky_cookie` or `sticky_header` instead of at random, so a client always gets the same side.",
      default: false,
    }),
    sticky_cookie: field(str({ nonEmpty: true }), {
      doc: "Cookie whose value decides the side (checked before `sticky_header`).",
    }),
    sticky_header: field(headerNameType(), { doc: "Header whose value decides the side." }),
    matcher: field(regex(), {
      doc:
        "With `stickiness`: a sticky value matching this regex is always switched and any other value never (`weight` is then unused).",
    }),
  },
  compile(config, ctx): TrafficSplittingPlan {
    const at = (key: string) => [...ctx.path, key];
    const { stickiness, sticky_cookie: stickyCookie, sticky_header: stickyHeader, matcher } = config;
    if (stickiness && stickyCookie === undefined && stickyHeader === undefined) {
      ctx.diags.push(diag("missing-key", at("stickiness"), "Stickiness needs sticky_cookie or sticky_header", {
        hint: 'Set sticky_cookie = "<cookie name>" or sticky_header = "<header name>"',
      }));
    }
    if (!stickiness) {
      for (const key of ["sticky_cookie", "sticky_header", "matcher"] as const) {
        if (config[key] !== undefined) {
          ctx.diags.push(diag("ignored-key", at(key), `Key "${key}" is ignored because stickiness is off`, {
            severity: "warning",
            hint: "Set stickiness = true, or remove the key",
          }));
        }
      }
    }
    if (config.weight === 0 && !(stickiness && matcher !== undefined)) {
      ctx.diags.push(diag("plugin-inert", at("weight"), "Weight is 0, so no request is switched", {
        severity: "warning",
        hint: "Set weight to the percentage to switch, e.g. weight = 10",
      }));
    }
    return {
      upstream: config.upstream,
      weight: config.weight,
      stickiness,
      ...(stickiness && stickyCookie !== undefined ? { stickyCookie } : {}),
      ...(stickiness && stickyHeader !== undefined ? { stickyHeader } : {}),
      ...(stickiness && matcher !== undefined ? { matcher } : {}),
    };
  },
});
