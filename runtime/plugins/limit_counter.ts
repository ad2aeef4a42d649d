/**
 * The counters of the `limit` plugin, as plain state with the clock passed
 * in (no timers, no I/O): a sliding-window rate counter and an in-flight
 * counter, each keyed by the client key.
 *
 * The rate counter is Pingap 0.16's: windows of `interval`, the count of a
 * key the requests of the current window plus the share of the previous
 * window that still lies within one interval from now. A request is taken
 * when that count, with it, is at most `max`; a refused one is not counted.
 * Windows are aligned to the wall clock (`Math.floor(now / interval)`), so
 * the counters of several worker isolates agree on them and can add each
 * other's counts ({@linkcode RateCounter.add}).
 *
 * @module
 */

/** One key's two windows. */
interface Windows {
  /** Index of the current window. */
  win: number;
  curr: number;
  prev: number;
}

/** Sliding-window request counts per key. */
export class RateCounter {
  readonly #entries = new Map<string, Windows>();
  #sweepAt = 0;

  /** @param interval Window length in milliseconds (> 0). */
  constructor(readonly interval: number) {}

  /** Keys held (for tests: stale keys are dropped within two intervals). */
  get size(): number {
    return this.#entries.size;
  }

  #windows(key: string, win: number, now: number): Windows {
    if (now >= this.#sweepAt) this.#sweep(win, now);
    let w = this.#entries.get(key);
    if (w === undefined) {
      w = { win, curr: 0, prev: 0 };
      this.#entries.set(key, w);
    } else if (w.win < win) {
      w.prev = w.win === win - 1 ? w.curr : 0;
      w.curr = 0;
      w.win = win;
    }
    return w;
  }

  /** Drops keys with nothing in the last two windows; at most once per interval. */
  #sweep(win: number, now: number): void {
    this.#sweepAt = now + this.interval;
    for (const [key, w] of this.#entries) if (w.win < win - 1) this.#entries.delete(key);
  }

  /**
   * Counts one request of `key` at `now` (ms) if it fits: returns the key's count with the request in it. A result
   * above `max` means refused, and then nothing was counted.
   *
   * @example Usage
   * ```ts
   * import { RateCounter } from "./limit_counter.ts";
   * const c = new RateCounter(1000);
   * if (c.take("a", 2, 0) !== 1 || c.take("a", 2, 10) !== 2 || c.take("a", 2, 20) !== 3) throw new Error();
   * if (c.take("a", 2, 30) !== 3) throw new Error("a refused request is not counted");
   * ```
   */
  take(key: string, max: number, now: number): number {
    const win = Math.floor(now / this.interval);
    const w = this.#windows(key, win, now);
    const fraction = (now - win * this.interval) / this.interval;
    const value = w.prev * (1 - fraction) + w.curr + 1;
    if (value <= max) w.curr++;
    return value;
  }

  /** Adds `count` requests of `key` counted elsewhere (another worker) in window `win`. */
  add(key: string, win: number, count: number, now: number): void {
    const current = Math.floor(now / this.interval);
    if (win < current - 1 || win > current) return;
    const w = this.#windows(key, current, now);
    if (win === w.win) w.curr += count;
    else if (win === w.win - 1) w.prev += count;
  }

  /**
   * Seconds until `key`'s budget is whole again if it sends nothing more (`X-RateLimit-Reset`): what is in the
   * current window fades over the whole next one, what is left of the previous one is gone when this one ends.
   */
  resetSeconds(key: string, now: number): number {
    const w = this.#entries.get(key);
    if (w === undefined) return 0;
    const win = Math.floor(now / this.interval);
    const curr = w.win === win ? w.curr : 0;
    const prev = w.win === win ? w.prev : w.win === win - 1 ? w.curr : 0;
    const left = 1 - (now - win * this.interval) / this.interval;
    const windows = curr > 0 ? left + 1 : prev > 0 ? left : 0;
    if (windows === 0) return 0;
    return Math.max(Math.ceil((this.interval / 1000) * windows), 1);
  }
}

/** In-flight request counts per key. */
export class InflightCounter {
  readonly #counts = new Map<string, number>();

  /** Keys held (a key is dropped when its last request leaves). */
  get size(): number {
    return this.#counts.size;
  }

  /**
   * Counts a request of `key` in: returns the count with it. Every `enter` needs its {@linkcode leave}, refused or not.
   *
   * @example Usage
   * ```ts
   * import { InflightCounter } from "./limit_counter.ts";
   * const c = new InflightCounter();
   * if (c.enter("a") !== 1 || c.enter("a") !== 2) throw new Error();
   * c.leave("a");
   * c.leave("a");
   * if (c.size !== 0) throw new Error();
   * ```
   */
  enter(key: string): number {
    const n = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, n);
    return n;
  }

  /** Counts a request of `key` out. */
  leave(key: string): void {
    const n = (this.#counts.get(key) ?? 0) - 1;
    if (n > 0) this.#counts.set(key, n);
    else this.#counts.delete(key);
  }
}
