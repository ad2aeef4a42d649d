/**
 * `limit`: rate or concurrency limit per client key (IP, header, cookie or
 * query parameter), as Pingap 0.16 has it: `max` requests in any one sliding
 * `interval`, refused requests not counted.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { bool, duration, field, int, oneOf, str } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `limit` config. */
export interface LimitPlan {
  /** `rate`: requests per interval; `inflight`: concurrent requests. */
  readonly type: "rate" | "inflight";
  /** Where the limit key comes from. */
  readonly tag: "ip" | "header" | "cookie" | "query";
  /** Header (lower-cased), cookie or query name for the key; empty for `ip`. */
  readonly key: string;
  /** `key` as written, for the 400 of `missing_key = "reject"`. */
  readonly keyName: string;
  /** Requests allowed in any one `interval` (rate) or at the same time (inflight). */
  readonly max: number;
  /** Rate window in milliseconds (at least 1). */
  readonly interval: number;
  /** Status of a refusal (400–599, default 429). */
  readonly status: number;
  /** Body of a refusal; empty: Pingap's `Plugin limit, exceed limit <value>/<max>`. */
  readonly message: string;
  /** Refuse (400) a request without a value for the key, instead of letting it through unlimited. */
  readonly rejectMissingKey: boolean;
  /** Send `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`. */
  readonly headers: boolean;
  /** `Retry-After` of a rate refusal, in whole seconds (`interval`, at least 1); empty for inflight. */
  readonly retryAfter: string;
}

/** The `limit` plugin. */
export const limit = definePlugin({
  category: "limit",
  doc: "Limits how many requests one client key may make. In `rate` mode the key may send `max` requests in any one " +
    "sliding `interval` (refused requests are not counted); in `inflight` mode it may have at most `max` requests in " +
    "progress. Requests over the limit get `429 Too Many Requests` (or `status`), and a rate refusal carries " +
    "`Retry-After`. The client IP is the verified one (`basic.trusted_proxies`).",
  steps: { allowed: ["request", "proxy_upstream"], default: "request" },
  runtime: true,
  fields: {
    type: field(oneOf(["rate", "inflight"], { caseSensitive: true }), {
      doc: "`rate` counts requests per `interval`; `inflight` counts requests still in progress.",
      default: "rate",
    }),
    tag: field(oneOf(["ip", "header", "cookie", "query"], { caseSensitive: true }), {
      doc: "What identifies a client: its IP, or the value of the header, cookie or query parameter named by `key`.",
      default: "ip",
    }),
    key: field(str(), {
      doc: "Name of the header, cookie or query parameter that holds the client key; required unless `tag` is `ip`.",
      default: "",
    }),
    max: field(int(), {
      doc:
        "Requests allowed in any one `interval` (rate) or at the same time (inflight); required (Pingap 0.16). `0` " +
        "refuses every request.",
      unit: "requests",
    }),
    interval: field(duration(), {
      doc: "Length of the sliding rate window, at least 1ms. Unused in `inflight` mode.",
      default: "10s",
    }),
    weight: field(int({ min: 0, max: 100 }), {
      doc: "Pingap 0.15's share of the current window in the rate estimate.",
      unapplied: "Pingap 0.16 no longer uses it: max is the number of requests in any one sliding interval",
    }),
    status: field(int({ min: 400, max: 599, hint: "status must be between 400 and 599" }), {
      doc: "Status of the response to a request over the limit.",
      default: 429,
    }),
    message: field(str(), {
      doc: "Body of the response to a request over the limit; by default `Plugin limit, exceed limit <count>/<max>`.",
      default: "",
    }),
    missing_key: field(oneOf(["pass", "reject"], { caseSensitive: true }), {
      doc:
        "A request without a value for the key: `pass` lets it through unlimited, `reject` answers `400 Plugin limit, " +
        "the header <key> is required` (or cookie, or query parameter).",
      default: "pass",
    }),
    headers: field(bool(), {
      doc:
        "Tell the client its budget in `X-RateLimit-Limit`, `X-RateLimit-Remaining` and (rate mode) `X-RateLimit-Reset` " +
        "on the location's responses (the upstream's and plugin answers; not the proxy's own error pages).",
      default: false,
    }),
  },
  compile(config, ctx): LimitPlan {
    const { type, tag, interval } = config;
    // Pingap 0.16 requires max; a table without it (Pingap's own sample) is kept, failing closed: max 0 refuses every
    // request, and the warning below says so.
    const max = config.max ?? 0;
    const keyName = config.key.trim();
    let key = keyName;
    if (tag === "ip" && key !== "") {
      ctx.diags.push(diag("ignored-key", [...ctx.path, "key"], `Key "key" is ignored when tag is "ip"`, {
        severity: "warning",
        hint: 'Remove key, or set tag to "header", "cookie" or "query"',
      }));
      key = "";
    } else if (tag !== "ip" && key === "") {
      // Pingap 0.16 requires it; without one, every request counts as the same client (fails closed: one budget).
      ctx.diags.push(
        diag("missing-key", [...ctx.path, "key"], `Key is not set, so every request counts as one client`, {
          severity: "warning",
          hint: `Set key to the ${tag} name that identifies a client (Pingap 0.16 requires it)`,
        }),
      );
    }
    if (tag === "header") key = key.toLowerCase();
    if (type === "rate" && interval < 1) {
      ctx.diags.push(diag("out-of-range", [...ctx.path, "interval"], "interval must be at least 1ms", {
        hint: 'Use a longer window, e.g. interval = "1s"',
      }));
    }
    if (max === 0) {
      ctx.diags.push(
        diag(
          "plugin-refuses-all",
          [...ctx.path, "max"],
          `Limit max is ${config.max === undefined ? "not set (0)" : "0"}, so every request is refused`,
          {
            severity: "warning",
            hint: "Set max to the number of requests allowed (Pingap 0.16 requires it)",
          },
        ),
      );
    }
    return {
      type,
      tag,
      key,
      keyName,
      max,
      interval: Math.max(interval, 1),
      status: config.status,
      message: config.message,
      rejectMissingKey: config.missing_key === "reject",
      headers: config.headers,
      retryAfter: type === "rate" ? String(Math.max(Math.floor(interval / 1000), 1)) : "",
    };
  },
});
