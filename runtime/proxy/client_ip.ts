/**
 * The client IP of a request, the one every reader uses (access log `{client_ip}`, `$client_ip`, `hash:ip`, the
 * failure log, tracing, and the plugins that decide by address): `X-Forwarded-For` and `X-Real-IP` count only when
 * the direct peer is in `basic.trusted_proxies` (Pingap 0.16); otherwise, and when the list is unset, the client is
 * the peer. From a trusted peer, `X-Forwarded-For` is walked from the right, skipping trusted addresses, as nginx's
 * `real_ip_recursive on` does: the first address not in the list is the client, so an address a client wrote at the
 * left of the header is never taken for one a trusted proxy appended.
 *
 * `RequestContext.clientIp()` calls {@linkcode resolveClientIp} once per request and keeps the answer.
 *
 * @module
 */
import { ipInList, type IpNet, parseIp } from "../../compiler/mod.ts";

/**
 * The client IP of a request from `peer` whose header `name` (lower case) reads `header(name)`.
 *
 * Without a list it reads no header; with one, it parses the peer only when a forwarded header is present. Rules:
 * - no list, an empty list, neither header, or a peer outside the list: the peer;
 * - `X-Forwarded-For`: walked right to left; the first entry outside the list is the client; an entry that is not an
 *   IP address ends the walk at the address before it (the last trusted hop); when every entry is trusted, the
 *   leftmost;
 * - else `X-Real-IP`, when it is an IP address; else the peer.
 *
 * @example Usage
 * ```ts
 * import { resolveClientIp } from "./client_ip.ts";
 * import { ipNet } from "../../compiler/mod.ts";
 * const net = ipNet("10.0.0.0/8");
 * if (!net.ok) throw new Error(net.message);
 * const trusted = [net.value];
 * const xff = (v: string) => (n: string) => n === "x-forwarded-for" ? v : null;
 * if (resolveClientIp("203.0.113.9", trusted, xff("1.2.3.4")) !== "203.0.113.9") throw new Error("untrusted peer");
 * if (resolveClientIp("10.0.0.2", trusted, xff("6.6.6.6, 1.2.3.4, 10.0.0.7")) !== "1.2.3.4") throw new Error();
 * ```
 */
export function resolveClientIp(
  peer: string,
  trusted: readonly IpNet[] | undefined,
  header: (name: string) => string | null,
): string {
  if (trusted === undefined || trusted.length === 0) return peer;
  const xff = header("x-forwarded-for");
  if (xff !== null && xff.trim() !== "") {
    if (!ipInList(trusted, peer)) return peer;
    return walkForwardedFor(xff, trusted, peer);
  }
  const real = header("x-real-ip");
  if (real === null) return peer;
  const ip = real.trim();
  if (ip === "" || !ipInList(trusted, peer) || parseIp(ip) === undefined) return peer;
  return ip;
}

/** The rightmost untrusted address of an `X-Forwarded-For` value sent by the trusted `peer`. */
function walkForwardedFor(xff: string, trusted: readonly IpNet[], peer: string): string {
  let client = peer;
  let end = xff.length;
  while (end > 0) {
    const comma = xff.lastIndexOf(",", end - 1);
    const entry = xff.slice(comma + 1, end).trim();
    end = comma < 0 ? 0 : comma;
    if (entry === "") continue;
    // Not an address (a port, a name, garbage): nothing left of it is known to come from a trusted hop.
    if (parseIp(entry) === undefined) return client;
    client = entry;
    if (!ipInList(trusted, entry)) return client;
  }
  return client;
}
