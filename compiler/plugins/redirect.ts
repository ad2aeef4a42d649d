/**
 * `redirect`: redirects to https and/or under a path prefix.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { bool, field, int, str } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

const STATUSES = [301, 302, 307, 308];

/** Compiled `redirect` config. */
export interface RedirectPlan {
  /** Target scheme is https (else http). */
  readonly httpToHttps: boolean;
  /** Path prefix every target must start with (leading `/`), or empty. */
  readonly prefix: string;
  /** 301, 302, 307 or 308. */
  readonly status: number;
}

/** The `redirect` plugin. */
export const redirect = definePlugin({
  category: "redirect",
  runtime: true,
  doc:
    "Redirects requests whose scheme or path is not the wanted one: with `http_to_https` plain-http requests go to " +
    "the same URL over https, and with `prefix` paths that do not start with it get it prepended. Requests that are " +
    "already right pass through.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    http_to_https: field(bool(), {
      doc: "Redirect to `https`. When `false` the target scheme is `http`, so https requests are sent to http.",
      default: false,
    }),
    prefix: field(str(), {
      doc:
        "Path prefix that request paths must start with; missing ones are redirected with it prepended, e.g. `/api`.",
      default: "",
    }),
    status: field(int({ min: 100, max: 999 }), {
      doc: "Redirect status: 301, 302, 307 or 308. 307 and 308 keep the request method.",
      default: 307,
    }),
  },
  compile(config, ctx): RedirectPlan {
    if (!STATUSES.includes(config.status)) {
      ctx.diags.push(
        diag("invalid-value", [...ctx.path, "status"], `Redirect status ${config.status} is not a redirect status`, {
          hint: "Use one of: 301, 302, 307, 308",
        }),
      );
    }
    let prefix = config.prefix.trim();
    if (prefix.length <= 1) prefix = "";
    else if (!prefix.startsWith("/")) prefix = `/${prefix}`;
    return { httpToHttps: config.http_to_https, prefix, status: config.status };
  },
});
