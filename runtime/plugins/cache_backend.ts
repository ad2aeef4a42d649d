/**
 * Where a cache plugin instance keeps its entries: the process's memory store, or its own files (optionally with an
 * in-memory layer of `cache_max` entries in front, as Pingap's).
 *
 * @module
 */
import type { PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { type CacheEntry, MemoryStore, sharedStore } from "./cache_store.ts";
import { FileStore } from "./cache_file_store.ts";

type CachePlan = PlanOf<typeof PLUGIN_DEFINITIONS.cache>;

/** Where a plugin instance keeps its entries: the process's memory store or its own files. */
export interface Backend {
  get(key: string, now: number): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  put(key: string, entry: CacheEntry): unknown;
  delete(key: string): unknown;
  /** Empties the namespace (file backend with a namespace only). */
  purgeAll?(): Promise<{ purged: number; fail: number }>;
  /** Stops the file backend's sweep. */
  dispose?(): void;
  /** The file backend's reads and writes in progress. */
  readonly files?: { readonly reading: number; readonly writing: number };
}

/** How often the file backend removes inactive files (Pingap's sweep runs hourly). */
const SWEEP_EVERY_MS = 3_600_000;

/** Pingap's weight unit for the hot layer: an entry weighs its bytes / 4 KiB (at least 1). */
const WEIGHT_UNIT = 4096;

/** The backend of `plan`. */
export function backendOf(plan: CachePlan, namespace: string): Backend {
  if (plan.backend.kind === "memory") return sharedStore(plan.backend);
  const files = new FileStore(plan.backend);
  const sweep = setInterval(() => void files.sweep(Date.now()).catch(() => {}), SWEEP_EVERY_MS);
  Deno.unrefTimer(sweep);
  const fileBackend: Backend = {
    files,
    dispose: () => clearInterval(sweep),
    get: (key, now) => files.get(files.fileOf(namespace, key), now),
    put: (key, entry) => files.put(files.fileOf(namespace, key), entry),
    delete: (key) => files.delete(files.fileOf(namespace, key)),
    ...(namespace !== "" ? { purgeAll: () => files.purgeAll(namespace) } : {}),
  };
  const { cacheMax, cacheFileMaxWeight } = plan.backend;
  return cacheMax > 0
    ? withHotLayer(fileBackend, new MemoryStore(Infinity, cacheMax), cacheFileMaxWeight)
    : fileBackend;
}

/**
 * `files` with an in-memory layer in front (Pingap's `cache_max`): up to `hot.maxEntries` entries, least recently
 * used out first, each no heavier than `maxWeight` units of 4 KiB (`cache_file_max_weight`). A hit there reads no
 * file; an entry read from a file goes into it.
 */
function withHotLayer(files: Backend, hot: MemoryStore, maxWeight: number): Backend {
  const admit = (key: string, entry: CacheEntry) => {
    if (Math.max(1, Math.floor(entry.body.byteLength / WEIGHT_UNIT)) <= maxWeight) hot.put(key, entry);
  };
  return {
    ...files,
    get(key, now) {
      const held = hot.get(key);
      if (held !== undefined && held.expires > now) return held;
      const read = files.get(key, now);
      if (!(read instanceof Promise)) return read;
      return read.then((entry) => {
        if (entry !== undefined && entry.expires > now) admit(key, entry);
        return entry;
      });
    },
    put(key, entry) {
      admit(key, entry);
      return files.put(key, entry);
    },
    delete(key) {
      hot.delete(key);
      return files.delete(key);
    },
    ...(files.purgeAll !== undefined
      ? {
        purgeAll: () => {
          hot.clear();
          return files.purgeAll!();
        },
      }
      : {}),
  };
}
