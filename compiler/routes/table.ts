/**
 * The routing table of one server, built once by the compiler.
 *
 * Locations are ranked by weight (rank 0 wins). A location is filed under
 * each of its host selectors, in the path index ("bucket") of:
 *
 * - its exact host (lower case), in `hosts`;
 * - its `*.suffix` host, keyed by `.suffix` (lower case; the host must have
 *   more text before it), in `suffixes`;
 * - its regex host's literal suffix, the text every match ends with
 *   (`~^(?<app>.+)\.example\.com$` under `.example.com`, case as written),
 *   in `regexSuffixes`;
 * - `regexHosts`, for the other regex hosts;
 * - `anyHost`, for locations without a host.
 *
 * Within a bucket, a location is filed by its path: exact paths and prefix
 * paths under their text (an any-path location is the empty prefix); regex
 * paths that start with `^` and a literal text under that text as a prefix
 * (the literal is a necessary prefix of every match; the regex still
 * decides, from the end of the literal on); the other regex paths in the
 * bucket's `rest` list.
 *
 * Every key (exact hosts, host suffixes, and the exact paths and prefixes
 * of every bucket) lives in one flat open-addressing hash table of typed
 * arrays, so that a lookup is a few probes in compact memory, whatever the
 * size of the table, rather than a walk through nested objects:
 *
 * - a path is hashed one character at a time, so that one pass gives the
 *   hash of each of its heads; a bucket then looks up the whole path among
 *   its exact paths, and the path's head at each length some prefix in the
 *   bucket has, shortest first;
 * - a host's tails are looked up at each length some suffix has (when the
 *   tail starts with characters some suffix of that length starts with),
 *   hashed from the last character back.
 *
 * A bucket with more than a few keys has a Bloom filter, small enough to
 * stay in the CPU caches, of its keys and of the heads of its prefixes at
 * each shorter prefix length: it spares the probes of the big table for keys
 * that are not there, and ends the walk along the prefix lengths at the
 * first head that no prefix has.
 *
 * Lookup keeps the lowest rank that fully matches and skips what cannot beat
 * it (each bucket and prefix length knows the lowest rank at or after it).
 * The result is the same as trying every location in weight order (see
 * `linear.ts`), which the tests check on random tables.
 *
 * @module
 */
import type { HostMatch, PathMatch } from "../values/location_match.ts";

/** Rank that no location has: "no match yet". */
export const NO_RANK = 0x7fffffff;

/** Offset in a bucket of {@linkcode RouteTable.buckets}: the lowest rank in it. */
export const BUCKET_MIN_RANK = 0;
/** 1 when the bucket's host is known to match (exact, suffix, none), 0 for regex hosts. */
export const BUCKET_HOST_KNOWN = 1;
/** log2 of the number of 32-bit words of the bucket's Bloom filter (see {@linkcode bloomBits}), or -1 for none. */
export const BUCKET_BLOOM_BITS = 2;
/** Lowest rank among the exact paths (`NO_RANK` when none). */
export const BUCKET_EXACT_MIN_RANK = 3;
/** The `rest` list, at `lists[i]` (-1 when none). */
export const BUCKET_REST = 4;
/** Lowest rank in the `rest` list (`NO_RANK` when none). */
export const BUCKET_REST_MIN_RANK = 5;
/**
 * 1 when the Bloom filter holds the heads of the prefixes at each shorter
 * prefix length, so that a head not there ends the walk along the lengths.
 */
export const BUCKET_MARKED = 6;
/**
 * The number of distinct prefix lengths, followed by that many triples in
 * ascending order of length: a length, the lowest rank at it, and the
 * lowest rank at it or longer. The words of the Bloom filter follow.
 */
export const BUCKET_LENGTHS = 7;

/** Value of a slot of {@linkcode RouteTable.slots} whose hash another key has: the value is in `keys`. */
export const SHARED = -0x7fffffff;

/** Numbers per slot in {@linkcode RouteTable.keys}. */
export const KEY = 8;
/** Offset in a slot of {@linkcode RouteTable.keys}: the key's namespace. */
export const KEY_NS = 0;
/** The key's value (see {@linkcode RouteTable.slots}). */
export const KEY_VALUE = 1;
/** Twice the key's length, plus 1 when its text is not inline. */
export const KEY_LENGTH = 2;
/**
 * The key's text when inline (at most {@linkcode INLINE} characters, all
 * below 256): four per number, first in the low byte; else the offset of
 * the text in {@linkcode RouteTable.text}.
 */
