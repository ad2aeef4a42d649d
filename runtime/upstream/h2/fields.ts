/**
 * The fields of an h2 upstream exchange: the request head as a flat list for HPACK (pseudo headers first, no
 * connection-specific field, the upstream's header options applied) and a response's fields as `Headers`.
 *
 * @module
 */

import { nominations } from "../nominations.ts";
import type { HeaderPolicy } from "../../../compiler/mod.ts";
import type { Backend } from "../types.ts";
import type { HttpRequest } from "../../http/message.ts";
import { fieldValue, isConnectionOwn, isHopByHop } from "../../http/headers_copy.ts";

/**
 * The HTTP/2 request head for `req` as a flat `[name, value, …]` list: pseudo headers, then the request headers
 * without connection-specific ones. `te` is kept only as `trailers`, and added for gRPC (`content-type:
 * application/grpc…`), which requires it. The upstream's `policy` (options off) keeps the fields `connection` names
 * or ignores malformed names, and keeps `proxy-authorization`, `proxy-authenticate` and `trailer` (the other
 * hop-by-hop fields HTTP/2 forbids).
 */
export function requestHeaders(
  req: HttpRequest,
  backend: Backend,
  tls: boolean,
  policy?: HeaderPolicy,
): string[] {
  // The raw fields while they are what goes out (no `Headers` made per request), as the HTTP/1.1 client does.
  const fields = req.fields ?? req.headers;
  const out: string[] = [
    ":method",
    req.method,
    ":scheme",
    tls ? "https" : "http",
    ":authority",
    fieldValue(fields, "host") || backend.addr,
    ":path",
    req.target || "/",
  ];
  const connection = fieldValue(fields, "connection");
  // Host, x-forwarded-* and non-tokens named there are refused (ClientRequestError), as for HTTP/1.1.
  const nominated = connection === null || (policy !== undefined && !policy.stripNominated)
    ? null
    : nominations(connection, policy?.rejectMalformed ?? true, false);
  const keepHop = policy !== undefined && !policy.stripHopByHop;
  let te = false;
  let grpc = false;
  const add = (value: string, name: string): void => {
    if (name === "host" || (nominated !== null && nominated.includes(name))) return;
    if (name === "te") {
      if (!te && value.trim().toLowerCase() === "trailers") {
        te = true;
        out.push("te", "trailers");
      }
      return;
    }
    // HTTP/2 forbids the connection-specific fields (RFC 9113 §8.2.2) whatever the policy; `trailer` and the proxy
    // ones go only with `strip_hop_by_hop = false`.
    if (
      isHopByHop(name) && (!keepHop || isConnectionOwn(name) || name === "keep-alive" || name === "proxy-connection")
    ) {
      return;
    }
    if (name === "content-type" && value.startsWith("application/grpc")) grpc = true;
    out.push(name, value);
  };
  // forEach, not for…of: Deno's pair iterator costs about 6× as much (see runtime/http/headers_copy.ts).
  if (fields instanceof Headers) fields.forEach(add);
  else for (let i = 0; i < fields.length; i += 2) add(fields[i + 1]!, fields[i]!);
  if (!te && grpc) out.push("te", "trailers");
  return out;
}

/** Response fields (flat `[name, value, …]`) as Headers, without pseudo headers; undefined when one is invalid. */
export function responseHeaders(fields: readonly string[]): Headers | undefined {
  const out = new Headers();
  try {
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      if (name.charCodeAt(0) === 58) continue;
      out.append(name, fields[i + 1]!);
    }
  } catch {
    return undefined;
  }
  return out;
}
