/**
 * `forward_auth`: asks an external service whether a request may pass.
 *
 * @module
 */
import { array, duration, field } from "../schema/types.ts";
import { headerNameType, httpUrl } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `forward_auth` config. */
export interface ForwardAuthPlan {
  /** URL of the auth service. */
  readonly authUrl: string;
  /** Lower-cased request headers sent to the auth service; empty sends all. */
  readonly requestHeaders: readonly string[];
  /** Lower-cased auth-response headers copied onto the upstream request after a 2xx. */
  readonly addHeaders: readonly string[];
  /** Subrequest timeout, in milliseconds. */
  readonly timeout: number;
}

/** The `forward_auth` plugin. */
export const forwardAuth = definePlugin({
  category: "forward_auth",
  doc:
    "Sends a `GET` subrequest with the client's headers to `auth_url` before proxying, adding `X-Forwarded-Method`, " +
    "`X-Forwarded-Uri`, `X-Forwarded-Host`, `X-Forwarded-Proto` and `X-Forwarded-For`. A `2xx` answer lets the " +
    "request through (copying the `add_headers` of the answer onto it); any other answer (a `401`, a `302` to a " +
    "login page) is returned to the client with its status, headers and body; a refused, failed or timed-out " +
    "subrequest gives `502 Forward auth request failed`.",
  runtime: true,
  steps: { allowed: ["request"], default: "request" },
  fields: {
    auth_url: field(httpUrl(), { doc: "URL of the auth service, such as `http://auth:9000/verify`.", required: true }),
    request_headers: field(array(headerNameType()), {
      doc: "Request headers forwarded to the auth service. Empty forwards every header.",
      default: [],
    }),
    add_headers: field(array(headerNameType()), {
      doc: "Headers of a successful auth response that are copied onto the upstream request, e.g. `X-User-Id`.",
      default: [],
    }),
    timeout: field(duration(), { doc: "How long to wait for the auth service.", default: "10s" }),
  },
  compile(config): ForwardAuthPlan {
    return {
      authUrl: config.auth_url,
      requestHeaders: config.request_headers,
      addHeaders: config.add_headers,
      timeout: config.timeout,
    };
  },
});
