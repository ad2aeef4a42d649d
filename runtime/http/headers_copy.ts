/**
 * Copying `Headers` on the request path without iterating them with
 * `for…of`: in Deno 2.9.6, `new Headers(headers)` and `for (const [k, v] of
 * headers)` go through the WebIDL pair iterator (a sorted copy plus one
 * result object per field), about 6× the cost of `headers.forEach` (measured:
 * 7 fields, 14 µs against 2 µs; `new Headers(headers)` 22 µs against 4.5 µs
 * for this copy). Same fields, same order, same combined values.
 *
 * @module
 */

/**
 * Whether a field is hop-by-hop (RFC 9110 §7.6.1: `connection`, `keep-alive`, `proxy-connection`, `te`, `trailer`,
 * `transfer-encoding`, `upgrade`; and, as Pingora's `strip_hop_by_hop` list, `proxy-authenticate`,
 * `proxy-authorization`, `http2-settings`), by lower-case name: a proxy does not forward it.
 *
 * @example Usage
 * ```ts
 * import { isHopByHop } from "./headers_copy.ts";
 * if (!isHopByHop("keep-alive") || isHopByHop("x-a")) throw new Error();
 * ```
 */
export function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === "te";
    case 7:
      return name === "trailer" || name === "upgrade";
    case 10:
      return name === "connection" || name === "keep-alive";
    case 14:
      return name === "http2-settings";
    case 16:
      return name === "proxy-connection";
    case 17:
      return name === "transfer-encoding";
    case 18:
      return name === "proxy-authenticate";
    case 19:
      return name === "proxy-authorization";
    default:
      return false;
  }
}

/**
 * Whether a hop-by-hop field never goes upstream, even with `strip_hop_by_hop = false`: `connection`, `upgrade` and
 * `http2-settings` (`h1_upgrade` decides on those) and `transfer-encoding` (the client frames the body anew).
 *
 * @example Usage
 * ```ts
 * import { isConnectionOwn } from "./headers_copy.ts";
 * if (!isConnectionOwn("upgrade") || isConnectionOwn("te")) throw new Error();
 * ```
 */
export function isConnectionOwn(name: string): boolean {
  return name === "connection" || name === "upgrade" || name === "http2-settings" || name === "transfer-encoding";
}

/**
 * A mutable copy of `source`, leaving out the fields `skip` says to.
 *
 * @example Usage
 * ```ts
 * import { copyHeaders } from "./headers_copy.ts";
 * const h = copyHeaders(new Headers({ a: "1", connection: "close" }), (name) => name === "connection");
 * if (h.get("a") !== "1" || h.has("connection")) throw new Error();
 * ```
 *
 * @param source Headers to copy.
 * @param skip Called with each lower-case name; true leaves the field out.
 * @returns The copy.
 */
export function copyHeaders(source: Headers, skip?: (name: string) => boolean): Headers {
  const out = new Headers();
  if (skip === undefined) source.forEach((value, name) => out.append(name, value));
  else source.forEach((value, name) => skip(name) || out.append(name, value));
  return out;
}

/** Request fields: a `Headers`, or `[name, value, …]` with lower-case names (the HTTP/1.1 front end's, as sent). */
export type RequestFields = Headers | readonly string[];

/** A field's value (repeated fields joined with ", "), or null. */
export function fieldValue(fields: RequestFields, name: string): string | null {
  if (fields instanceof Headers) return fields.get(name);
  let out: string | null = null;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === name) out = out === null ? fields[i + 1]! : `${out}, ${fields[i + 1]!}`;
  }
  return out;
}

/** Appends `[name, value, …]` to `headers` and returns it (throws what `Headers.append` throws). */
export function appendFields(headers: Headers, fields: readonly string[]): Headers {
  for (let i = 0; i < fields.length; i += 2) headers.append(fields[i]!, fields[i + 1]!);
  return headers;
}