export const KEY_TEXT = 3;
/** Longest key text held inline. */
export const INLINE = 4 * (KEY - KEY_TEXT);

/** Namespace of `*.suffix` keys (`.suffix`, lower case). */
export const NS_SUFFIX = -1;
/** Namespace of regex-host literal suffixes (case as written). */
export const NS_REGEX_SUFFIX = -2;
/** Namespace of exact hosts (lower case). */
export const NS_HOST = -3;

/** Namespace of the exact paths of the bucket at `offset`. */
export function nsExact(offset: number): number {
  return 2 * offset + 2;
}

/** Namespace of the path prefixes of the bucket at `offset`. */
export function nsPrefix(offset: number): number {
  return 2 * offset + 1;
}

/** Hash of the empty text; {@linkcode hashStep} extends it by one character. */
export const HASH_SEED = 0x811c9dc5 | 0;

/** FNV-1a step: the hash of a text one character longer. */
export function hashStep(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193);
}

/**
 * The stored hash of a key: its text hash (read backwards for host
 * suffixes) mixed with its namespace; never 0, which marks an empty slot.
 */
export function keyHash(h: number, ns: number): number {
  h = Math.imul(h ^ Math.imul(ns, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  return h === 0 ? 1 : h;
}

/** Multiplier of a text hash for the word of a bucket's Bloom filter (see {@linkcode bloomBits}). */
export const BLOOM_WORD = 0x2545f491;
/** Multiplier of a text hash for the bits of a bucket's Bloom filter (see {@linkcode bloomBits}). */
export const BLOOM_BIT = 0x9e3779b1 | 0;

/**
 * Where a bucket's Bloom filter (of `2 ** bits` 32-bit words) holds a path
 * text with hash `h`: the word, and in it the bits that say "some prefix has
 * this head" (see {@linkcode BUCKET_MARKED}), "a prefix is this text" and
 * "an exact path is this text", two each. The word is the top `bits` bits of
 * `h * BLOOM_WORD`; with `x = h * BLOOM_BIT`, the head bits are bits 27–31
 * and 22–26 of `x`, the prefix bits 17–21 and 12–16, the exact bits 7–11
 * and 2–6.
 */
export function bloomBits(h: number, bits: number): { word: number; head: number; prefix: number; exact: number } {
  const x = Math.imul(h, BLOOM_BIT);
  return {
    word: bits === 0 ? 0 : Math.imul(h, BLOOM_WORD) >>> (32 - bits),
    head: (1 << (x >>> 27)) | (1 << ((x >>> 22) & 31)),
    prefix: (1 << ((x >>> 17) & 31)) | (1 << ((x >>> 12) & 31)),
    exact: (1 << ((x >>> 7) & 31)) | (1 << ((x >>> 2) & 31)),
  };
}

/** Exact hosts. */
export interface HostIndex {
  /**
   * Bucket (offset in {@linkcode RouteTable.buckets}) by host, lower case,
   * for reading the table; lookup finds these hosts as keys of
   * {@linkcode RouteTable.slots} ({@linkcode NS_HOST}), hashed as it reads
   * the host, because a `Map` would hash each request's new host string
   * again (~190 ns for 18 characters, against ~20 ns once hashed).
   */
  readonly children: ReadonlyMap<string, number>;
  /**
   * The lengths of the hosts: bit `n` for length `n` below 32, bit 31 for
   * any longer; and their first characters: bit `c & 31` for each. A host
   * of another length, or that starts with another character, costs no
   * probe.
   */
  readonly lengths: number;
  /** See `lengths`. */
  readonly firstChars: number;
  /** Lowest rank in these buckets (`NO_RANK` when none). */
  readonly minRank: number;
}

/**
 * Host suffixes of one kind: keys of {@linkcode RouteTable.slots} in their
 * namespace ({@linkcode NS_SUFFIX}, {@linkcode NS_REGEX_SUFFIX}), hashed
 * from their last character to their first, with a bucket as value.
 */
export interface SuffixIndex {
  /** Distinct key lengths, ascending. */
  readonly lengths: Int32Array;
  /** Per length, the first characters of its keys: bit `c & 31` for each. */
  readonly firstChars: Int32Array;
  /** Per length, the second characters of its keys likewise (all bits for length 1). */
  readonly secondChars: Int32Array;
  /** Lowest rank in these buckets (`NO_RANK` when none). */
  readonly minRank: number;
}

/** A server's routing table: plain data (Maps, typed arrays, a string). */
export interface RouteTable {
  /** Exact hosts, lower case. */
  readonly hosts: HostIndex;
  /**
   * By slot of {@linkcode RouteTable.slots}: the exact host keyed there
   * ({@linkcode NS_HOST}), null for other keys. Lookup confirms a host with
   * one string comparison.
   */
  readonly hostTexts: readonly (string | null)[];
  /** `*.suffix` hosts as `.suffix`, lower case. */
  readonly suffixes: SuffixIndex;
  /** Literal suffixes of regex hosts, case as written. */
  readonly regexSuffixes: SuffixIndex;
  /** Bucket of regex hosts without a literal suffix (or -1). */
  readonly regexHosts: number;
  /** Bucket of locations without a host (or -1). */
  readonly anyHost: number;
  /** Buckets, one after another (see the `BUCKET_` offsets). */
  readonly buckets: Int32Array;
  /**
   * The hash table: per slot, the key's {@linkcode keyHash} (0 when the slot
   * is empty) and its value: a bucket for a host suffix; for a path, one rank
   * or `~i` for the rank list at `lists[i]`; {@linkcode SHARED} when another
   * key has the same hash. The slot count is a power of two; probing is
   * linear, and compares hashes only, unless two keys share one. When the
   * request's text is not a key but has a key's hash, the probe finds that
   * key: that costs at most a look at a location, since a location is taken
   * without looking at it only once `keys` confirms the key.
   */
  readonly slots: Int32Array;
  /** By slot, {@linkcode KEY} numbers: the key (see the `KEY_` offsets). */
  readonly keys: Int32Array;
  /** Texts of keys that are not inline, one after another. */
  readonly text: string;
  /** Rank lists: a count, then that many ranks, ascending. */
  readonly lists: Int32Array;
  /** Longest path key. */
  readonly maxPathKey: number;
  /**
   * By rank: 1 when the location has a plain path (exact, prefix, any) and
   * no conditions, so that reaching it in a bucket whose host is known to
   * match (under a key that is the path's) is a match without looking at the
   * location.
   */
  readonly plain: Uint8Array;
  /**
   * By rank, for a location that is not plain: 1 when it has conditions,
   * plus twice 1 + the index in `pathTails` of the rest of its regex path
   * after the literal prefix (see {@linkcode literalPrefix}), if it has one.
   * Where its host is known to match, the location is looked at for those
   * only.
   */
  readonly checks: Int32Array;
  /** Sticky regexes, each the rest of some regex paths after their literal prefix. */
  readonly pathTails: readonly RegExp[];
}

/** What the table needs of a location. */
export interface Routable {
  readonly path: PathMatch;
  readonly hosts: readonly HostMatch[];
  readonly matchHeaders: readonly unknown[];
  readonly matchQuery: readonly unknown[];
  readonly matchCookies: readonly unknown[];
}

const SYNTAX = "^$\\.*+?()[]{}|/-";

/**
 * The literal text every match of `re` starts with: the characters after a
 * leading `^` up to the first construct that is not a plain character. ""
 * when there is none, or when the regex could match elsewhere (`i` or `m`
 * flag, an alternation).
 */
export function literalPrefix(re: RegExp): string {
  return literalHead(re)[0];
}

/** {@linkcode literalPrefix}, and where the rest of the source starts. */
function literalHead(re: RegExp): [literal: string, end: number] {
  const src = re.source;
  if (src[0] !== "^" || re.flags.includes("i") || re.flags.includes("m") || src.includes("|")) return ["", 0];
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
  return [out, i];
}

/**
 * The rest of `re` after its literal prefix, as a sticky RegExp: `re`
 * matches a text that starts with the literal exactly when this matches the
 * text from just after the literal. Shared by regexes that differ only in
 * their literal, it keeps one compiled regex hot instead of many cold ones.
 * undefined when there is no literal prefix.
 */
function regexTail(re: RegExp): RegExp | undefined {
  const [literal, end] = literalHead(re);
  if (literal === "") return undefined;
  try {
    return new RegExp(re.source.slice(end), re.flags.replace("g", "") + (re.flags.includes("y") ? "" : "y"));
  } catch {
    return undefined;
  }
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

/** A bucket under construction. */
interface MutableBucket {
  /** Ranks by exact path. */
  readonly exact: Map<string, number[]>;
  /** Ranks by path prefix. */
  readonly prefix: Map<string, number[]>;
  /** Regex paths without a literal prefix. */
  readonly rest: number[];
  /** Whether the bucket's host is known to match. */
  readonly hostKnown: boolean;
}

function newBucket(hostKnown: boolean): MutableBucket {
  return { exact: new Map(), prefix: new Map(), rest: [], hostKnown };
}

function push<K>(map: Map<K, number[]>, key: K, rank: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [rank]);
  else list.push(rank);
}

function addPath(bucket: MutableBucket, path: PathMatch, rank: number): void {
  switch (path.kind) {
    case "exact":
      push(bucket.exact, path.path, rank);
      return;
    case "prefix":
      push(bucket.prefix, path.prefix, rank);
      return;
    case "any":
      push(bucket.prefix, "", rank);
      return;
    case "regex": {
      const literal = literalPrefix(path.regex);
      if (literal === "") bucket.rest.push(rank);
      else push(bucket.prefix, literal, rank);
    }
  }
}

/** A growable list of 32-bit integers. */
class IntList {
  data = new Int32Array(256);
  length = 0;

  push(v: number): number {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length] = v;
    return this.length++;
  }

  /** The list as a typed array of its length. */
  done(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** The text hash of `text` ({@linkcode hashStep} from {@linkcode HASH_SEED}, first character first). */
export function textHash(text: string): number {
  let h = HASH_SEED;
  for (let i = 0; i < text.length; i++) h = hashStep(h, text.charCodeAt(i));
  return h;
}

/** A key before it is placed in the hash table. */
interface Key {
  readonly ns: number;
  readonly text: string;
  /** Whether its hash reads the text backwards (host suffixes). */
  readonly backwards: boolean;
  readonly value: number;
}

/** Bloom filter bits per entry (a key or a head). */
const BLOOM_BITS_PER_ENTRY = 10;

/** Buckets of at most this many keys have no Bloom filter. */
const SMALL_BUCKET = 8;

/** At most this many heads per prefix in a bucket, else the walk along the lengths is not cut short. */
const MAX_HEADS_PER_PREFIX = 16;

function suffixIndex(
  map: Map<string, MutableBucket>,
  ns: number,
  layOut: (b: MutableBucket) => number,
  buckets: IntList,
  keys: Key[],
): SuffixIndex {
  const chars = new Map<number, [number, number]>();
  let minRank = NO_RANK;
  for (const [key, b] of map) {
    const offset = layOut(b);
    keys.push({ ns, text: key, backwards: true, value: offset });
    minRank = Math.min(minRank, buckets.data[offset + BUCKET_MIN_RANK]!);
    const [first, second] = chars.get(key.length) ?? [0, 0];
    chars.set(key.length, [
      first | (1 << (key.charCodeAt(0) & 31)),
      key.length === 1 ? -1 : second | (1 << (key.charCodeAt(1) & 31)),
    ]);
  }
  const lengths = Int32Array.from(chars.keys()).sort();
  return {
    lengths,
    firstChars: lengths.map((l) => chars.get(l)![0]),
    secondChars: lengths.map((l) => chars.get(l)![1]),
    minRank,
  };
}

/**
 * Builds the table from locations already sorted by rank.
 *
 * @example Usage
 * ```ts
 * import { buildRouteTable } from "./table.ts";
 * const loc = { path: { kind: "prefix", prefix: "/api" } as const, hosts: [], matchHeaders: [], matchQuery: [], matchCookies: [] };
 * const t = buildRouteTable([loc]);
 * if (t.anyHost !== 0 || t.buckets[t.anyHost] !== 0) throw new Error();
 * ```
 */
export function buildRouteTable(ranked: readonly Routable[]): RouteTable {
  const hosts = new Map<string, MutableBucket>();
  const suffixes = new Map<string, MutableBucket>();
  const regexSuffixes = new Map<string, MutableBucket>();
  let regexHosts: MutableBucket | undefined;
  let anyHost: MutableBucket | undefined;
  const plain = new Uint8Array(ranked.length);
  const checks = new Int32Array(ranked.length);
  const pathTails: RegExp[] = [];
  const tailIndex = new Map<string, number>();
  const bucketIn = (map: Map<string, MutableBucket>, key: string, hostKnown: boolean) => {
    let b = map.get(key);
    if (b === undefined) map.set(key, b = newBucket(hostKnown));
    return b;
  };
  ranked.forEach((loc, rank) => {
    const conditions = loc.matchHeaders.length + loc.matchQuery.length + loc.matchCookies.length;
    plain[rank] = loc.path.kind !== "regex" && conditions === 0 ? 1 : 0;
    const tail = loc.path.kind === "regex" ? regexTail(loc.path.regex) : undefined;
    let i = -1;
    if (tail !== undefined) {
      const key = `${tail.flags}/${tail.source}`;
      i = tailIndex.get(key) ?? -1;
      if (i < 0) tailIndex.set(key, i = pathTails.push(tail) - 1);
    }
    checks[rank] = 2 * (i + 1) + (conditions === 0 ? 0 : 1);
    if (loc.hosts.length === 0) {
      addPath(anyHost ??= newBucket(true), loc.path, rank);
      return;
    }
    // A location is filed once per distinct bucket, so its rank appears once per list.
    const seen = new Set<MutableBucket>();
    for (const h of loc.hosts) {
      let bucket: MutableBucket;
      if (h.kind === "regex") {
        const literal = literalSuffix(h.regex);
        bucket = literal === "" ? regexHosts ??= newBucket(false) : bucketIn(regexSuffixes, literal, false);
      } else if (h.kind === "exact") {
        // Lookup compares the lower-cased request host with these keys: one
        // that is not lower case (the compiler makes none) never matches.
        if (h.host !== h.host.toLowerCase()) continue;
        bucket = bucketIn(hosts, h.host, true);
      } else bucket = bucketIn(suffixes, h.suffix, true);
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      addPath(bucket, loc.path, rank);
    }
  });

  // Lay out the buckets and collect the keys.
  const buckets = new IntList();
  const lists = new IntList();
  const keys: Key[] = [];
  let maxPathKey = 0;
  const listOf = (ranks: readonly number[]): number => {
    const at = lists.push(ranks.length);
    for (const r of ranks) lists.push(r);
    return at;
  };
  const valueOf = (ranks: readonly number[]): number => ranks.length === 1 ? ranks[0]! : ~listOf(ranks);
  const layOut = (b: MutableBucket): number => {
    const offset = buckets.length;
    let exactMin = NO_RANK;
    for (const [path, ranks] of b.exact) {
      exactMin = Math.min(exactMin, ranks[0]!);
      keys.push({ ns: nsExact(offset), text: path, backwards: false, value: valueOf(ranks) });
      maxPathKey = Math.max(maxPathKey, path.length);
    }
    // Prefix lengths, with the lowest rank at each.
    const byLength = new Map<number, number>();
    for (const [prefix, ranks] of b.prefix) {
      byLength.set(prefix.length, Math.min(byLength.get(prefix.length) ?? NO_RANK, ranks[0]!));
      keys.push({ ns: nsPrefix(offset), text: prefix, backwards: false, value: valueOf(ranks) });
      maxPathKey = Math.max(maxPathKey, prefix.length);
    }
    const lengths = [...byLength.keys()].sort((x, y) => x - y);
    // A Bloom filter, unless the bucket is small: probing the hash table for
    // each of a few keys costs less than reading a filter. With it, the heads
    // of each prefix at the shorter lengths, unless there are too many.
    const count = b.exact.size + b.prefix.size;
    let heads: Set<string> | undefined;
    if (count > SMALL_BUCKET) {
      heads = new Set();
      const budget = MAX_HEADS_PER_PREFIX * b.prefix.size;
      for (const prefix of b.prefix.keys()) {
        for (const l of lengths) {
          if (l >= prefix.length) break;
          heads.add(prefix.slice(0, l));
        }
        if (heads.size > budget) {
          heads = undefined;
          break;
        }
      }
    }
    let bits = -1;
    if (count > SMALL_BUCKET) {
      const entries = count + (heads?.size ?? 0);
      bits = 0;
      while (32 * 2 ** bits < entries * BLOOM_BITS_PER_ENTRY) bits++;
    }
    const rest = b.rest.length ? listOf(b.rest) : -1;
    const restMin = b.rest[0] ?? NO_RANK;
    buckets.push(0); // the lowest rank, set below
    buckets.push(b.hostKnown ? 1 : 0);
    buckets.push(bits);
    buckets.push(exactMin);
    buckets.push(rest);
    buckets.push(restMin);
    buckets.push(heads === undefined ? 0 : 1);
    buckets.push(lengths.length);
    const at = buckets.length;
    for (const l of lengths) {
      buckets.push(l);
      buckets.push(byLength.get(l)!);
      buckets.push(byLength.get(l)!);
    }
    // Lowest rank at each length or longer.
    let min = NO_RANK;
    for (let i = lengths.length - 1; i >= 0; i--) {
      min = Math.min(min, buckets.data[at + 3 * i + 2]!);
      buckets.data[at + 3 * i + 2] = min;
    }
    buckets.data[offset + BUCKET_MIN_RANK] = Math.min(min, exactMin, restMin);
    const bloom = buckets.length;
    if (bits < 0) return offset;
    for (let i = 0; i < 2 ** bits; i++) buckets.push(0);
    const set = (text: string, kind: "head" | "prefix" | "exact") => {
      const at = bloomBits(textHash(text), bits);
      buckets.data[bloom + at.word]! |= at[kind];
    };
    for (const path of b.exact.keys()) set(path, "exact");
    for (const prefix of b.prefix.keys()) {
      set(prefix, "head");
      set(prefix, "prefix");
    }
    for (const head of heads ?? []) set(head, "head");
    return offset;
  };
  const anyHostOffset = anyHost === undefined ? -1 : layOut(anyHost);
  const children = new Map<string, number>();
  let hostLengths = 0;
  let hostFirstChars = 0;
  let hostMinRank = NO_RANK;
  for (const [host, b] of hosts) {
    const offset = layOut(b);
    children.set(host, offset);
    keys.push({ ns: NS_HOST, text: host, backwards: false, value: offset });
    hostLengths |= 1 << Math.min(host.length, 31);
    hostFirstChars |= 1 << (host.charCodeAt(0) & 31);
    hostMinRank = Math.min(hostMinRank, buckets.data[offset + BUCKET_MIN_RANK]!);
  }
  const suffixKeys = suffixIndex(suffixes, NS_SUFFIX, layOut, buckets, keys);
  const regexSuffixKeys = suffixIndex(regexSuffixes, NS_REGEX_SUFFIX, layOut, buckets, keys);
  const regexHostsOffset = regexHosts === undefined ? -1 : layOut(regexHosts);

  // The hash table, at most four fifths full: probing reads `slots`, which
  // is small; the keys, which are not, are read only to confirm one.
  let size = 16;
  while (size * 4 < keys.length * 5) size *= 2;
  const slots = new Int32Array(2 * size);
  const keyData = new Int32Array(size * KEY);
  const mask = size - 1;
  const texts: string[] = [];
  const hostTexts: (string | null)[] = new Array(size).fill(null);
  let textLength = 0;
  for (const key of keys) {
    const t = key.text;
    let h = HASH_SEED;
    if (key.backwards) { for (let i = t.length - 1; i >= 0; i--) h = hashStep(h, t.charCodeAt(i)); }
    else h = textHash(t);
    const full = keyHash(h, key.ns);
    let shared = 0;
    let i = full & mask;
    for (; slots[2 * i] !== 0; i = (i + 1) & mask) {
      if (slots[2 * i] === full) {
        shared = 1;
        slots[2 * i + 1] = SHARED;
      }
    }
    slots[2 * i] = full;
    slots[2 * i + 1] = shared ? SHARED : key.value;
    const k = i * KEY;
    if (key.ns === NS_HOST) hostTexts[i] = t;
    keyData[k + KEY_NS] = key.ns;
    keyData[k + KEY_VALUE] = key.value;
    let inline = t.length <= INLINE;
    for (let c = 0; c < t.length && inline; c++) inline = t.charCodeAt(c) < 256;
    keyData[k + KEY_LENGTH] = 2 * t.length + (inline ? 0 : 1);
    if (inline) {
      for (let c = 0; c < t.length; c++) keyData[k + KEY_TEXT + (c >> 2)]! |= t.charCodeAt(c) << ((c & 3) << 3);
    } else {
      keyData[k + KEY_TEXT] = textLength;
      texts.push(t);
      textLength += t.length;
    }
  }
  return {
    hosts: { children, lengths: hostLengths, firstChars: hostFirstChars, minRank: hostMinRank },
    hostTexts,
    suffixes: suffixKeys,
    regexSuffixes: regexSuffixKeys,
    regexHosts: regexHostsOffset,
    anyHost: anyHostOffset,
    buckets: buckets.done(),
    slots,
    keys: keyData,
    text: texts.join(""),
    lists: lists.done(),
    maxPathKey,
    plain,
    checks,
    pathTails,
  };
}
