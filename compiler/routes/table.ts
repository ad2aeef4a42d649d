/**
 * The routing table of one server, built once by the compiler.
 *
 * Locations are ranked by weight (rank 0 wins). A location is filed under
 * each of its host selectors, in one of four places:
 *
 * - `hosts`: a radix tree over the lower-cased host read backwards, holding
 *   exact hosts (the whole host) and `*.suffix` hosts (`.example.com`,
 *   with more before it);
 * - `regexHostSuffixes`: the same over the host as received, holding regex
 *   hosts under the literal text every match ends with
 *   (`~^(?<app>.+)\.example\.com$` under `.example.com`);
 * - `regexHosts`: the other regex hosts;
 * - `anyHost`: locations without a host.
 *
 * Each of these holds a {@linkcode PathIndex}: a radix tree over the path
 * where exact paths end at a node, prefix paths (and any-path locations,
 * as the empty prefix) hang on a node that covers every path below it, and
 * so do regex paths that start with `^` and a literal text (the literal is
 * a necessary prefix of every match; the regex still decides). The other
 * regex paths stay in an ordered `rest` list.
 *
 * Lookup walks the host trees backwards along the host, and in each path
 * index it reaches, walks forward along the path; it keeps the lowest rank
 * that fully matches, skipping subtrees whose lowest rank cannot win. The
 * result is the same as trying every location in weight order (see
 * `linear.ts`), which the tests check on random tables.
 *
 * @module
 */
import type { HostMatch, PathMatch } from "../values/location_match.ts";

/**
 * A path radix-tree node: the path text up to here is the labels from the
 * root. Every node has every key (absent ones `undefined`), so that all
 * nodes share one hidden class and the lookup's reads stay monomorphic.
 */
export interface PathNode {
  /** Edge label from the parent ("" at the root). */
  readonly label: string;
  /** Lowest rank at or below this node: no need to walk further when it cannot win. */
  readonly minRank: number;
  /** Locations whose exact path ends here (ranks, ascending). */
  readonly exact: readonly number[] | undefined;
  /** Locations whose prefix (or regex literal prefix) ends here (ranks, ascending). */
  readonly prefix: readonly number[] | undefined;
  /** Children by the char code of their label's first character. */
  readonly children: ReadonlyMap<number, PathNode> | undefined;
}

/** Path index of one host key. */
export interface PathIndex {
  readonly root: PathNode;
  /** Regex-path locations with no literal prefix (ranks, ascending). */
  readonly rest: readonly number[];
  /** Lowest rank in this index. */
  readonly minRank: number;
}

/**
 * A host radix-tree node. Keys are read backwards: a label holds host text
 * in reverse, so the host text up to here is the reversed labels from the
 * root, read from the end of the host.
 */
export interface HostNode {
  /** Edge label from the parent, reversed ("" at the root). */
  readonly label: string;
  /** Lowest rank at or below this node. */
  readonly minRank: number;
  /** Locations whose exact host is the text up to here. */
  readonly exact: PathIndex | undefined;
  /** Locations whose host suffix is the text up to here. */
  readonly suffix: PathIndex | undefined;
  /** Children by the char code of their label's first character. */
  readonly children: ReadonlyMap<number, HostNode> | undefined;
}

/** A server's routing table. */
export interface RouteTable {
  /** Exact hosts and `*.suffix` hosts, lower case. */
  readonly hosts: HostNode;
  /** Regex hosts by the literal suffix of every match (case as written). */
  readonly regexHostSuffixes: HostNode;
  /** Regex hosts without a literal suffix. */
  readonly regexHosts: PathIndex | undefined;
  /** Locations without a host. */
  readonly anyHost: PathIndex | undefined;
  /**
   * By rank: 1 when the location has a plain path (exact, prefix, any) and
   * no conditions, so that reaching it in `hosts` or `anyHost` is a match
   * without looking at the location.
   */
  readonly plain: Uint8Array;
}

/** What the table needs of a location. */
export interface Routable {
  readonly path: PathMatch;
  readonly hosts: readonly HostMatch[];
  readonly matchHeaders: readonly unknown[];
  readonly matchQuery: readonly unknown[];
  readonly matchCookies: readonly unknown[];
}

