/**
 * Header value templates (`proxy_set_headers`, `response_headers`, cors'
 * `allow_origin`). Pingap substitutes a value only when the whole value is
 * one variable (`$host`, `$http_origin`, `:connection_id`, `$ENV_NAME`);
 * we also accept `${name}` inside longer text. The compiler splits each
 * value into parts once; the runtime only concatenates.
 *
 * @module
 */

/** Request variables with a fixed meaning. */
export const REQUEST_VARIABLES = [
  "host",
  "scheme",
  "hostname",
  "remote_addr",
  "remote_port",
  "client_ip",
  "server_addr",
  "server_port",
  "upstream_addr",
  "proxy_add_x_forwarded_for",
  "ja4",
] as const;

/** A request variable with a fixed meaning. */
export type RequestVariable = typeof REQUEST_VARIABLES[number];

const FIXED = new Set<string>(REQUEST_VARIABLES);

/** One part of a template. */
export type TemplatePart =
  | string
  | { readonly var: RequestVariable }
  | { readonly header: string }
  | { readonly ctx: string }
  /** A capture or environment variable; the runtime tries captures, then the environment, else keeps `raw`. */
  | { readonly name: string; readonly raw: string };

/** A compiled template; a single string part is a literal. */
export type Template = readonly TemplatePart[];

function token(name: string, raw: string): TemplatePart {
  if (FIXED.has(name)) return { var: name as RequestVariable };
  if (name.startsWith("http_")) return { header: name.slice(5).replaceAll("_", "-").toLowerCase() };
  return { name, raw };
}

/**
 * Compiles a header value.
 *
 * @example Usage
 * ```ts
 * import { compileTemplate } from "./template.ts";
 * const t = compileTemplate("$http_x_user_id");
 * if (typeof t[0] !== "object" || !("header" in t[0]) || t[0].header !== "x-user-id") throw new Error();
 * ```
 */
export function compileTemplate(value: string): Template {
  const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  if (whole) return [token(whole[1]!, value)];
  const ctx = /^:([a-z_]+)$/.exec(value);
  if (ctx) return [{ ctx: ctx[1]! }];
  if (!value.includes("${")) return [value];
  const out: TemplatePart[] = [];
  let last = 0;
  for (const m of value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    if (m.index > last) out.push(value.slice(last, m.index));
    out.push(token(m[1]!, m[0]));
    last = m.index + m[0].length;
  }
  if (last < value.length) out.push(value.slice(last));
  return out;
}
