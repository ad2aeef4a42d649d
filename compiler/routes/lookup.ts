/**
 * Route lookup in a compiled {@linkcode RouteTable}: no regex compiled, no
 * URL parsed, no string built except the lower-cased host, and that only
 * when the host has upper case or cannot be an exact host of the table.
 * One pass over the host hashes it lower-cased; one pass over the path
 * hashes each of its heads; each path key is then a test of the bucket's
 * Bloom filter and, if that passes, one probe of the table's hash table.
 * Locations are looked at only when the table cannot prove the match
 * (regexes, conditions).
 *
 * @module
 */
import { conditionsMatch, locationMatches, type Matchable, pathMatches, type RouteRequest } from "./match.ts";
import {
  BLOOM_BIT,
  BLOOM_WORD,
  BUCKET_BLOOM_BITS,
  BUCKET_EXACT_MIN_RANK,
  BUCKET_HOST_KNOWN,
  BUCKET_LENGTHS,
  BUCKET_MARKED,
  BUCKET_MIN_RANK,
  BUCKET_REST,
  BUCKET_REST_MIN_RANK,
  HASH_SEED,
  hashStep,
  type HostIndex,
  KEY,
  KEY_LENGTH,
  KEY_NS,
  KEY_TEXT,
  KEY_VALUE,
  keyHash,
  NO_RANK,
  NS_HOST,
  NS_REGEX_SUFFIX,
  NS_SUFFIX,
  nsExact,
  nsPrefix,
  type RouteTable,
  SHARED,
  type SuffixIndex,
  textHash,
} from "./table.ts";

// Scratch space, grown as needed: `heads[n]` is the hash of the first n
// characters of the path being looked up; `tails[n]` the hash of the last n
// characters of a host, read backwards, for n up to `tailCount`.
let heads: Int32Array = new Int32Array(64);
let tails: Int32Array = new Int32Array(64);
let tailCount = 0;

function grown(buffer: Int32Array, length: number): Int32Array {
  let size = buffer.length;
  while (size < length) size *= 2;
  return new Int32Array(size);
}

/** Whether the key at `k` in `keys` is `ns` with the `length` characters of `src` from `start`. */
function keyIs(table: RouteTable, k: number, ns: number, src: string, start: number, length: number): boolean {
  const keys = table.keys;
  const info = keys[k + KEY_LENGTH]!;
  if (keys[k + KEY_NS] !== ns || info >> 1 !== length) return false;
  if ((info & 1) === 0) {
    // Four characters at a time: inline text is all below 256.
    let i = 0;
    for (let at = k + KEY_TEXT; i + 4 <= length; i += 4, at++) {
      const c0 = src.charCodeAt(start + i);
      const c1 = src.charCodeAt(start + i + 1);
      const c2 = src.charCodeAt(start + i + 2);
      const c3 = src.charCodeAt(start + i + 3);
      if ((c0 | c1 | c2 | c3) > 255 || (c0 | (c1 << 8) | (c2 << 16) | (c3 << 24)) !== keys[at]) return false;
    }
    for (; i < length; i++) {
      if (src.charCodeAt(start + i) !== ((keys[k + KEY_TEXT + (i >> 2)]! >>> ((i & 3) << 3)) & 255)) return false;
    }
    return true;
  }
  const text = table.text;
  const at = keys[k + KEY_TEXT]!;
  for (let i = 0; i < length; i++) if (src.charCodeAt(start + i) !== text.charCodeAt(at + i)) return false;
  return true;
}

/** What {@linkcode find} returns for a key that is not there. */
const MISSING = -0x80000000;

/** The offset in `keys` of the key {@linkcode find} found last. */
let found = 0;

/**
 * The value of the key `ns` with the `length` characters of `src` from
 * `start`, whose stored hash is `full`, and its offset in `keys` as
 * {@linkcode found}; {@linkcode MISSING} if there is none. On a hash
 * collision with another key, that key's (see {@linkcode RouteTable.slots}):
 * a caller that trusts the key checks it with {@linkcode keyIs}.
 */
