/**
 * The routing table of one server, built once by the compiler.
 *
 * Locations are ranked by weight (rank 0 wins). Hosts are bucketed: an
 * exact-host map, a `*.suffix` map, one bucket for regex hosts and one for
 * locations without a host. Inside a bucket, paths are indexed: an
 * exact-path map, a prefix map probed at each distinct prefix length, and
 * the ordered rest (regex and any-path locations). Lookup takes, in every
 * bucket that applies, the lowest rank that fully matches; so the result is
 * the same as trying every location in weight order (see `linear.ts`).
 *
 * @module
 */
import type { HostMatch, PathMatch } from "../values/location_match.ts";

/** Path index of one host bucket. Lists hold ranks, ascending. */
export interface PathIndex {
  readonly exact: ReadonlyMap<string, readonly number[]>;
  /** Distinct prefix lengths present, ascending. */
  readonly prefixLengths: readonly number[];
  readonly prefixes: ReadonlyMap<string, readonly number[]>;
  /** Regex-path and any-path locations. */
  readonly rest: readonly number[];
}

/** A server's routing table. */
export interface RouteTable {
  readonly exactHosts: ReadonlyMap<string, PathIndex>;
  /** Keyed by `.domain` (lower case). */
  readonly suffixHosts: ReadonlyMap<string, PathIndex>;
  readonly regexHosts?: PathIndex;
  readonly anyHost?: PathIndex;
}

/** What the table needs of a location. */
export interface Routable {
  readonly path: PathMatch;
  readonly hosts: readonly HostMatch[];
}

interface MutableIndex {
  exact: Map<string, number[]>;
  prefixLengths: Set<number>;
  prefixes: Map<string, number[]>;
  rest: number[];
}

function newIndex(): MutableIndex {
  return { exact: new Map(), prefixLengths: new Set(), prefixes: new Map(), rest: [] };
}

function push<K>(map: Map<K, number[]>, key: K, rank: number): void {
  const list = map.get(key);
  if (list) list.push(rank);
  else map.set(key, [rank]);
}

function addPath(index: MutableIndex, path: PathMatch, rank: number): void {
  if (path.kind === "exact") push(index.exact, path.path, rank);
  else if (path.kind === "prefix") {
    index.prefixLengths.add(path.prefix.length);
    push(index.prefixes, path.prefix, rank);
  } else index.rest.push(rank);
}

function freeze(index: MutableIndex): PathIndex {
  return {
    exact: index.exact,
    prefixLengths: [...index.prefixLengths].sort((a, b) => a - b),
    prefixes: index.prefixes,
    rest: index.rest,
  };
}

/**
 * Builds the table from locations already sorted by rank.
 *
 * @example Usage
 * ```ts
 * import { buildRouteTable } from "./table.ts";
 * const t = buildRouteTable([{ path: { kind: "prefix", prefix: "/api" }, hosts: [] }]);
 * if (t.anyHost?.prefixes.get("/api")?.[0] !== 0) throw new Error();
 * ```
 */
export function buildRouteTable(ranked: readonly Routable[]): RouteTable {
  const exactHosts = new Map<string, MutableIndex>();
  const suffixHosts = new Map<string, MutableIndex>();
  let regexHosts: MutableIndex | undefined;
  let anyHost: MutableIndex | undefined;
  ranked.forEach((loc, rank) => {
    if (loc.hosts.length === 0) {
      addPath(anyHost ??= newIndex(), loc.path, rank);
      return;
    }
    let regexAdded = false;
    const seen = new Set<string>();
    for (const h of loc.hosts) {
      if (h.kind === "regex") {
        if (!regexAdded) addPath(regexHosts ??= newIndex(), loc.path, rank);
        regexAdded = true;
        continue;
      }
      const key = h.kind === "exact" ? h.host : h.suffix;
      const map = h.kind === "exact" ? exactHosts : suffixHosts;
      if (seen.has(h.kind + key)) continue;
      seen.add(h.kind + key);
      let index = map.get(key);
      if (!index) map.set(key, index = newIndex());
      addPath(index, loc.path, rank);
    }
  });
  const table: { -readonly [K in keyof RouteTable]: RouteTable[K] } = {
    exactHosts: new Map([...exactHosts].map(([k, v]) => [k, freeze(v)])),
    suffixHosts: new Map([...suffixHosts].map(([k, v]) => [k, freeze(v)])),
  };
  if (regexHosts) table.regexHosts = freeze(regexHosts);
  if (anyHost) table.anyHost = freeze(anyHost);
  return table;
}
