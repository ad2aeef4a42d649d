/**
 * `cache`: HTTP response cache in memory or on disk.
 *
 * @module
 */
import { parseBoundedDuration, SECONDS_LIMIT } from "../units.ts";
import { diag, type Diagnostic } from "../diagnostic.ts";
import { array, bool, duration, field, size, str } from "../schema/types.ts";
import type { IpNet } from "../values/ip.ts";
import { type CacheBackend, parseCacheDirectory } from "./_cache_directory.ts";
import { headerNameType, ipNetType, regex } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `cache` config. */
export interface CachePlan {
  /** Storage backend parsed from `directory`. */
  readonly backend: CacheBackend;
  /** Key namespace (a sub-directory for the file backend). */
  readonly namespace?: string;
  /** Lower-cased request headers whose values join the cache key. */
  readonly headers?: readonly string[];
  /** Upper bound on freshness, in milliseconds. */
  readonly maxTtl?: number;
  /** Bodies larger than this many bytes are not cached. */
  readonly maxFileSize: number;
  /** Cache-lock wait, in milliseconds; 0 disables the lock. */
  readonly lock: number;
  /** LRU eviction (memory backend only). */
  readonly eviction: boolean;
  /** Remember keys found uncacheable and skip them next time. */
  readonly predictor: boolean;
  /** Only cache responses that carry `Cache-Control`. */
  readonly checkCacheControl: boolean;
  /** Clients allowed to send `PURGE`. */
  readonly purgeIpList: readonly IpNet[];
  /** Requests whose path and query match are not cached. */
  readonly skip?: RegExp;
  /** Lower-cased request headers an upstream's `Vary` may name to make variants; unset: any it names. */
  readonly varyHeaders?: readonly string[];
  /** Freshness by status (ms; 0: never stored) for answers whose upstream gave no lifetime. */
  readonly statusTtl?: readonly (readonly [number, number])[];
}

