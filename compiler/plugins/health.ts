/**
 * `health` (Pingap 0.16): a readiness answer at a path, from the health of the upstreams' backends.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, field, int, str } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `health` config. */
export interface HealthPlan {
  /** The exact path answered. */
  readonly path: string;
  /** The upstreams judged, by name; empty means every upstream (transparent ones skipped). */
  readonly upstreams: readonly string[];
  /** How many healthy backends make an upstream ready. */
  readonly minHealthy: number;
}

/** The `health` plugin. */
export const health = definePlugin({
  category: "health",
  runtime: true,
  doc: "Answers requests whose path is exactly `path` with the readiness of the upstreams: " +
    '`{"ready":true,"upstreams":{"<name>":{"healthy":1,"total":2,"ready":true,"unhealthy_backends":["<addr>"]}}}`, ' +
    "`200` when every upstream judged has at least `min_healthy` healthy backends, else `503`. A backend without a " +
    "health check counts as healthy. A transparent upstream is skipped unless named, and counts as ready when named.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    path: field(str({ nonEmpty: true }), { doc: "The exact request path answered; starts with `/`.", required: true }),
    upstreams: field(array(str({ nonEmpty: true })), {
      doc: "The upstreams judged, by name (each must be defined).",
      defaultText: "every upstream",
    }),
    min_healthy: field(int({ min: 1 }), { doc: "Healthy backends an upstream needs to be ready.", default: 1 }),
  },
  compile(config, ctx): HealthPlan {
    if (!config.path.startsWith("/")) {
      ctx.diags.push(diag("invalid-value", [...ctx.path, "path"], "path should start with /", {
        hint: 'Write the path a probe asks for, e.g. path = "/readyz"',
      }));
    }
    return { path: config.path, upstreams: [...new Set(config.upstreams ?? [])], minHealthy: config.min_healthy };
  },
});