function find(table: RouteTable, full: number, ns: number, src: string, start: number, length: number): number {
  const slots = table.slots;
  const mask = slots.length - 2;
  for (let i = (full * 2) & mask;; i = (i + 2) & mask) {
    const f = slots[i]!;
    if (f === full) {
      found = (i >> 1) * KEY;
      const value = slots[i + 1]!;
      if (value !== SHARED) return value;
      if (keyIs(table, found, ns, src, start, length)) return table.keys[found + KEY_VALUE]!;
    } else if (f === 0) return MISSING;
  }
}

/** Whether `host` has a length and first character some exact host has (see {@linkcode HostIndex.lengths}). */
function hostMayBe(hosts: HostIndex, host: string): boolean {
  return ((hosts.lengths >>> Math.min(host.length, 31)) & 1) === 1 &&
    ((hosts.firstChars >>> (host.charCodeAt(0) & 31)) & 1) === 1;
}

/** The bucket of the exact host `lower` (lower case), whose {@linkcode textHash} is `hash`, or -1. */
function findHost(table: RouteTable, hash: number, lower: string): number {
  const b = find(table, keyHash(hash, NS_HOST), NS_HOST, lower, 0, lower.length);
  return b !== MISSING && table.hostTexts[found / KEY] === lower ? b : -1;
}

/**
 * Whether the location of rank `r` matches, found under the path key at `k`
 * in `keys` (namespace `ns`, the path's first `length` characters if the key
 * is confirmed; `k` is -1 for a `rest` list). With `hostKnown`, its host is
 * known to match: a plain location matches once the key is confirmed, the
 * others are looked at for their path and conditions only.
 */
function matches(
  table: RouteTable,
  r: number,
  k: number,
  ns: number,
  length: number,
  hostKnown: boolean,
  ranked: readonly Matchable[],
  req: RouteRequest,
  lower: string,
): boolean {
  if (!hostKnown) return locationMatches(ranked[r]!, req, lower);
  if (table.plain[r] === 1) return keyIs(table, k, ns, req.path, 0, length);
  const path = req.path;
  const checks = table.checks[r]!;
  const tail = (checks >> 1) - 1;
  if (tail >= 0 && k >= 0) {
    // A regex path, under its literal prefix: the rest of the regex from there.
    if (!keyIs(table, k, ns, path, 0, length)) return false;
    const re = table.pathTails[tail]!;
    re.lastIndex = length;
    if (!re.test(path)) return false;
  } else if (!pathMatches(ranked[r]!.path, path)) return false;
  return (checks & 1) === 0 || conditionsMatch(ranked[r]!, req);
}

/**
 * The lowest rank below `best` in `value` (one rank, or `~i` for the rank
 * list at `lists[i]`) whose location {@linkcode matches}; `best` if none.
 */
function firstIn(
  table: RouteTable,
  value: number,
  k: number,
  ns: number,
  length: number,
  best: number,
  hostKnown: boolean,
  ranked: readonly Matchable[],
  req: RouteRequest,
  lower: string,
): number {
  if (value >= 0) {
    return value < best && matches(table, value, k, ns, length, hostKnown, ranked, req, lower) ? value : best;
  }
  const lists = table.lists;
  const at = ~value;
  const end = at + 1 + lists[at]!;
  for (let i = at + 1; i < end; i++) {
    const r = lists[i]!;
    if (r >= best) return best;
    if (matches(table, r, k, ns, length, hostKnown, ranked, req, lower)) return r;
  }
  return best;
}

