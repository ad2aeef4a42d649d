/**
 * How long the cache plugin keeps an upstream's answer fresh, as Pingap decides it: never when `Cache-Control` says
 * `no-store`, `no-cache` or `private`, or the answer sets a cookie; else `s-maxage`, then `max-age`, then `Expires`;
 * a `Cache-Control` without a lifetime is not cacheable; no `Cache-Control` at all is cached for 1 s unless
 * `check_cache_control`; `status_ttl` gives the lifetime by status when the answer has none (`0s`: never stored);
 * `max_ttl` caps the result.
 *
 * @module
 */

/** Freshness of an answer without `Cache-Control` (Pingap's default), in milliseconds. */
export const DEFAULT_FRESH_MS = 1000;

/** What the freshness rule reads of the plugin's config. */
export interface FreshnessRule {
  /** Upper bound on freshness, in milliseconds. */
  readonly maxTtl?: number;
  /** Answers without `Cache-Control` are not cached. */
  readonly checkCacheControl: boolean;
  /** Lifetime by status (ms; 0: not stored) for answers that give none. */
  readonly statusTtl?: readonly (readonly [number, number])[];
}

/** The `status_ttl` lifetime of `status`, or undefined when it has none. */
function statusLifetime(rule: FreshnessRule, status: number): number | undefined {
  const list = rule.statusTtl;
  if (list === undefined) return undefined;
  for (const [s, ms] of list) if (s === status) return ms;
  return undefined;
}

/** The seconds of a `name=N` directive of `cc` (lower-cased), or undefined. */
function directiveSeconds(cc: string, name: string): number | undefined {
  const at = cc.search(new RegExp(`(?:^|[,\\s])${name}\\s*=`));
  if (at < 0) return undefined;
  const m = /=\s*"?(\d+)/.exec(cc.slice(at));
  return m === null ? undefined : Number(m[1]);
}

/** True when `cc` (lower-cased) has the bare directive `name`. */
function hasDirective(cc: string, name: string): boolean {
  return new RegExp(`(?:^|[,\\s])${name}(?:$|[,\\s=])`).test(cc);
}

/**
 * Milliseconds the answer stays fresh, or undefined when it must not be stored.
 *
 * @param headers The upstream answer's fields.
 * @param rule The plugin's `max_ttl` and `check_cache_control`.
 * @param now The time now, in milliseconds since the epoch (for `Expires`).
 * @param status The answer's status (for `status_ttl`).
 * @returns The freshness in milliseconds (> 0), or undefined.
 *
 * @example Usage
 * ```ts
 * import { freshFor } from "./cache_freshness.ts";
 * const h = new Headers({ "cache-control": "public, max-age=60" });
 * if (freshFor(h, { maxTtl: 10_000, checkCacheControl: false }, Date.now()) !== 10_000) throw new Error();
 * ```
 */
export function freshFor(headers: Headers, rule: FreshnessRule, now: number, status = 200): number | undefined {
  if (headers.has("set-cookie")) return undefined;
  const raw = headers.get("cache-control");
  let ms: number | undefined;
  if (raw === null) {
    if (rule.checkCacheControl) return undefined;
    ms = expiresIn(headers, now) ?? statusLifetime(rule, status) ?? DEFAULT_FRESH_MS;
  } else {
    const cc = raw.toLowerCase();
    if (hasDirective(cc, "no-store") || hasDirective(cc, "no-cache") || hasDirective(cc, "private")) return undefined;
    const secs = directiveSeconds(cc, "s-maxage") ?? directiveSeconds(cc, "max-age");
    ms = secs !== undefined ? secs * 1000 : expiresIn(headers, now) ?? statusLifetime(rule, status);
  }
  if (ms === undefined || !(ms > 0)) return undefined;
  return rule.maxTtl !== undefined ? Math.min(ms, rule.maxTtl) : ms;
}

/** Milliseconds until `Expires` (≤ 0 when past or invalid), or undefined without one. */
function expiresIn(headers: Headers, now: number): number | undefined {
  const value = headers.get("expires");
  if (value === null) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : at - now;
}
