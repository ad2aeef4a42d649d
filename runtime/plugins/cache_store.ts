/**
 * The cache plugin's in-memory store: entries by key, least recently used evicted first once their bytes pass the
 * budget. One store serves the isolate (Pingap's memory cache is one per process, the first config's size wins;
 * each worker isolate here has its own), so entries outlive a reload whatever it changes; keys carry the namespace.
 *
 * A hit answers with a {@linkcode StaticAnswer} made once per entry and second of age: its `age` field is the only
 * part that changes.
 *
 * @module
 */
import type { PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { countCacheEvictions } from "../observe/metrics/mod.ts";

/** The memory backend of a cache plan. */
type MemoryCacheBackend = Extract<PlanOf<typeof PLUGIN_DEFINITIONS.cache>["backend"], { kind: "memory" }>;

/** One cached answer. */
export class CacheEntry {
  /** Bytes the entry counts against the budget (body and fields). */
  readonly weight: number;
  #answer: StaticAnswer | undefined;
  #answerAge = -1;
  #answerLookup = -1;

  /**
   * @param status The answer's status.
   * @param fields Its fields (lower-case names, framing and `age` left out).
   * @param body Its whole body.
   * @param stored When it was stored (ms since the epoch).
   * @param expires When it stops being fresh (ms since the epoch).
   * @param vary The request fields its `Vary` names (lower case) and their values in the request that fetched it.
   */
  constructor(
    readonly status: number,
    readonly fields: readonly (readonly [string, string])[],
    readonly body: Uint8Array,
    readonly stored: number,
    readonly expires: number,
    readonly vary: readonly (readonly [string, string])[] = [],
  ) {
    let w = body.byteLength;
    for (const [n, v] of fields) w += n.length + v.length + 4;
    this.weight = w;
  }

  /** Does a request with these fields get this variant (the fields its `Vary` names have the same values)? */
  matches(header: (name: string) => string | null): boolean {
    for (const [name, value] of this.vary) if ((header(name) ?? "") !== value) return false;
    return true;
  }

  /**
   * The answer at `now`: with `x-cache-status: hit`, `x-cache-lookup` (the whole milliseconds the lookup took) and
   * `age` in whole seconds since it was stored.
   */
  answer(now: number, lookupMs = 0): StaticAnswer {
    const age = Math.max(0, Math.floor((now - this.stored) / 1000));
    if (this.#answer === undefined || age !== this.#answerAge || lookupMs !== this.#answerLookup) {
      this.#answer = new StaticAnswer(
        this.status,
        [...this.fields, ["x-cache-status", "hit"], ["x-cache-lookup", `${lookupMs}ms`], ["age", String(age)]],
        this.body,
      );
      this.#answerAge = age;
      this.#answerLookup = lookupMs;
    }
    return this.#answer;
  }
}

/**
 * Entries by key, with a byte budget, an optional entry count (`cache_max` of the file backend's hot layer) and
 * least-recently-used eviction (each counted in `pingap_cache_memory_evictions`).
 */
export class MemoryStore {
  readonly #entries = new Map<string, CacheEntry>();
  #bytes = 0;

  /**
   * @param budget The most bytes the entries may weigh together.
   * @param maxEntries The most entries held.
   */
  constructor(readonly budget: number, readonly maxEntries = Infinity) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The entry of `key` (marked recently used), or undefined. An expired one is returned too (the plugin refetches
   * it, `x-cache-status: expired`) and stays until replaced or evicted.
   */
  get(key: string, _now?: number): CacheEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** Stores `entry` under `key`, evicting the least recently used entries past the budget; false when it cannot fit. */
  put(key: string, entry: CacheEntry): boolean {
    if (entry.weight > this.budget) return false;
    this.delete(key);
    this.#entries.set(key, entry);
    this.#bytes += entry.weight;
    let evicted = 0;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.budget && this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(k);
      this.#bytes -= e.weight;
      evicted++;
    }
    if (evicted > 0) countCacheEvictions(evicted);
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  /** Removes `key`; true when it was there. */
  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= entry.weight;
    return true;
  }
}

/** Pingap's memory budget when the available memory is unknown, and its cap. */
const UNKNOWN_BUDGET = 256 * 1024 * 1024;
const BUDGET_CAP = 1024 * 1024 * 1024;

/** The memory budget: a quarter of the available memory (256 MB if unknown), at most 1 GB. */
export function memoryBudget(): number {
  let available = 0;
  try {
    available = Deno.systemMemoryInfo().available;
  } catch {
    available = 0;
  }
  return available > 0 ? Math.min(Math.floor(available / 4), BUDGET_CAP) : UNKNOWN_BUDGET;
}

/** The bytes a memory backend may use: `max_size` in bytes, or a percentage of the budget (all of it when unset). */
export function storeSize(backend: MemoryCacheBackend, budget: number): number {
  if (backend.maxSizeBytes !== undefined) return backend.maxSizeBytes;
  if (backend.maxSizePercent !== undefined) return Math.floor(Math.min(budget, budget * backend.maxSizePercent / 100));
  return budget;
}

let shared: MemoryStore | undefined;

/** The process's one memory store, sized by the first backend that asks for it. */
export function sharedStore(backend: MemoryCacheBackend): MemoryStore {
  shared ??= new MemoryStore(storeSize(backend, memoryBudget()));
  return shared;
}
