/**
 * Route lookup in a compiled {@linkcode RouteTable}: no regex compiled, no
 * URL parsed, no string built except the lower-cased host. The host trees
 * are walked backwards along the host, each path index reached forward
 * along the path; locations are looked at only when the walk cannot prove
 * the match (regexes, conditions).
 *
 * @module
 */
import { locationMatches, type Matchable, type RouteRequest } from "./match.ts";
import type { HostNode, PathIndex, PathNode, RouteTable } from "./table.ts";

/**
 * The first rank in `list` (ascending) below `best` whose location matches.
 * With `plain`, a plain location is a match without looking at it.
 */
function firstIn(
  list: readonly number[],
  best: number,
  plain: Uint8Array | undefined,
  ranked: readonly Matchable[],
  req: RouteRequest,
  lower: string,
): number {
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (r >= best) return best;
    if ((plain !== undefined && plain[r] === 1) || locationMatches(ranked[r]!, req, lower)) return r;
  }
  return best;
}

/**
 * Walks one host bucket's tree along the path. `plain` is set for buckets
 * whose host selector is known to match (exact, suffix, none).
 */
function scan(
  index: PathIndex | undefined,
  best: number,
  plain: Uint8Array | undefined,
  ranked: readonly Matchable[],
  req: RouteRequest,
  lower: string,
): number {
  if (index === undefined || index.minRank >= best) return best;
  const path = req.path;
  const end = path.length;
  let node: PathNode = index.root;
  let pos = 0;
  while (node.minRank < best) {
    if (node.prefix !== undefined) best = firstIn(node.prefix, best, plain, ranked, req, lower);
    if (pos === end) {
      if (node.exact !== undefined) best = firstIn(node.exact, best, plain, ranked, req, lower);
      break;
    }
    const child = node.children?.get(path.charCodeAt(pos));
    if (child === undefined || !path.startsWith(child.label, pos)) break;
    pos += child.label.length;
    node = child;
  }
  const rest = index.rest;
  return rest.length === 0 ? best : firstIn(rest, best, undefined, ranked, req, lower);
}

/**
 * Walks a host tree backwards along `text` and scans every path index it
 * reaches: `suffix` indexes while text is left before the node (all of them
 * with `suffixAtEnd`), the `exact` index when the whole text is used.
 */
function walkHosts(
  root: HostNode,
  text: string,
  suffixAtEnd: boolean,
  best: number,
  plain: Uint8Array | undefined,
  ranked: readonly Matchable[],
  req: RouteRequest,
  lower: string,
): number {
  let node = root;
  let pos = text.length;
  while (node.minRank < best) {
    if (pos === 0) {
      if (node.exact !== undefined) best = scan(node.exact, best, plain, ranked, req, lower);
      if (suffixAtEnd && node.suffix !== undefined) best = scan(node.suffix, best, plain, ranked, req, lower);
      break;
    }
    if (node.suffix !== undefined) best = scan(node.suffix, best, plain, ranked, req, lower);
    const child = node.children?.get(text.charCodeAt(pos - 1));
    if (child === undefined) break;
    const label = child.label;
    const n = label.length;
    if (n > pos) break;
    let k = 1;
    while (k < n && label.charCodeAt(k) === text.charCodeAt(pos - 1 - k)) k++;
    if (k < n) break;
    pos -= n;
    node = child;
  }
  return best;
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
  const plain = table.plain;
  let best = walkHosts(table.hosts, lower, false, Infinity, plain, ranked, req, lower);
  best = scan(table.anyHost, best, plain, ranked, req, lower);
  // Regex hosts last: a good rank found elsewhere spares their regexes.
  best = walkHosts(table.regexHostSuffixes, host, true, best, undefined, ranked, req, lower);
  best = scan(table.regexHosts, best, undefined, ranked, req, lower);
  return best === Infinity ? -1 : best;
}
