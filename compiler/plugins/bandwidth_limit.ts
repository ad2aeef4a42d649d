/**
 * `bandwidth_limit` (Pingap 0.16): paces a response body to a byte rate.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { field, size } from "../schema/types.ts";
import { regex } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `bandwidth_limit` config. */
export interface BandwidthLimitPlan {
  /** Bytes per second. */
  readonly rate: number;
  /** Bytes sent unpaced first. */
  readonly after: number;
  /** Only answers to requests whose path matches are paced; absent paces all. */
  readonly path?: RegExp;
}

/** The `bandwidth_limit` plugin. */
export const bandwidthLimit = definePlugin({
  category: "bandwidth_limit",
  runtime: true,
  doc: "Paces each response body of the location to `rate` bytes a second: the first `after` bytes and the first " +
    "chunk go at once, then each later chunk waits until (bytes − `after`) / `rate` seconds have passed. Time a slow " +
    "upstream or client leaves unused is not saved up for a burst. Upstream answers, cached ones and `directory` files " +
    "are paced (after `sub_filter`, before `compression`); upgraded connections (`101`) are not.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    rate: field(size(), { doc: 'Bytes a second, more than 0, e.g. `"100kb"`.', required: true, unit: "bytes/s" }),
    after: field(size(), { doc: "Bytes sent unpaced before pacing starts.", default: 0 }),
    path: field(regex(), { doc: "Regex on the request path; only matching requests are paced. Unset paces all." }),
  },
  compile(config, ctx): BandwidthLimitPlan {
    if (config.rate <= 0) {
      ctx.diags.push(diag("invalid-value", [...ctx.path, "rate"], "rate should be more than 0", {
        hint: 'Give the bytes a second, e.g. rate = "100kb"',
      }));
    }
    return { rate: config.rate, after: config.after, ...(config.path ? { path: config.path } : {}) };
  },
});
