/**
 * Values read from a request's raw query and Cookie header, without URL parsing or decoding.
 *
 * @module
 */

/** Finds a raw query parameter's value (not decoded), or undefined. */
export function queryParam(query: string, name: string): string | undefined {
  if (query === "") return undefined;
  let i = 0;
  while (i <= query.length) {
    let end = query.indexOf("&", i);
    if (end < 0) end = query.length;
    const eq = query.indexOf("=", i);
    const keyEnd = eq >= 0 && eq < end ? eq : end;
    if (keyEnd - i === name.length && query.startsWith(name, i)) {
      return keyEnd === end ? "" : query.slice(keyEnd + 1, end);
    }
    i = end + 1;
  }
  return undefined;
}

/** Finds a cookie's value in a Cookie header, or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `", "` where it joins two Cookie fields: followed by a cookie name and `=` (a cookie value holds no `", "`). */
const JOINED_COOKIES = /, (?=[!#$%&'*+\-.^_`|~0-9A-Za-z]+=)/g;

/**
 * A Cookie value as `Headers.get` gives it, several fields joined by `", "`, with those joins made `"; "`; a value
 * without `", "` (one field, or fields joined by `"; "` already) as it is.
 *
 * @example Usage
 * ```ts
 * import { splitJoinedCookies } from "./request_values.ts";
 * if (splitJoinedCookies("a=1, b=2; c=3") !== "a=1; b=2; c=3") throw new Error();
 * ```
 */
export function splitJoinedCookies(value: string | null): string | null {
  return value === null || !value.includes(", ") ? value : value.replace(JOINED_COOKIES, "; ");
}
