/**
 * `cors`: answers CORS preflights and adds CORS headers to responses.
 *
 * @module
 */
import { SECONDS_LIMIT } from "../units.ts";
import { diag } from "../diagnostic.ts";
import { bool, duration, field, str } from "../schema/types.ts";
import { compileTemplate, type Template } from "../values/template.ts";
import { isHeaderValue, regex } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `cors` config. */
export interface CorsPlan {
  /** Only requests whose path matches get CORS handling; absent handles all. */
  readonly path?: RegExp;
  /** `access-control-allow-origin` value (a template: `$http_origin` echoes the request's Origin). */
  readonly allowOrigin: Template;
  /**
   * The other CORS headers, in order: allow-methods, allow-headers, max-age
   * (seconds, left out when 0), allow-credentials, expose-headers.
   */
  readonly headers: readonly (readonly [string, string])[];
}

/** The `cors` plugin. */
export const cors = definePlugin({
  category: "cors",
  runtime: true,
  doc:
    "Handles Cross-Origin Resource Sharing: an `OPTIONS` request on a matching path is answered `204` with the CORS " +
    "headers, and other responses on matching paths get the same headers added.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    path: field(regex(), {
      doc: "Regex on the request path, e.g. `^/api`; only matching requests are handled. Unset handles all.",
    }),
    allow_origin: field(str({ nonEmpty: true }), {
      doc: "`Access-Control-Allow-Origin` value: `*`, an origin, or `$http_origin` to echo the request's Origin.",
      default: "*",
    }),
    allow_methods: field(str({ nonEmpty: true }), {
      doc: "`Access-Control-Allow-Methods` value.",
      default: "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    }),
    allow_headers: field(str({ nonEmpty: true }), {
      doc: "`Access-Control-Allow-Headers` value, e.g. `Content-Type, Authorization`.",
    }),
    allow_credentials: field(bool(), { doc: "Send `Access-Control-Allow-Credentials: true`.", default: false }),
    expose_headers: field(str({ nonEmpty: true }), { doc: "`Access-Control-Expose-Headers` value." }),
    max_age: field(duration(SECONDS_LIMIT), {
      doc:
        "`Access-Control-Max-Age`: how long browsers may cache a preflight answer (whole seconds; `0s` leaves the header out).",
      default: "1h",
    }),
  },
  compile(config, ctx): CorsPlan {
    const headers: [string, string][] = [];
    const add = (key: string, name: string, value: string | undefined) => {
      if (value === undefined) return;
      if (!isHeaderValue(value)) {
        ctx.diags.push(
          diag("invalid-value", [...ctx.path, key], `Value ${JSON.stringify(value)} is not a valid header value`, {
            hint: "Remove control characters and line breaks",
          }),
        );
        return;
      }
      headers.push([name, value.trim()]);
    };
    add("allow_methods", "access-control-allow-methods", config.allow_methods);
    add("allow_headers", "access-control-allow-headers", config.allow_headers);
    const maxAge = Math.floor(config.max_age / 1000);
    if (maxAge > 0) headers.push(["access-control-max-age", String(maxAge)]);
    if (config.allow_credentials) headers.push(["access-control-allow-credentials", "true"]);
    add("expose_headers", "access-control-expose-headers", config.expose_headers);
    if (!isHeaderValue(config.allow_origin)) {
      ctx.diags.push(
        diag(
          "invalid-value",
          [...ctx.path, "allow_origin"],
          `Value ${JSON.stringify(config.allow_origin)} is not a valid header value`,
        ),
      );
    }
    if (config.allow_credentials && config.allow_origin.trim() === "*") {
      ctx.diags.push(
        diag(
          "cors-credentials-wildcard",
          [...ctx.path, "allow_origin"],
          'Browsers refuse credentials when allow_origin is "*"',
          {
            severity: "warning",
            hint: 'Set allow_origin = "$http_origin" or a specific origin',
          },
        ),
      );
    }
    return {
      ...(config.path !== undefined ? { path: config.path } : {}),
      allowOrigin: compileTemplate(config.allow_origin.trim()),
      headers,
    };
  },
});
