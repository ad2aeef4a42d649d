/**
 * Route lookup in a compiled {@linkcode RouteTable}: no regex compiled, no
 * URL parsed, no per-request allocation beyond the lower-cased host and
 * prefix probes.
 *
 * @module
 */
import { locationMatches, type Matchable, type RouteRequest } from "./match.ts";
import type { PathIndex, RouteTable } from "./table.ts";

function firstIn(
  list: readonly number[] | undefined,
  best: number,
  ranked: readonly Matchable[],
  req: RouteRequest,
  lower: string,
): number {
  if (list === undefined) return best;
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (r >= best) return best;
    if (locationMatches(ranked[r]!, req, lower)) return r;
  }
  return best;
}

function scan(
  index: PathIndex | undefined,
  best: number,
  ranked: readonly Matchable[],
  req: RouteRequest,
  lower: string,
): number {
  if (index === undefined) return best;
  const path = req.path;
  if (index.exact.size) best = firstIn(index.exact.get(path), best, ranked, req, lower);
  const lengths = index.prefixLengths;
  for (let i = 0; i < lengths.length; i++) {
    const n = lengths[i]!;
    if (n > path.length) break;
    best = firstIn(index.prefixes.get(n === path.length ? path : path.slice(0, n)), best, ranked, req, lower);
  }
  return firstIn(index.rest, best, ranked, req, lower);
}

/**
 * Returns the rank of the first location (in weight order) that matches,
 * or -1. `ranked` is the server's locations in rank order.
 *
 * @example Usage
 * ```ts
 * import { buildRouteTable } from "./table.ts";
 * import { lookupRoute } from "./lookup.ts";
 * const loc = { path: { kind: "prefix", prefix: "/api" } as const, hosts: [], matchHeaders: [], matchQuery: [], matchCookies: [] };
 * const table = buildRouteTable([loc]);
 * const req = { host: "x", path: "/api/1", header: () => null, query: () => undefined, cookie: () => undefined };
 * if (lookupRoute(table, [loc], req) !== 0) throw new Error();
 * ```
 */
export function lookupRoute(table: RouteTable, ranked: readonly Matchable[], req: RouteRequest): number {
  const host = req.host;
  const lower = host.toLowerCase();
  let best = Infinity;
  if (table.exactHosts.size) best = scan(table.exactHosts.get(lower), best, ranked, req, lower);
  if (table.suffixHosts.size) {
    for (let i = lower.indexOf(".", 1); i > 0; i = lower.indexOf(".", i + 1)) {
      best = scan(table.suffixHosts.get(lower.slice(i)), best, ranked, req, lower);
    }
  }
  best = scan(table.regexHosts, best, ranked, req, lower);
  best = scan(table.anyHost, best, ranked, req, lower);
  return best === Infinity ? -1 : best;
}