/** A node under construction: a label and children, plus a payload. */
interface Radix<N> {
  label: string;
  children: Map<number, N>;
}

/** The node for `key`, created (splitting edges) if needed. */
function nodeFor<N extends Radix<N>>(root: N, key: string, make: (label: string) => N): N {
  let node = root;
  let pos = 0;
  while (pos < key.length) {
    const c = key.charCodeAt(pos);
    const child = node.children.get(c);
    if (child === undefined) {
      const leaf = make(key.slice(pos));
      node.children.set(c, leaf);
      return leaf;
    }
    const label = child.label;
    let k = 1;
    while (k < label.length && pos + k < key.length && label.charCodeAt(k) === key.charCodeAt(pos + k)) k++;
    if (k < label.length) {
      const mid = make(label.slice(0, k));
      child.label = label.slice(k);
      mid.children.set(child.label.charCodeAt(0), child);
      node.children.set(c, mid);
      node = mid;
    } else node = child;
    pos += k;
  }
  return node;
}

interface MutablePathNode extends Radix<MutablePathNode> {
  exact: number[];
  prefix: number[];
}

interface MutableIndex {
  root: MutablePathNode;
  rest: number[];
}

interface MutableHostNode extends Radix<MutableHostNode> {
  exact: MutableIndex | undefined;
  suffix: MutableIndex | undefined;
}

function newPathNode(label: string): MutablePathNode {
  return { label, exact: [], prefix: [], children: new Map() };
}

function newIndex(): MutableIndex {
  return { root: newPathNode(""), rest: [] };
}

function newHostNode(label: string): MutableHostNode {
  return { label, exact: undefined, suffix: undefined, children: new Map() };
}

function reverse(text: string): string {
  let out = "";
  for (let i = text.length - 1; i >= 0; i--) out += text[i];
  return out;
}

const SYNTAX = "^$\\.*+?()[]{}|/-";

/**
 * The literal text every match of `re` starts with: the characters after a
 * leading `^` up to the first construct that is not a plain character. ""
 * when there is none, or when the regex could match elsewhere (`i` or `m`
 * flag, an alternation).
 */
export function literalPrefix(re: RegExp): string {
  const src = re.source;
  if (src[0] !== "^" || re.flags.includes("i") || re.flags.includes("m") || src.includes("|")) return "";
  let out = "";
  let i = 1;
  while (i < src.length) {
    let c = src[i]!;
    let width = 1;
    if (c === "\\") {
      const n = src[i + 1];
      if (n === undefined || !SYNTAX.includes(n)) break;
      c = n;
      width = 2;
    } else if ("^$.*+?()[]{}|".includes(c)) break;
    const next = src[i + width];
    // A quantified character may be absent (or repeated): stop before it.
    if (next === "?" || next === "*" || next === "+" || next === "{") break;
    out += c;
    i += width;
  }
  return out;
}

/** True when the character at `i` is escaped by an odd run of backslashes. */
function escaped(src: string, i: number): boolean {
  let n = 0;
  while (i - 1 - n >= 0 && src[i - 1 - n] === "\\") n++;
  return n % 2 === 1;
}

/**
 * The literal text every match of `re` ends with: the characters before a
 * trailing `$`, back to the first construct that is not a plain character.
 * "" when there is none, or when the regex could match elsewhere (`i` or
 * `m` flag, an alternation).
 */
export function literalSuffix(re: RegExp): string {
  const src = re.source;
  const last = src.length - 1;
  if (
    src[last] !== "$" || escaped(src, last) || re.flags.includes("i") || re.flags.includes("m") || src.includes("|")
  ) {
    return "";
  }
  let out = "";
  let i = last - 1;
  while (i >= 0) {
    const c = src[i]!;
    if (escaped(src, i)) {
      if (!SYNTAX.includes(c)) break;
      out = c + out;
      i -= 2;
      continue;
    }
    // A metacharacter, or the backslash of an escape we could not read.
    if ("^$.*+?()[]{}|\\".includes(c)) break;
    // A character followed by a quantifier was stopped at above (the
    // quantifier comes first when reading backwards).
    out = c + out;
    i--;
  }
  return out;
}

