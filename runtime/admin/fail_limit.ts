/**
 * Failed logins per client IP within a window (Pingap: 5 minutes); an IP
 * at the limit is refused with 403 until its window ends. Bounded: at most
 * `capacity` IPs are tracked, the oldest forgotten first.
 *
 * @module
 */

/** The failure window: 5 minutes, as in Pingap. */
export const FAIL_WINDOW_MS = 5 * 60 * 1000;

/** Failure counts per IP. */
export class FailLimit {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #capacity: number;
  readonly #counts = new Map<string, { count: number; since: number; noticed?: boolean }>();

  /** `limit` failures within `windowMs` lock an IP out. */
  constructor(limit: number, windowMs = FAIL_WINDOW_MS, capacity = 512) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#capacity = capacity;
  }

  #entry(ip: string, now: number) {
    const e = this.#counts.get(ip);
    if (e && now - e.since > this.#windowMs) {
      this.#counts.delete(ip);
      return undefined;
    }
    return e;
  }

  /** True while `ip` has fewer failures than the limit in its window. */
  allowed(ip: string, now = Date.now()): boolean {
    return (this.#entry(ip, now)?.count ?? 0) < this.#limit;
  }

  /** True the first time a locked-out `ip` is refused in its window (what is logged: one line, not one per request). */
  firstRefusal(ip: string, now = Date.now()): boolean {
    const e = this.#entry(ip, now);
    if (!e || e.noticed) return false;
    e.noticed = true;
    return true;
  }

  /** Counts one failure of `ip`. */
  fail(ip: string, now = Date.now()): void {
    const e = this.#entry(ip, now);
    if (e) {
      e.count++;
      return;
    }
    if (this.#counts.size >= this.#capacity) this.#counts.delete(this.#counts.keys().next().value!);
    this.#counts.set(ip, { count: 1, since: now });
  }
}
