/**
 * Load balancing over an upstream's backends: smooth weighted round robin
 * (nginx), least connections (nginx `least_conn`, weighted), and consistent
 * hashing on a ketama-style ring.
 *
 * Every balancer walks its candidates in preference order and asks `accept`
 * about each one until one is accepted, so health and circuit state can skip
 * backends. `accept` is called at most once per backend per pick, and never
 * again after it accepted one (a half-open circuit counts its probes there).
 *
 * @module
 */
import type { Algo } from "../../compiler/mod.ts";
import type { Backend } from "./types.ts";

/** Chooses backends for requests. */
export interface Balancer {
  /** The backends it balances over. */
  readonly backends: readonly Backend[];
  /**
   * Picks a backend. `key` is the hash key (hash algorithms only, see
   * {@linkcode hashKey}); `accept` vetoes candidates. Returns undefined when
   * no backend is accepted.
   */
  pick(key: string | undefined, accept?: (backend: Backend) => boolean): Backend | undefined;
  /** Replaces the backends; state of backends that stay (by `addr`) is kept. */
  update(backends: readonly Backend[]): void;
  /** Counts an exchange with `backend` as started (least_conn, gauges). */
  acquire(backend: Backend): void;
  /** Counts an exchange with `backend` as finished. */
  release(backend: Backend): void;
  /** Exchanges in flight with the backend at `addr`. */
  inflight(addr: string): number;
}

/** Accepts every backend. */
function acceptAll(): boolean {
  return true;
}

/**
 * FNV-1a over the UTF-8 bytes of `text`, finished with murmur3's fmix32 so
 * that near-identical inputs (`addr-1`, `addr-2`) spread over the ring.
 *
 * @example Usage
 * ```ts
 * import { hash32 } from "./balancer.ts";
 * if (hash32("abc") !== hash32("abc") || hash32("abc") === hash32("abd")) throw new Error();
 * ```
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        h = Math.imul(h ^ (0xf0 | (c >> 18)), 0x01000193);
        h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), 0x01000193);
        h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
        h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // Lone surrogate: what TextEncoder writes.
    h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** What {@linkcode hashKey} reads from a request. Lookups are lazy. */
export interface HashKeySource {
  /** URI path. */
  readonly path: string;
  /** Path plus query, as received. */
  readonly uri: string;
  /** Client IP (§2.6 of the inventory: X-Forwarded-For, X-Real-IP, then the peer). */
  readonly clientIp: string;
  /** A request header's value (name lower-cased). */
  header(name: string): string | null | undefined;
  /** A cookie's value. */
  cookie(name: string): string | null | undefined;
  /** A query parameter's value. */
  query(name: string): string | null | undefined;
}

/**
 * The key a hash algorithm hashes for a request (Pingap's `HashStrategy`);
 * undefined for the other algorithms. A missing header, cookie or query
 * parameter hashes as "".
 *
 * @example Usage
 * ```ts
 * import { hashKey } from "./balancer.ts";
 * const req = {
 *   path: "/a", uri: "/a?id=7", clientIp: "1.1.1.1",
 *   header: () => undefined, cookie: () => undefined, query: (n: string) => n === "id" ? "7" : undefined,
 * };
 * if (hashKey({ kind: "hash", by: "query", name: "id" }, req) !== "7") throw new Error();
 * ```
 */
export function hashKey(algo: Algo, req: HashKeySource): string | undefined {
  if (algo.kind !== "hash") return undefined;
  switch (algo.by) {
    case "url":
      return req.uri;
    case "ip":
      return req.clientIp;
    case "path":
      return req.path;
    case "header":
      return req.header(algo.name) ?? "";
    case "cookie":
      return req.cookie(algo.name) ?? "";
    case "query":
      return req.query(algo.name) ?? "";
  }
}

/** A backend with its balancing state. */
interface Peer {
  backend: Backend;
  /** Weight, at least 1. */
  weight: number;
  /** Smooth-WRR current weight. */
  current: number;
  /** Exchanges in flight. */
  conns: number;
}