function addPath(index: MutableIndex, path: PathMatch, rank: number): void {
  switch (path.kind) {
    case "exact":
      nodeFor(index.root, path.path, newPathNode).exact.push(rank);
      return;
    case "prefix":
      nodeFor(index.root, path.prefix, newPathNode).prefix.push(rank);
      return;
    case "any":
      index.root.prefix.push(rank);
      return;
    case "regex": {
      const literal = literalPrefix(path.regex);
      if (literal === "") index.rest.push(rank);
      else nodeFor(index.root, literal, newPathNode).prefix.push(rank);
    }
  }
}

function freezePathNode(node: MutablePathNode): PathNode {
  let minRank = Math.min(node.exact[0] ?? Infinity, node.prefix[0] ?? Infinity);
  let children: Map<number, PathNode> | undefined;
  if (node.children.size) {
    children = new Map();
    for (const [c, child] of node.children) {
      const frozen = freezePathNode(child);
      children.set(c, frozen);
      if (frozen.minRank < minRank) minRank = frozen.minRank;
    }
  }
  return {
    label: node.label,
    minRank,
    exact: node.exact.length ? node.exact : undefined,
    prefix: node.prefix.length ? node.prefix : undefined,
    children,
  };
}

function freezeIndex(index: MutableIndex | undefined): PathIndex | undefined {
  if (index === undefined) return undefined;
  const root = freezePathNode(index.root);
  return { root, rest: index.rest, minRank: Math.min(root.minRank, index.rest[0] ?? Infinity) };
}

function freezeHostNode(node: MutableHostNode): HostNode {
  const exact = freezeIndex(node.exact);
  const suffix = freezeIndex(node.suffix);
  let minRank = Math.min(exact?.minRank ?? Infinity, suffix?.minRank ?? Infinity);
  let children: Map<number, HostNode> | undefined;
  if (node.children.size) {
    children = new Map();
    for (const [c, child] of node.children) {
      const frozen = freezeHostNode(child);
      children.set(c, frozen);
      if (frozen.minRank < minRank) minRank = frozen.minRank;
    }
  }
  return { label: node.label, minRank, exact, suffix, children };
}

/**
 * Builds the table from locations already sorted by rank.
 *
 * @example Usage
 * ```ts
 * import { buildRouteTable } from "./table.ts";
 * const loc = { path: { kind: "prefix", prefix: "/api" } as const, hosts: [], matchHeaders: [], matchQuery: [], matchCookies: [] };
 * const t = buildRouteTable([loc]);
 * if (t.anyHost?.root.children?.get("/".charCodeAt(0))?.prefix?.[0] !== 0) throw new Error();
 * ```
 */
export function buildRouteTable(ranked: readonly Routable[]): RouteTable {
  const hosts = newHostNode("");
  const regexHostSuffixes = newHostNode("");
  let regexHosts: MutableIndex | undefined;
  let anyHost: MutableIndex | undefined;
  const plain = new Uint8Array(ranked.length);
  ranked.forEach((loc, rank) => {
    const conditions = loc.matchHeaders.length + loc.matchQuery.length + loc.matchCookies.length;
    plain[rank] = loc.path.kind !== "regex" && conditions === 0 ? 1 : 0;
    if (loc.hosts.length === 0) {
      addPath(anyHost ??= newIndex(), loc.path, rank);
      return;
    }
    // A location is filed once per distinct place, so its rank appears once per list.
    const seen = new Set<MutableIndex>();
    for (const h of loc.hosts) {
      let index: MutableIndex;
      if (h.kind === "regex") {
        const literal = literalSuffix(h.regex);
        if (literal === "") index = regexHosts ??= newIndex();
        else {
          const node = nodeFor(regexHostSuffixes, reverse(literal), newHostNode);
          index = node.suffix ??= newIndex();
        }
      } else {
        const node = nodeFor(hosts, reverse(h.kind === "exact" ? h.host : h.suffix), newHostNode);
        index = h.kind === "exact" ? node.exact ??= newIndex() : node.suffix ??= newIndex();
      }
      if (seen.has(index)) continue;
      seen.add(index);
      addPath(index, loc.path, rank);
    }
  });
  return {
    hosts: freezeHostNode(hosts),
    regexHostSuffixes: freezeHostNode(regexHostSuffixes),
    regexHosts: freezeIndex(regexHosts),
    anyHost: freezeIndex(anyHost),
    plain,
  };
}
