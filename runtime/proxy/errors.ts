/**
 * Error responses: one place that turns a failure into a status, a body
 * from `basic.error_template` and an `X-Pingap-EType` header.
 *
 * @module
 */
import { responseWith } from "../http/response_build.ts";
import type { HttpResponse } from "../http/message.ts";

/** A failure with the status the client gets. */
export class ProxyError extends Error {
  /** Creates the error. */
  constructor(readonly status: number, readonly type: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProxyError";
  }
}

const DEFAULT_TEMPLATE = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{{error_type}}</title>
<style>body{font-family:system-ui,sans-serif;margin:3em auto;max-width:40em;color:#333}p{color:#666}</style>
</head>
<body><h1>{{error_type}}</h1><p>{{content}}</p><p><small>pingap-deno {{version}}</small></p></body>
</html>
`;

/** The program version shown in error pages. */
export const VERSION = "0.1.0";

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function escapeJson(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

/**
 * Builds the error response.
 *
 * @example Usage
 * ```ts
 * import { errorResponse, ProxyError } from "./errors.ts";
 * const res = errorResponse(new ProxyError(502, "upstream", "Connection refused"), undefined);
 * if (res.status !== 502 || res.headers.get("x-pingap-etype") !== "upstream") throw new Error();
 * ```
 */
export function errorResponse(err: ProxyError, template: string | undefined): HttpResponse {
  const tpl = template ?? DEFAULT_TEMPLATE;
  const json = tpl.trimStart().startsWith("{");
  const esc = json ? escapeJson : escapeHtml;
  const body = tpl.replaceAll("{{version}}", VERSION).replaceAll("{{error_type}}", esc(err.type)).replaceAll(
    "{{content}}",
    esc(err.message),
  );
  return responseWith(body, { status: err.status }, {
    "content-type": json ? "application/json; charset=utf-8" : "text/html; charset=utf-8",
    "x-pingap-etype": err.type,
    "cache-control": "private, no-store",
  });
}