/** Shared peer bookkeeping. */
abstract class PeerSet implements Balancer {
  protected peers: Peer[] = [];
  #byAddr = new Map<string, Peer>();
  #backends: readonly Backend[] = [];

  get backends(): readonly Backend[] {
    return this.#backends;
  }

  abstract pick(key: string | undefined, accept?: (backend: Backend) => boolean): Backend | undefined;

  update(backends: readonly Backend[]): void {
    const old = this.#byAddr;
    this.#byAddr = new Map();
    this.peers = [];
    for (const backend of backends) {
      if (this.#byAddr.has(backend.addr)) continue;
      const prev = old.get(backend.addr);
      const weight = Math.max(1, Math.floor(backend.weight) || 1);
      const peer: Peer = prev
        ? { backend, weight, current: prev.weight === weight ? prev.current : 0, conns: prev.conns }
        : { backend, weight, current: 0, conns: 0 };
      this.peers.push(peer);
      this.#byAddr.set(backend.addr, peer);
    }
    this.#backends = this.peers.map((p) => p.backend);
    this.rebuild();
  }

  /** Called after the peers changed. */
  protected rebuild(): void {}

  acquire(backend: Backend): void {
    const peer = this.#byAddr.get(backend.addr);
    if (peer) peer.conns++;
  }

  release(backend: Backend): void {
    const peer = this.#byAddr.get(backend.addr);
    if (peer && peer.conns > 0) peer.conns--;
  }

  inflight(addr: string): number {
    return this.#byAddr.get(addr)?.conns ?? 0;
  }
}

/**
 * Smooth weighted round robin over `candidates` (nginx
 * `ngx_http_upstream_get_peer`): every candidate gains its weight, the
 * largest current weight wins and loses the total. A candidate `accept`
 * rejects is taken out of this round as if it were down (its gain undone).
 */
function smoothPick(peers: readonly Peer[], candidates: readonly number[], accept: (index: number) => boolean): number {
  let total = 0;
  let first = -1;
  for (const i of candidates) {
    const p = peers[i]!;
    p.current += p.weight;
    total += p.weight;
    if (first < 0 || p.current > peers[first]!.current) first = i;
  }
  if (first < 0) return -1;
  if (accept(first)) {
    peers[first]!.current -= total;
    return first;
  }
  // Slow path: take the rejected one out and pick again among the rest.
  peers[first]!.current -= peers[first]!.weight;
  total -= peers[first]!.weight;
  const left = candidates.filter((i) => i !== first);
  while (left.length > 0) {
    let bestAt = 0;
    for (let j = 1; j < left.length; j++) {
      if (peers[left[j]!]!.current > peers[left[bestAt]!]!.current) bestAt = j;
    }
    const index = left[bestAt]!;
    const best = peers[index]!;
    if (accept(index)) {
      best.current -= total;
      return index;
    }
    best.current -= best.weight;
    total -= best.weight;
    left.splice(bestAt, 1);
  }
  return -1;
}

/** nginx's smooth weighted round robin: weights 5,1,1 give a a b a c a a. */
class RoundRobin extends PeerSet {
  #all: number[] = [];

  protected override rebuild(): void {
    this.#all = this.peers.map((_, i) => i);
  }

