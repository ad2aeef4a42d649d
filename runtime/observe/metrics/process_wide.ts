/**
 * The process-wide families (no `server` label, as in Pingap): file cache
 * storage timings and the faults contained. Every server's exposition ends
 * with this registry.
 *
 * @module
 */
import { type Counter, Registry } from "prom-client";
import { build, histogramOf, spec } from "./prom_family.ts";

/** The registry of the process-wide families. */
export const GLOBAL_REGISTRY = new Registry();
const STORAGE_READ = histogramOf(spec("pingap_cache_storage_read_time"), GLOBAL_REGISTRY);
const STORAGE_WRITE = histogramOf(spec("pingap_cache_storage_write_time"), GLOBAL_REGISTRY);
const EVICTIONS = build(spec("pingap_cache_memory_evictions"), GLOBAL_REGISTRY) as Counter;
const UNCAUGHT = build(spec("pingap_uncaught_errors_total"), GLOBAL_REGISTRY) as Counter;

/** The registry of the process-wide families (no `server` label): every server's exposition ends with it. */
export function processRegistry(): Registry {
  return GLOBAL_REGISTRY;
}

/** A file cache storage read took `ms`. */
export function observeCacheStorageRead(ms: number): void {
  STORAGE_READ.observe(ms / 1000);
}

/** A file cache storage write took `ms`. */
export function observeCacheStorageWrite(ms: number): void {
  STORAGE_WRITE.observe(ms / 1000);
}

/** The memory cache evicted `n` entries to make room. */
export function countCacheEvictions(n: number): void {
  EVICTIONS.inc(n);
}

/**
 * A fault was contained (`runtime/process/contain.ts`): an exception thrown in a callback (`error`) or a rejection nobody
 * awaited (`rejection`). Counted per isolate: with workers, a scrape sees the worker that took the connection.
 */
export function countUncaughtError(kind: "error" | "rejection"): void {
  UNCAUGHT.inc({ kind });
}