/** Looks the path up in the bucket at `b` while it can beat `best`; returns the new best. */
function scan(
  table: RouteTable,
  b: number,
  best: number,
  ranked: readonly Matchable[],
  req: RouteRequest,
  lower: string,
): number {
  const buckets = table.buckets;
  if (buckets[b + BUCKET_MIN_RANK]! >= best) return best;
  const hostKnown = buckets[b + BUCKET_HOST_KNOWN] === 1;
  const bits = buckets[b + BUCKET_BLOOM_BITS]!;
  const bloom = b + BUCKET_LENGTHS + 1 + 3 * buckets[b + BUCKET_LENGTHS]!;
  const path = req.path;
  const length = path.length;
  const h = heads;
  if (buckets[b + BUCKET_EXACT_MIN_RANK]! < best && length <= table.maxPathKey) {
    const hash = h[length]!;
    let maybe = true;
    if (bits >= 0) {
      // The Bloom filter: both bits are set if the key is there.
      const x = Math.imul(hash, BLOOM_BIT);
      const word = buckets[bloom + (bits === 0 ? 0 : Math.imul(hash, BLOOM_WORD) >>> (32 - bits))]!;
      maybe = ((word >>> ((x >>> 7) & 31)) & (word >>> ((x >>> 2) & 31)) & 1) === 1;
    }
    if (maybe) {
      const ns = nsExact(b);
      const value = find(table, keyHash(hash, ns), ns, path, 0, length);
      if (value !== MISSING) best = firstIn(table, value, found, ns, length, best, hostKnown, ranked, req, lower);
    }
  }
  // Prefixes, shortest first.
  const marked = buckets[b + BUCKET_MARKED] === 1;
  for (let at = b + BUCKET_LENGTHS + 1; at < bloom; at += 3) {
    if (buckets[at + 2]! >= best) break;
    const l = buckets[at]!;
    if (l > length) break;
    const hash = h[l]!;
    if (bits >= 0) {
      const x = Math.imul(hash, BLOOM_BIT);
      const word = buckets[bloom + (bits === 0 ? 0 : Math.imul(hash, BLOOM_WORD) >>> (32 - bits))]!;
      // No prefix has this head: no longer prefix can start the path.
      if (((word >>> (x >>> 27)) & (word >>> ((x >>> 22) & 31)) & 1) === 0) {
        if (marked) break;
        continue;
      }
      // No prefix of this length is the head.
      if (((word >>> ((x >>> 17) & 31)) & (word >>> ((x >>> 12) & 31)) & 1) === 0) continue;
    }
    // None of this length can beat `best`.
    if (buckets[at + 1]! >= best) continue;
    const ns = nsPrefix(b);
    const value = find(table, keyHash(hash, ns), ns, path, 0, l);
    if (value !== MISSING) best = firstIn(table, value, found, ns, l, best, hostKnown, ranked, req, lower);
  }
  if (buckets[b + BUCKET_REST_MIN_RANK]! < best) {
    best = firstIn(table, ~buckets[b + BUCKET_REST]!, -1, 0, 0, best, hostKnown, ranked, req, lower);
  }
  return best;
}

/**
 * Looks up the tails of `host` in `index` (namespace `ns`) at each key
 * length, shorter than the host unless `whole`, and scans the buckets
 * found. `tails` holds the hashes of the last `tailCount` characters of
 * `host`, and is extended as needed.
 */