  pick(_key: string | undefined, accept: (backend: Backend) => boolean = acceptAll): Backend | undefined {
    const peers = this.peers;
    const i = smoothPick(peers, this.#all, (index) => accept(peers[index]!.backend));
    return i < 0 ? undefined : peers[i]!.backend;
  }
}

/**
 * nginx `least_conn`: the fewest in-flight exchanges relative to weight
 * (`conns / weight`; with equal weights simply the fewest), ties broken by
 * smooth weighted round robin among the tied backends.
 */
class LeastConn extends PeerSet {
  pick(_key: string | undefined, accept: (backend: Backend) => boolean = acceptAll): Backend | undefined {
    const peers = this.peers;
    const rejected = new Set<number>();
    while (rejected.size < peers.length) {
      let tied: number[] = [];
      let best: Peer | undefined;
      for (let i = 0; i < peers.length; i++) {
        if (rejected.has(i)) continue;
        const p = peers[i]!;
        // p.conns / p.weight < best.conns / best.weight, without division.
        if (!best || p.conns * best.weight < best.conns * p.weight) {
          best = p;
          tied = [i];
        } else if (p.conns * best.weight === best.conns * p.weight) tied.push(i);
      }
      const i = smoothPick(peers, tied, (index) => {
        if (accept(peers[index]!.backend)) return true;
        rejected.add(index);
        return false;
      });
      if (i >= 0) return peers[i]!.backend;
    }
    return undefined;
  }
}

/** Ring points per unit of weight, as in ketama (libmemcached, pingora-ketama). */
export const POINTS_PER_WEIGHT = 160;
/** Ring size cap: larger weights are scaled down proportionally. */
const MAX_POINTS = 1 << 18;

/**
 * Consistent hashing on a ketama-style ring: each backend owns
 * `160 × weight` points at `hash32("<addr>-<i>")`; a key maps to the first
 * point at or after `hash32(key)`, wrapping around. Adding a backend to n
 * moves about 1/(n+1) of the keys.
 */
class Consistent extends PeerSet {
  #points = new Uint32Array(0);
  #owners = new Uint32Array(0);

  protected override rebuild(): void {
    const totalWeight = this.peers.reduce((n, p) => n + p.weight, 0);
    const scale = Math.min(1, MAX_POINTS / Math.max(1, totalWeight * POINTS_PER_WEIGHT));
    const entries: number[] = [];
    this.peers.forEach((p, owner) => {
      const count = Math.max(1, Math.round(p.weight * POINTS_PER_WEIGHT * scale));
      for (let i = 0; i < count; i++) {
        // Point in the high bits, owner in the low 16: exact in a double (< 2^48), sorts by point then owner.
        entries.push(hash32(`${p.backend.addr}-${i}`) * 65536 + owner);
      }
    });
    const sorted = Float64Array.from(entries).sort();
    this.#points = new Uint32Array(sorted.length);
    this.#owners = new Uint32Array(sorted.length);
    for (let i = 0; i < sorted.length; i++) {
      const v = sorted[i]!;
      this.#owners[i] = v % 65536;
      this.#points[i] = (v - (v % 65536)) / 65536;
    }
  }

  pick(key: string | undefined, accept: (backend: Backend) => boolean = acceptAll): Backend | undefined {
    const points = this.#points;
    const n = points.length;
    if (n === 0) return undefined;
    const h = hash32(key ?? "");
    // Lower bound: first point >= h.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    const start = lo === n ? 0 : lo;
    const first = this.peers[this.#owners[start]!]!;
    if (accept(first.backend)) return first.backend;
    const distinct = this.peers.length;
    if (distinct === 1) return undefined;
    const tried = new Uint8Array(distinct);
    tried[this.#owners[start]!] = 1;
    let count = 1;
    for (let step = 1; step < n && count < distinct; step++) {
      const owner = this.#owners[(start + step) % n]!;
      if (tried[owner]) continue;
      tried[owner] = 1;
      count++;
      const peer = this.peers[owner]!;
      if (accept(peer.backend)) return peer.backend;
    }
    return undefined;
  }
}

/**
 * Creates the balancer of an algorithm.
 *
 * @example Usage
 * ```ts
 * import { createBalancer } from "./balancer.ts";
 * const b = (host: string, weight: number) => ({ host, port: 80, weight, addr: `${host}:80` });
 * const lb = createBalancer({ kind: "round_robin" }, [b("a", 5), b("b", 1), b("c", 1)]);
 * const seq = Array.from({ length: 7 }, () => lb.pick(undefined)?.host).join("");
 * if (seq !== "aabacaa") throw new Error(seq);
 * ```
 */
export function createBalancer(algo: Algo, backends: readonly Backend[]): Balancer {
  const balancer = algo.kind === "hash"
    ? new Consistent()
    : algo.kind === "least_conn"
    ? new LeastConn()
    : new RoundRobin();
  balancer.update(backends);
  return balancer;
}