/** The `cache` plugin. */
export const cache = definePlugin({
  category: "cache",
  runtime: true,
  doc:
    "Caches GET and HEAD responses that the upstream marks cacheable (`Cache-Control` with a `max-age` above 0 and " +
    "without `no-store`, `no-cache` or `private`), in memory or in files. Concurrent misses on one key wait for the " +
    "first fetch (cache lock). Clients in `purge_ip_list` can remove entries with the `PURGE` method. Responses carry " +
    "`x-cache-status`, `x-cache-lookup` and `x-cache-lock` headers.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    directory: field(str(), {
      doc:
        "Storage: empty or `memory://` for the shared in-memory cache (parameters `max_size`: a percentage, or a size " +
        "with a unit; `mode`: `normal` or `compact`), or a directory path for the file cache (parameters `levels`, " +
        "`inactive`, `max_size`, `reading_max`, `writing_max`, `cache_max`, `cache_file_max_weight`), e.g. " +
        "`/opt/pingap/cache?levels=1:2&inactive=7d`.",
      defaultText: "memory",
      default: "",
    }),
    namespace: field(str({ nonEmpty: true }), {
      doc: "Namespace that separates these entries from other cache plugins.",
    }),
    headers: field(array(headerNameType()), {
      doc: "Request headers whose values are added to the cache key, e.g. `Accept-Encoding`.",
    }),
    max_ttl: field(duration(SECONDS_LIMIT), {
      doc: "Longest time a response stays fresh, whatever its `Cache-Control` says.",
    }),
    max_file_size: field(size(), { doc: "Responses with a larger body are not cached.", default: "1mb" }),
    lock: field(duration(), {
      doc: "How long a request waits for another request already fetching the same key; `0s` turns the lock off.",
      default: "1s",
    }),
    eviction: field(bool(), {
      doc: "Evict least-recently-used entries when the memory cache is full (memory backend only).",
      unapplied: "the memory cache always evicts its least recently used entries past its size",
    }),
    predictor: field(bool(), {
      doc: "Remember responses that were not cacheable and skip the cache for them next time.",
      unapplied: "every miss is judged again; the cache lock is released as soon as an answer is found uncacheable",
    }),
    check_cache_control: field(bool(), {
      doc: "Only cache responses that have a `Cache-Control` header (otherwise they are cached for 1 s).",
      default: false,
    }),
    purge_ip_list: field(array(ipNetType()), {
      doc: "Client addresses or networks allowed to send `PURGE`.",
      default: [],
    }),
    skip: field(regex(), { doc: "Regex on path and query; matching requests bypass the cache." }),
    vary_headers: field(array(headerNameType()), {
      doc: "The request headers an upstream's `Vary` may make variants of; others it names are ignored. Unset: all " +
        "it names (`Vary: *` is never stored).",
    }),
    status_ttl: field(array(str({ nonEmpty: true })), {
      doc: '`status:duration` pairs, e.g. `"404:10s"`: how long an answer with that status stays fresh when the ' +
        "upstream gives no lifetime (also for statuses not cached by default); `0s` never stores it. `304` is refused.",
    }),
  },
  compile(config, ctx): CachePlan {
    const at = (key: string) => [...ctx.path, key];
    const backend = parseCacheDirectory(config.directory, { path: at("directory"), diags: ctx.diags });
    if (backend.kind === "file" && backend.path === "") {
      ctx.diags.push(diag("invalid-value", at("directory"), "File cache directory is empty", {
        hint: 'Give a path, e.g. "/opt/pingap/cache", or use "memory://"',
      }));
    }
    const statusTtl = parseStatusTtl(config.status_ttl ?? [], at("status_ttl"), ctx.diags);
    for (const key of ["eviction", "predictor"] as const) {
      if (config[key] === false) {
        ctx.diags.push(
          diag("presence-flag", at(key), `Pingap turns ${key} on whenever the key is present, even when false`, {
            severity: "warning",
            hint: `Remove ${key} = false; this compiler treats it as off`,
          }),
        );
      }
    }
    const eviction = config.eviction === true;
    if (eviction && backend.kind === "file") {
      ctx.diags.push(
        diag("ignored-key", at("eviction"), "Eviction only applies to the memory cache and is ignored here", {
          severity: "warning",
          hint: "Remove eviction, or use max_size/inactive in the directory parameters",
        }),
      );
    }
    return {
      backend,
      ...(config.namespace !== undefined ? { namespace: config.namespace } : {}),
      ...(config.headers !== undefined && config.headers.length > 0 ? { headers: config.headers } : {}),
      ...(config.max_ttl !== undefined ? { maxTtl: config.max_ttl } : {}),
      maxFileSize: config.max_file_size,
      lock: config.lock,
      eviction: eviction && backend.kind === "memory",
      predictor: config.predictor === true,
      checkCacheControl: config.check_cache_control,
      purgeIpList: config.purge_ip_list,
      ...(config.skip !== undefined ? { skip: config.skip } : {}),
      ...(config.vary_headers !== undefined ? { varyHeaders: config.vary_headers } : {}),
      ...(statusTtl.length > 0 ? { statusTtl } : {}),
    };
  },
});

/** Parses `status_ttl` entries (`"404:10s"`) into status and milliseconds, pushing one error per bad entry. */
function parseStatusTtl(
  entries: readonly string[],
  path: readonly (string | number)[],
  diags: Diagnostic[],
): [number, number][] {
  const out: [number, number][] = [];
  entries.forEach((entry, i) => {
    const at = [...path, i];
    const colon = entry.indexOf(":");
    const code = colon > 0 ? entry.slice(0, colon).trim() : "";
    if (!/^[1-5]\d\d$/.test(code)) {
      diags.push(diag("invalid-value", at, `status_ttl entry ${JSON.stringify(entry)} has no status 100 to 599`, {
        hint: 'Write "status:duration", e.g. "404:10s"',
      }));
      return;
    }
    if (code === "304") {
      diags.push(diag("invalid-value", at, "status_ttl cannot set 304", {
        hint: "A 304 renews a stored 200; its time is the 200's",
      }));
      return;
    }
    const ms = parseBoundedDuration(entry.slice(colon + 1).trim(), SECONDS_LIMIT);
    if (typeof ms === "string") {
      diags.push(diag("invalid-value", at, `status_ttl entry ${JSON.stringify(entry)}: ${ms}`, {
        hint: 'Write "status:duration", e.g. "404:10s" or "410:0s"',
      }));
      return;
    }
    const status = Number(code);
    const same = out.findIndex(([s]) => s === status);
    if (same >= 0) out.splice(same, 1);
    out.push([status, ms]);
  });
  return out;
}