function scanTails(
  table: RouteTable,
  index: SuffixIndex,
  ns: number,
  host: string,
  whole: boolean,
  best: number,
  ranked: readonly Matchable[],
  req: RouteRequest,
  lower: string,
): number {
  const lengths = index.lengths;
  const firstChars = index.firstChars;
  const secondChars = index.secondChars;
  const n = host.length;
  for (let i = 0; i < lengths.length && index.minRank < best; i++) {
    const l = lengths[i]!;
    if (l > n || (l === n && !whole)) break;
    // Only tails that start as some key of this length starts.
    if (((firstChars[i]! >>> (host.charCodeAt(n - l) & 31)) & 1) === 0) continue;
    if (l > 1 && ((secondChars[i]! >>> (host.charCodeAt(n - l + 1) & 31)) & 1) === 0) continue;
    if (tailCount < l) {
      if (l >= tails.length) {
        const next = grown(tails, l + 1);
        next.set(tails.subarray(0, tailCount + 1));
        tails = next;
      }
      let h = tails[tailCount]!;
      for (; tailCount < l; tailCount++) tails[tailCount + 1] = h = hashStep(h, host.charCodeAt(n - 1 - tailCount));
    }
    const b = find(table, keyHash(tails[l]!, ns), ns, host, n - l, l);
    // A bucket is trusted to match the host: confirm the key.
    if (b !== MISSING && keyIs(table, found, ns, host, n - l, l)) {
      best = scan(table, b, best, ranked, req, lower);
    }
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
  if (!busy) {
    busy = true;
    try {
      return lookup(table, ranked, req);
    } finally {
      busy = false;
    }
  }
  // A lookup from inside a request accessor (a condition's header, query or
  // cookie): its own scratch space, so as not to overwrite the outer one's.
  const [outerHeads, outerTails, outerTailCount, outerFound] = [heads, tails, tailCount, found];
  heads = new Int32Array(64);
  tails = new Int32Array(64);
  try {
    return lookup(table, ranked, req);
  } finally {
    [heads, tails, tailCount, found] = [outerHeads, outerTails, outerTailCount, outerFound];
  }
}

/** Whether a lookup is under way (see {@linkcode lookupRoute}). */
let busy = false;

/** {@linkcode lookupRoute}, with the scratch space to itself. */
function lookup(table: RouteTable, ranked: readonly Matchable[], req: RouteRequest): number {
  const host = req.host;
  const path = req.path;

  // Hashes of the path's heads, up to the longest path key.
  const limit = Math.min(path.length, table.maxPathKey);
  if (limit >= heads.length) heads = grown(heads, limit + 1);
  const h = heads;
  let hash = HASH_SEED;
  h[0] = hash;
  for (let k = 0; k < limit; k++) h[k + 1] = hash = hashStep(hash, path.charCodeAt(k));

  let best = NO_RANK;
  const hosts = table.hosts;
  let lower = host;
  let b = -1;
  if (hosts.minRank < best) {
    const n = host.length;
    if (hostMayBe(hosts, host)) {
      // The hash of the host lower-cased, as it is read: no new string
      // unless the host has upper case, and none for a Map to hash again.
      let hostHash = HASH_SEED;
      let upper = false;
      let ascii = true;
      for (let i = 0; i < n; i++) {
        let c = host.charCodeAt(i);
        if (c - 65 >>> 0 < 26) {
          c += 32;
          upper = true;
        } else if (c > 127) ascii = false;
        hostHash = hashStep(hostHash, c);
      }
      if (upper || !ascii) lower = host.toLowerCase();
      b = findHost(table, ascii ? hostHash : textHash(lower), lower);
    } else {
      lower = host.toLowerCase();
      // Lower-casing beyond A-Z can change what the filters looked at.
      if (lower !== host && hostMayBe(hosts, lower)) b = findHost(table, textHash(lower), lower);
    }
  } else lower = host.toLowerCase();
  if (b >= 0) best = scan(table, b, best, ranked, req, lower);
  tails[0] = HASH_SEED;
  tailCount = 0;
  if (table.suffixes.minRank < best) {
    best = scanTails(table, table.suffixes, NS_SUFFIX, lower, false, best, ranked, req, lower);
  }
  if (table.anyHost >= 0) best = scan(table, table.anyHost, best, ranked, req, lower);
  // Regex hosts last: a good rank found elsewhere spares their regexes.
  if (table.regexSuffixes.minRank < best) {
    // Regex suffixes are matched against the host as received.
    if (host !== lower) tailCount = 0;
    best = scanTails(table, table.regexSuffixes, NS_REGEX_SUFFIX, host, true, best, ranked, req, lower);
  }
  if (table.regexHosts >= 0) best = scan(table, table.regexHosts, best, ranked, req, lower);
  return best === NO_RANK ? -1 : best;
}
