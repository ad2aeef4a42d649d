/**
 * Failures counted per key within a window (Pingap's `TtlLruLimit`): a key that reached `max` failures is refused
 * until `window` milliseconds after its first counted one. At most `capacity` keys are kept; beyond that the least
 * recently used is forgotten, which only ever lets a key off early. The clock is a parameter.
 *
 * @module
 */

interface Entry {
  count: number;
  /** When the first counted failure happened; undefined after a reset. */
  since: number | undefined;
}

/** Failures per key (a client IP) within a window. */
export class FailCounter {
  readonly #entries = new Map<string, Entry>();

  /**
   * @param max Failures that block a key.
   * @param window How long failures count from the first one, in milliseconds.
   * @param capacity How many keys are kept.
   */
  constructor(readonly max: number, readonly window: number, readonly capacity = 4096) {}

  /**
   * False while `key` is blocked. A key whose window is over starts afresh.
   *
   * @example Usage
   * ```ts
   * import { FailCounter } from "./fail_counter.ts";
   * const c = new FailCounter(2, 1000);
   * c.fail("1.2.3.4", 0);
   * c.fail("1.2.3.4", 10);
   * if (c.allows("1.2.3.4", 20) || !c.allows("1.2.3.4", 1001) || !c.allows("5.6.7.8", 20)) throw new Error();
   * ```
   */
  allows(key: string, now: number = Date.now()): boolean {
    const e = this.#entries.get(key);
    if (e === undefined) return true;
    this.#touch(key, e);
    if (e.since !== undefined && now - e.since > this.window) {
      e.count = 0;
      e.since = undefined;
      return true;
    }
    return e.count < this.max;
  }

  /** Counts a failure of `key`. */
  fail(key: string, now: number = Date.now()): void {
    const e = this.#entries.get(key);
    if (e === undefined) {
      this.#entries.set(key, { count: 1, since: now });
      if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value!);
      return;
    }
    e.since ??= now;
    e.count++;
    this.#touch(key, e);
  }

  /** Marks `key` as the most recently used. */
  #touch(key: string, e: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, e);
  }
}
