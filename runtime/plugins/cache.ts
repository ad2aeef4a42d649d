/**
 * The `cache` plugin (Pingap's): GET answers the upstream marks cacheable are kept in memory (or files) and served
 * from there until they go stale (`x-cache-status: hit`, `age`), to GET and HEAD; a miss is fetched once while the other
 * misses of its key wait (the cache lock, up to `lock`); a stale entry is asked for again, conditionally when it has a
 * validator (`revalidated` on a 304, else `expired`); `PURGE` from `purge_ip_list` removes an URI's entries. What it
 * did is left on the request (`cacheStatus`, `timings.cacheLookup`/`cacheLock`) for the metrics and the access log.
 *
 * The answer is stored as the upstream gave it (after the upstream-response hooks, before the response hooks of
 * other plugins), its body teed into the store as it streams and given up past `max_file_size`.
 *
 * @module
 */
import { ipInList, parseIp, type PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import type { RequestContext } from "../proxy/context.ts";
import { responseWith } from "../http/response_build.ts";
import type { HttpResponse } from "../http/message.ts";
import { type PluginAnswer, type PluginHooks, runtimePlugin } from "./contract.ts";
import { plainAnswer } from "./forbidden.ts";
import { freshFor } from "./cache_freshness.ts";
import { CacheEntry } from "./cache_store.ts";
import { backendOf } from "./cache_backend.ts";

type CachePlan = PlanOf<typeof PLUGIN_DEFINITIONS.cache>;

/** Fields never stored: framing and hop-by-hop ones, and `age` (a hit sets its own). */
const NOT_STORED = new Set([
  "age",
  "connection",
  "content-length",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "x-cache-status",
  "x-cache-lock",
  "x-cache-lookup",
]);

/**
 * The cache key: the namespace, then the configured request headers' non-empty values joined by `:`, then
 * `METHOD:URI` (Pingap's primary key).
 *
 * @example Usage
 * ```ts
 * import { cacheKey } from "./cache.ts";
 * if (cacheKey("ns", ["user-123", "desktop"], "GET", "/path") !== "ns\nuser-123:desktop:GET:/path") throw new Error();
 * ```
 */
export function cacheKey(namespace: string, values: readonly string[], method: string, uri: string): string {
  const primary = values.length > 0 ? `${values.join(":")}:${method}:${uri}` : `${method}:${uri}`;
  return `${namespace}\n${primary}`;
}

/** May an answer to a request with `Authorization` be stored (`public`, `s-maxage` or `must-revalidate`)? */
function sharedDespiteAuth(headers: Headers): boolean {
  const cc = headers.get("cache-control")?.toLowerCase() ?? "";
  return /(?:^|[,\s])(?:public|s-maxage|must-revalidate)(?:$|[,\s=])/.test(cc);
}

/** One miss on its way to the store. */
interface Miss {
  readonly key: string;
  /** `miss`, or `expired` when a stale entry of the key is being refetched. */
  readonly status: "miss" | "expired";
  /** A HEAD: told the cache status, never stored (a GET fills the entry a HEAD is answered from). */
  readonly head: boolean;
  /** This request holds the key's lock: it releases it when stored, found uncacheable or done. */
  owner: boolean;
  /** Milliseconds waited on another request's lock, if it waited. */
  lockMs?: number;
  /** Whole milliseconds the lookup took. */
  lookupMs: number;
  /** Its entry is being written: the lock is released when the write is done, not when the response is. */
  writing?: boolean;
  /** The expired entry being revalidated (a conditional request was sent with its validators). */
  stale?: CacheEntry;
  /** Set by the upstream-response hook when the answer may be stored. */
  store?: { status: number; fields: [string, string][]; freshMs: number; vary: [string, string][] };
}

/** A key being fetched: its waiters wait on `done`. */
interface Lock {
  readonly done: Promise<void>;
  readonly release: () => void;
}

/** Creates the cache plugin. */
export const cache = runtimePlugin(PLUGIN_DEFINITIONS.cache, (plan) => {
  const namespace = plan.namespace ?? "";
  const store = backendOf(plan, namespace);
  const headerNames = plan.headers ?? [];
  const misses = new WeakMap<RequestContext, Miss>();
  const locks = new Map<string, Lock>();
  const forbidden = plainAnswer(403, "Forbidden, ip is not allowed");
  const badIp = plainAnswer(400, "invalid IP address syntax");
  const notImplemented = plainAnswer(501, "Not Implemented");

  const keyOf = (ctx: RequestContext, method: string): string => {
    const values: string[] = [];
    for (const name of headerNames) {
      const v = ctx.header(name);
      if (v !== null && v !== "") values.push(v);
    }
    return cacheKey(namespace, values, method, ctx.uri);
  };

  const unlock = (miss: Miss) => {
    if (!miss.owner) return;
    miss.owner = false;
    const lock = locks.get(miss.key);
    if (lock !== undefined) {
      locks.delete(miss.key);
      lock.release();
    }
  };

  /** Waits up to `plan.lock` ms for the fetch of `lock`; the milliseconds waited. */
  const wait = async (lock: Lock): Promise<number> => {
    const start = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([lock.done, new Promise<void>((r) => timer = setTimeout(r, plan.lock))]);
    clearTimeout(timer);
    return performance.now() - start;
  };

  const purge = (ctx: RequestContext) => {
    const ip = ctx.clientIp();
    if (parseIp(ip) === undefined) return badIp;
    if (!ipInList(plan.purgeIpList, ip)) return forbidden;
    if (ctx.path === "/*") {
      const all = store.purgeAll;
      if (all === undefined) return notImplemented;
      return all().then(({ purged, fail }) => responseWith(`purged: ${purged}, fail: ${fail}`, { status: 200 }));
    }
    const removed = [store.delete(keyOf(ctx, "GET")), store.delete(keyOf(ctx, "HEAD"))];
    const done = () => responseWith(null, { status: 204 });
    return removed[0] instanceof Promise ? Promise.all(removed).then(done) : done();
  };

  /** A miss that waits for the request fetching its key: then a hit, or on to the upstream. */
  const waitFor = async (ctx: RequestContext, miss: Miss, held: Lock) => {
    const lockMs = miss.lockMs = await wait(held);
    ctx.timings.cacheLock = lockMs;
    const now = Date.now();
    const entry = await store.get(miss.key, now);
    if (entry === undefined || entry.expires <= now || !entry.matches((n) => ctx.header(n))) {
      misses.set(ctx, miss);
      return undefined;
    }
    ctx.cacheStatus = "hit";
    return responseWith(entry.body.slice(), { status: entry.status }, [
      ...entry.fields,
      ["x-cache-status", "hit"],
      ["x-cache-lookup", `${miss.lookupMs}ms`],
      ["age", String(Math.max(0, Math.floor((now - entry.stored) / 1000)))],
      ["x-cache-lock", `${Math.round(lockMs)}ms`],
    ]);
  };

  /**
   * An expired entry with a validator (`ETag`, `Last-Modified`) is asked for conditionally, unless the client's request
   * is itself conditional: a 304 renews it and answers from it (`x-cache-status: revalidated`), anything else
   * replaces it (`expired`).
   */
  const revalidate = (ctx: RequestContext, miss: Miss, entry: CacheEntry) => {
    if (ctx.header("if-none-match") !== null || ctx.header("if-modified-since") !== null) return;
    let etag: string | undefined, modified: string | undefined;
    for (const [name, value] of entry.fields) {
      if (name === "etag") etag = value;
      else if (name === "last-modified") modified = value;
    }
    if (etag === undefined && modified === undefined) return;
    if (etag !== undefined) ctx.setUpstreamHeader("if-none-match", etag);
    if (modified !== undefined) ctx.setUpstreamHeader("if-modified-since", modified);
    miss.stale = entry;
    const mine = (res: HttpResponse) =>
      Promise.resolve(res.status === 304 ? renewed(ctx, miss, entry, res.headers) : res);
    // Another plugin's filter (jwt) then sees the answer the client would get.
    const other = ctx.answerFilter;
    ctx.answerFilter = other === undefined ? mine : (res) => mine(res).then(other);
  };

  /** The answer to a revalidated request: the stored entry, its fields updated by the 304's and its lifetime renewed. */
  const renewed = (ctx: RequestContext, miss: Miss, entry: CacheEntry, notModified: Headers): PluginAnswer => {
    const merged = new Headers(entry.fields as [string, string][]);
    notModified.forEach((value, name) => {
      if (!NOT_STORED.has(name)) merged.set(name, value);
    });
    const now = Date.now();
    const freshMs = freshFor(merged, plan, now, entry.status);
    ctx.cacheStatus = "revalidated";
    const fields: [string, string][] = [];
    merged.forEach((value, name) => fields.push([name, value]));
    if (freshMs !== undefined) {
      const saved = store.put(
        miss.key,
        new CacheEntry(entry.status, fields, entry.body, now, now + freshMs, entry.vary),
      );
      if (saved instanceof Promise) {
        miss.writing = true;
        saved.finally(() => {
          miss.writing = false;
          unlock(miss);
        });
      } else unlock(miss);
    } else unlock(miss);
    return responseWith(entry.body.slice(), { status: entry.status }, [
      ...fields,
      ["x-cache-status", "revalidated"],
      ["x-cache-lookup", `${miss.lookupMs}ms`],
      ["age", "0"],
    ]);
  };

  /** After the lookup: a hit, or a miss that fetches (holding the key's lock) or waits for the request that does. */
  const lookedUp = (
    ctx: RequestContext,
    key: string,
    entry: CacheEntry | undefined,
    now: number,
    lookupMs: number,
  ): PluginAnswer | undefined | Promise<PluginAnswer | undefined> => {
    let expired = false;
    if (entry !== undefined && (entry.vary.length === 0 || entry.matches((n) => ctx.header(n)))) {
      if (entry.expires > now) {
        ctx.cacheStatus = "hit";
        return entry.answer(now, lookupMs);
      }
      expired = true;
    }
    const status = expired ? "expired" : "miss";
    ctx.cacheStatus = status;
    const head = ctx.method === "HEAD";
    const miss: Miss = { key, status, head, owner: false, lookupMs };
    if (expired && !head) revalidate(ctx, miss, entry!);
    if (plan.lock > 0 && !head) {
      const held = locks.get(key);
      if (held !== undefined) return waitFor(ctx, miss, held);
      let release!: () => void;
      const done = new Promise<void>((r) => release = r);
      locks.set(key, { done, release });
      miss.owner = true;
      ctx.onFinish(() => {
        if (!miss.writing) unlock(miss);
      });
    }
    misses.set(ctx, miss);
    return undefined;
  };

  const hooks: PluginHooks = {
    upstreamBodyOnly: true,
    dispose: () => store.dispose?.(),
    request(ctx) {
      const method = ctx.method;
      if (method === "PURGE") return purge(ctx);
      if (method !== "GET" && method !== "HEAD") return undefined;
      if (plan.skip !== undefined && plan.skip.test(ctx.uri)) return undefined;
      // A HEAD is answered from the GET's entry (its head, no body).
      const key = keyOf(ctx, "GET");
      const now = Date.now();
      if (store.files !== undefined) ctx.cacheFiles = store.files;
      const entry = store.get(key, now);
      if (!(entry instanceof Promise)) {
        ctx.timings.cacheLookup = 0;
        return lookedUp(ctx, key, entry, now, 0);
      }
      const start = performance.now();
      return entry.then((e) => {
        const ms = ctx.timings.cacheLookup = performance.now() - start;
        return lookedUp(ctx, key, e, now, Math.floor(ms));
      });
    },
    upstreamResponse(ctx, headers, status) {
      const miss = misses.get(ctx);
      if (miss === undefined) return;
      // The answer filter (run first) already answered a 304 to a revalidation from the renewed entry.
      if (ctx.cacheStatus === "revalidated") return;
      headers.set("x-cache-status", miss.status);
      headers.set("x-cache-lookup", `${miss.lookupMs}ms`);
      if (miss.lockMs !== undefined) headers.set("x-cache-lock", `${Math.round(miss.lockMs)}ms`);
      if (miss.head) {
        misses.delete(ctx);
        return;
      }
      // A part of the body (206) is never the answer to the whole URI; an answer to a request with credentials is
      // shared only when the upstream says so (RFC 9111 §3.5, as Pingap 0.16).
      if (status === 206 || (ctx.header("authorization") !== null && !sharedDespiteAuth(headers))) {
        unlock(miss);
        return;
      }
      const freshMs = freshFor(headers, plan, Date.now(), status);
      const length = headers.get("content-length");
      if (freshMs === undefined || (length !== null && Number(length) > plan.maxFileSize)) {
        unlock(miss);
        return;
      }
      // One variant per key: the answer's `Vary` fields must match for a hit; `Vary: *` matches nothing.
      const vary: [string, string][] = [];
      const varyText = headers.get("vary");
      if (varyText !== null) {
        for (const part of varyText.split(",")) {
          const name = part.trim().toLowerCase();
          if (name === "*") {
            unlock(miss);
            return;
          }
          // `vary_headers`: only the request headers listed make variants; the others the upstream names are ignored.
          if (name === "" || (plan.varyHeaders !== undefined && !plan.varyHeaders.includes(name))) continue;
          vary.push([name, ctx.header(name) ?? ""]);
        }
      }
      const fields: [string, string][] = [];
      headers.forEach((value, name) => {
        if (!NOT_STORED.has(name)) fields.push([name, value]);
      });
      miss.store = { status, fields, freshMs, vary };
    },
    responseBody(ctx) {
      const miss = misses.get(ctx);
      const plan_ = miss?.store;
      if (miss === undefined || plan_ === undefined) return undefined;
      misses.delete(ctx);
      const chunks: Uint8Array[] = [];
      let size = 0;
      let over = false;
      return new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          out.enqueue(chunk);
          if (over) return;
          size += chunk.byteLength;
          if (size > plan.maxFileSize) {
            over = true;
            chunks.length = 0;
            unlock(miss);
          } else chunks.push(chunk.slice());
        },
        flush() {
          if (!over) {
            const body = new Uint8Array(size);
            let at = 0;
            for (const c of chunks) {
              body.set(c, at);
              at += c.byteLength;
            }
            const now = Date.now();
            const entry = new CacheEntry(plan_.status, plan_.fields, body, now, now + plan_.freshMs, plan_.vary);
            const saved = store.put(miss.key, entry);
            if (saved instanceof Promise) {
              miss.writing = true;
              saved.finally(() => {
                miss.writing = false;
                unlock(miss);
              });
              return;
            }
          }
          unlock(miss);
        },
      });
    },
  };
  return hooks;
});
