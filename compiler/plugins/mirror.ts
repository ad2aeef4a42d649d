/**
 * `mirror` (Pingap 0.16): a copy of each matching request sent in the background to another service, its answer
 * discarded.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, duration, field, int, size, str } from "../schema/types.ts";
import { httpUrl } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `mirror` config. */
export interface MirrorPlan {
  /** The target URL without a trailing `/` (and without a query). */
  readonly target: string;
  /** Share of matching requests copied, 0–100. */
  readonly percentage: number;
  /** Upper-case methods copied. */
  readonly methods: readonly string[];
  /** Largest request body copied, in bytes; 0: a request with a body is never copied. */
  readonly maxBodySize: number;
  /** Milliseconds a copy may take. */
  readonly timeout: number;
  /** Copies in flight at most; more are dropped. */
  readonly maxInflight: number;
  /** The copy's `Host`; absent: the request's. */
  readonly host?: string;
}

/** The `mirror` plugin. */
export const mirror = definePlugin({
  category: "mirror",
  runtime: true,
  doc:
    "Sends a copy of `percentage` percent of the requests whose method is in `methods` to `target` + the request's " +
    "path and query, in the background: its answer is discarded, no redirect is followed, and the request itself is " +
    "never slowed nor failed by it. The copy drops hop-by-hop and framing headers, `Expect` and the client's " +
    "`X-Forwarded-*`/`X-Real-IP`, and sets `Host`, `X-Forwarded-Proto`, `X-Forwarded-For` and `X-Real-IP` (the client " +
    "IP) and `X-Pingap-Mirror: 1`; a request that already has `X-Pingap-Mirror` is not copied. A request body is " +
    "copied as it goes to the upstream, when it is at most `max_body_size`. Copies beyond `max_inflight` are dropped.",
  steps: { allowed: ["request", "proxy_upstream"], default: "request" },
  fields: {
    target: field(httpUrl(), {
      doc: "The service receiving the copies, an http(s) URL without a query, e.g. `http://10.0.0.2:8080/shadow`.",
      required: true,
    }),
    percentage: field(int({ min: 0, max: 100 }), {
      doc: "Share of matching requests copied.",
      default: 100,
      unit: "%",
    }),
    methods: field(array(str({ nonEmpty: true })), { doc: "Methods copied.", defaultText: '["GET", "HEAD"]' }),
    max_body_size: field(size(), {
      doc: "Largest request body copied; `0` never copies a request with a body.",
      default: 0,
    }),
    timeout: field(duration(), { doc: "How long a copy may take, more than 0.", default: "5s" }),
    max_inflight: field(int({ min: 1 }), { doc: "Copies in flight at most; more are dropped.", default: 100 }),
    host: field(str({ nonEmpty: true }), { doc: "The copy's `Host`.", defaultText: "the request's Host" }),
  },
  compile(config, ctx): MirrorPlan {
    const url = new URL(config.target);
    if (url.search !== "" || config.target.includes("?")) {
      ctx.diags.push(diag("invalid-value", [...ctx.path, "target"], "target should have no query", {
        hint: 'The request\'s path and query are appended; write e.g. target = "http://10.0.0.2:8080/shadow"',
      }));
    }
    if (config.timeout <= 0) {
      ctx.diags.push(diag("invalid-value", [...ctx.path, "timeout"], "timeout should be more than 0", {
        hint: 'e.g. timeout = "5s"',
      }));
    }
    const methods = config.methods === undefined || config.methods.length === 0
      ? ["GET", "HEAD"]
      : [...new Set(config.methods.map((m) => m.trim().toUpperCase()))];
    return {
      target: config.target.replace(/\/+$/, ""),
      percentage: config.percentage,
      methods,
      maxBodySize: config.max_body_size,
      timeout: config.timeout,
      maxInflight: config.max_inflight,
      ...(config.host !== undefined ? { host: config.host } : {}),
    };
  },
});
