/**
 * `stats`: answers a JSON snapshot of the server's counters on one path.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { field, str } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `stats` config. */
export interface StatsPlan {
  /** Exact request path answered with the stats JSON. */
  readonly path: string;
}

/** The `stats` plugin. */
export const stats = definePlugin({
  category: "stats",
  runtime: true,
  doc:
    "Serves a JSON document with process and proxy counters (uptime, accepted and in-flight requests, memory and so on) " +
    "when the request path equals `path`; any other request passes through untouched.",
  steps: { allowed: ["request", "proxy_upstream"], default: "request" },
  aliases: { value: "path" },
  fields: {
    path: field(str(), {
      doc:
        "Exact request path that returns the stats, e.g. `/stats`. Pingap's sample config spells this key `value`, which is accepted as an old name.",
      default: "",
    }),
  },
  compile(config, ctx): StatsPlan {
    if (config.path === "") {
      ctx.diags.push(diag("plugin-inert", [...ctx.path, "path"], "Stats plugin has an empty path and never answers", {
        severity: "warning",
        hint: 'Set path, e.g. path = "/stats"',
      }));
    }
    return { path: config.path };
  },
});
