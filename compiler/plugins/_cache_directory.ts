/**
 * The cache plugin's `directory` value: which storage backend to use and its
 * query-string parameters, e.g. `memory://?max_size=20` or
 * `/opt/pingap/cache?levels=1:2&inactive=7d`.
 *
 * @module
 */
import { diag, type Diagnostic, type KeyPath } from "../diagnostic.ts";
import { parseBoundedDuration, parseSize, SECONDS_LIMIT } from "../units.ts";

/** The in-memory (TinyUFO) backend; one instance per process (the first config wins). */
export interface MemoryCacheBackend {
  /** Backend kind. */
  readonly kind: "memory";
  /** Size as a percentage of the memory budget (a bare number in `max_size`). */
  readonly maxSizePercent?: number;
  /** Size in bytes (`max_size` with a unit). */
  readonly maxSizeBytes?: number;
  /** TinyUFO flavour. */
  readonly mode: "normal" | "compact";
}

/** The file backend: one file per cached response under `path`. */
export interface FileCacheBackend {
  /** Backend kind. */
  readonly kind: "file";
  /** Directory as written (a leading `~/` is expanded by the runtime). */
  readonly path: string;
  /** Concurrent reads allowed; more are treated as misses. */
  readonly readingMax: number;
  /** Concurrent writes allowed; more are skipped. */
  readonly writingMax: number;
  /** Entries of the in-memory hot layer; 0 disables it. */
  readonly cacheMax: number;
  /** Largest object (in 4 KiB pages) kept in the hot layer. */
  readonly cacheFileMaxWeight: number;
  /** Files unused for this long (ms) are removed by the hourly sweep. */
  readonly inactive: number;
  /** Directory fan-out, nginx style, e.g. `[1, 2]`; empty for a flat directory. */
  readonly levels: readonly number[];
  /** Disk budget in bytes (oldest files evicted); 0 for unlimited. */
  readonly maxSize: number;
}

/** A cache storage backend. */
export type CacheBackend = MemoryCacheBackend | FileCacheBackend;

const FILE_PARAMS = [
  "reading_max",
  "writing_max",
  "cache_max",
  "cache_file_max_weight",
  "inactive",
  "levels",
  "max_size",
];
const MEMORY_PARAMS = ["max_size", "mode"];

/** Where to report problems: the key path of `directory` and the diagnostics sink. */
export interface ReportTo {
  /** Key path of the `directory` key. */
  readonly path: KeyPath;
  /** Problems are pushed here. */
  readonly diags: Diagnostic[];
}

/**
 * Parses the cache `directory` value, pushing problems to `at`.
 *
 * @example Usage
 * ```ts
 * import { parseCacheDirectory } from "./_cache_directory.ts";
 * const b = parseCacheDirectory("/opt/cache?levels=1:2&inactive=7d", { path: ["plugins", "c", "directory"], diags: [] });
 * if (b.kind !== "file" || b.levels.join(":") !== "1:2" || b.inactive !== 7 * 86_400_000) throw new Error();
 * ```
 */
export function parseCacheDirectory(value: string, at: ReportTo): CacheBackend {
  const { path, diags } = at;
  const q = value.indexOf("?");
  const base = (q >= 0 ? value.slice(0, q) : value).trim();
  const params = new URLSearchParams(q >= 0 ? value.slice(q + 1) : "");
  const memory = base === "" || base.startsWith("memory://");
  const known = memory ? MEMORY_PARAMS : FILE_PARAMS;
  for (const name of params.keys()) {
    if (!known.includes(name)) {
      diags.push(diag("unknown-param", path, `Unknown ${memory ? "memory" : "file"} cache parameter "${name}"`, {
        severity: "warning",
        hint: `Known parameters: ${known.join(", ")}`,
      }));
    }
  }
  const get = (name: string) => {
    const v = params.get(name)?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const bad = (name: string, text: string, hint: string) => {
    diags.push(diag("invalid-value", path, `Cache parameter ${name}=${JSON.stringify(text)} is invalid`, { hint }));
  };
  const count = (name: string, fallback: number): number => {
    const v = get(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      bad(name, v, "Use a whole number");
      return fallback;
    }
    return Number(v);
  };
  const bytes = (name: string): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    const r = parseSize(v);
    if (typeof r === "string") return void bad(name, v, 'Use a size such as "512mb" or "10gb"');
    return r;
  };

  if (memory) {
    const out: { -readonly [K in keyof MemoryCacheBackend]: MemoryCacheBackend[K] } = {
      kind: "memory",
      mode: "normal",
    };
    const size = get("max_size");
    if (size !== undefined) {
      if (/^\d+$/.test(size)) {
        out.maxSizePercent = Math.min(Number(size), 100);
        if (Number(size) > 100) {
          diags.push(
            diag("raised-value", path, `Memory cache max_size ${size}% is capped at 100%`, { severity: "warning" }),
          );
        }
      } else {
        const b = bytes("max_size");
        if (b !== undefined) out.maxSizeBytes = b;
      }
    }
    const mode = get("mode")?.toLowerCase();
    if (mode === "compact") out.mode = "compact";
    else if (mode !== undefined && mode !== "normal") bad("mode", mode, 'Use "compact" or "normal"');
    return out;
  }

  let inactive = 48 * 3_600_000;
  const inactiveText = get("inactive");
  if (inactiveText !== undefined) {
    const r = parseBoundedDuration(inactiveText, SECONDS_LIMIT);
    if (typeof r === "string") bad("inactive", inactiveText, 'Use a duration such as "48h" or "7d"');
    else inactive = r;
  }
  let levels: number[] = [];
  const levelsText = get("levels");
  if (levelsText !== undefined) {
    const items = levelsText.split(":");
    if (items.length > 2 || !items.every((s) => /^[1-3]$/.test(s))) {
      bad("levels", levelsText, 'Use one or two levels of 1 to 3 characters, e.g. "2" or "1:2"');
    } else {
      levels = items.map(Number);
    }
  }
  return {
    kind: "file",
    path: base,
    readingMax: count("reading_max", 10_000),
    writingMax: count("writing_max", 1_000),
    cacheMax: count("cache_max", 0),
    cacheFileMaxWeight: count("cache_file_max_weight", 256),
    inactive,
    levels,
    maxSize: bytes("max_size") ?? 0,
  };
}
