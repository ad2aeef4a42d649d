/**
 * `key_auth`: requires an API key in a query parameter or a header.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, bool, duration, field, str } from "../schema/types.ts";
import { headerNameType } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `key_auth` config. Exactly one of `query` and `header` is set. */
export interface KeyAuthPlan {
  /** Query parameter that carries the key. */
  readonly query?: string;
  /** Lower-cased header that carries the key (only when `query` is unset). */
  readonly header?: string;
  /** Accepted keys, compared in constant time. */
  readonly keys: readonly string[];
  /** Wait before answering 401, in milliseconds. */
  readonly delay?: number;
  /** Remove the key from the request before it is proxied. */
  readonly hideCredentials: boolean;
}

/** The `key_auth` plugin. */
export const keyAuth = definePlugin({
  category: "key_auth",
  runtime: true,
  doc: "Lets a request through only if it carries one of `keys`, read from the query parameter `query` or, when no " +
    "query parameter is configured, from the header `header`. A missing key gets `401 Key missing`, a wrong one " +
    "`401 Key auth fail`.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    query: field(str(), { doc: "Query parameter that carries the key. Takes precedence over `header`." }),
    header: field(headerNameType(), { doc: "Header that carries the key; used only when `query` is not set." }),
    keys: field(array(str({ nonEmpty: true }), { nonEmpty: true }), { doc: "Accepted keys.", required: true }),
    delay: field(duration(), { doc: "Wait this long before answering a failed attempt, to slow down guessing." }),
    hide_credentials: field(bool(), {
      doc: "Remove the key (the query parameter or header) from the request before it is proxied.",
      default: false,
    }),
  },
  compile(config, ctx): KeyAuthPlan {
    const query = config.query?.trim() || undefined;
    if (query === undefined && config.header === undefined) {
      ctx.diags.push(
        diag("missing-key", [...ctx.path, "query"], "Key auth needs a key source but neither query nor header is set", {
          hint: 'Set query = "api_key" or header = "X-Api-Key"',
        }),
      );
    } else if (query !== undefined && config.header !== undefined) {
      ctx.diags.push(diag("ignored-key", [...ctx.path, "header"], 'Key "header" is ignored because "query" is set', {
        severity: "warning",
        hint: "Remove one of query and header",
      }));
    }
    return {
      ...(query !== undefined ? { query } : config.header !== undefined ? { header: config.header } : {}),
      keys: config.keys,
      ...(config.delay !== undefined ? { delay: config.delay } : {}),
      hideCredentials: config.hide_credentials,
    };
  },
});
