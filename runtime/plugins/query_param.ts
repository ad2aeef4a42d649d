/**
 * Query parameters as Pingap's plugins read them: raw (not decoded), the first `name=value` wins, a parameter without
 * `=` is none (`get_query_value`); and a query without a parameter (`remove_query_from_header`).
 *
 * @module
 */

/**
 * A raw query without every `name=…` parameter (Pingap's `remove_query_from_header`); the others keep their order and
 * spelling.
 *
 * @example Usage
 * ```ts
 * import { withoutQueryParam } from "./query_param.ts";
 * if (withoutQueryParam("user=123&type=1", "user") !== "type=1") throw new Error();
 * ```
 */
export function withoutQueryParam(query: string, name: string): string {
  return query.split("&").filter((part) => {
    const eq = part.indexOf("=");
    return (eq < 0 ? part : part.slice(0, eq)) !== name;
  }).join("&");
}

/** The raw value of the first `name=value` parameter (Pingap's `get_query_value`: a parameter without `=` is none). */
export function queryValue(query: string, name: string): string | undefined {
  if (query === "") return undefined;
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    if (eq >= 0 && part.slice(0, eq) === name) return part.slice(eq + 1);
  }
  return undefined;
}
