/**
 * `limit`: rate or concurrency limit per client key (IP, header, cookie or
 * query parameter).
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { duration, field, int, oneOf, str } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `limit` config. */
export interface LimitPlan {
  /** `rate`: requests per interval; `inflight`: concurrent requests. */
  readonly type: "rate" | "inflight";
  /** Where the limit key comes from. */
  readonly tag: "ip" | "header" | "cookie" | "query";
  /** Header (lower-cased), cookie or query name for the key; empty for `ip`. */
  readonly key: string;
  /** `max` as configured. */
  readonly max: number;
  /** Rate mode: the budget per second, `max / max(interval in seconds, 1)`. Inflight mode: `max`. */
  readonly budget: number;
  /** Rate window in milliseconds. */
  readonly interval: number;
  /** Weight of the current window in the sliding estimate, 0–1. */
  readonly weight: number;
}

/** The `limit` plugin. */
export const limit = definePlugin({
  category: "limit",
  doc:
    "Limits how many requests one client key may make. In `rate` mode the key may send `max` requests per `interval` " +
    "(estimated over a sliding window); in `inflight` mode it may have at most `max` requests in progress. Requests over " +
    "the limit get `429 Too Many Requests`.",
  steps: { allowed: ["request", "proxy_upstream"], default: "request" },
  fields: {
    type: field(oneOf(["rate", "inflight"]), {
      doc: "`rate` counts requests per `interval`; `inflight` counts requests still in progress.",
      default: "rate",
    }),
    tag: field(oneOf(["ip", "header", "cookie", "query"]), {
      doc: "What identifies a client: its IP, or the value of the header, cookie or query parameter named by `key`.",
      default: "ip",
    }),
    key: field(str(), {
      doc:
        "Name of the header, cookie or query parameter that holds the client key (unused when `tag` is `ip`). Requests without a value are not limited.",
      default: "",
    }),
    max: field(int(), {
      doc: "Requests allowed per `interval` (rate) or at the same time (inflight). `0` refuses every request.",
      default: 0,
      unit: "requests",
    }),
    interval: field(duration(), { doc: "Length of the rate window. Unused in `inflight` mode.", default: "10s" }),
    weight: field(int({ min: 0, max: 100 }), {
      doc:
        "Percentage weight given to the current window (the previous window gets the rest) when estimating the rate.",
      default: 50,
    }),
  },
  compile(config, ctx): LimitPlan {
    const { type, tag, max, interval, weight } = config;
    let key = config.key.trim();
    if (tag === "ip" && key !== "") {
      ctx.diags.push(diag("ignored-key", [...ctx.path, "key"], `Key "key" is ignored when tag is "ip"`, {
        severity: "warning",
        hint: 'Remove key, or set tag to "header", "cookie" or "query"',
      }));
      key = "";
    } else if (tag !== "ip" && key === "") {
      ctx.diags.push(
        diag("plugin-inert", [...ctx.path, "key"], `Tag "${tag}" has no key name, so no request is limited`, {
          severity: "warning",
          hint: `Set key to the ${tag} name that identifies a client`,
        }),
      );
    }
    if (tag === "header") key = key.toLowerCase();
    if (max === 0 && (tag === "ip" || key !== "")) {
      ctx.diags.push(
        diag("plugin-refuses-all", [...ctx.path, "max"], "Limit max is 0, so every request is refused with 429", {
          severity: "warning",
          hint: "Set max to the number of requests allowed",
        }),
      );
    }
    const budget = type === "rate" ? max / Math.max(interval / 1000, 1) : max;
    return { type, tag, key, max, budget, interval, weight: weight / 100 };
  },
});
