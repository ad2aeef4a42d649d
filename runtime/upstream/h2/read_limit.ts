/**
 * The read time limit of an h2 upstream exchange, with one timer per exchange: each activity records the time, and
 * the timer, when it fires, sets itself again for what is left (no clearTimeout and setTimeout per DATA frame or
 * read). exchange.ts's exchange extends it (no object or closure of its own per exchange).
 *
 * @module
 */

/** The read limit of one exchange; the subclass says what a timeout does. */
export abstract class ReadLimit {
  /** The limit, milliseconds (none when undefined or not above 0). */
  readonly #limit: number | undefined;
  /** The read limit's one timer: it re-arms itself while the exchange was active since it was set. */
  #readTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the read limit runs (not while the consumer holds back the body), and since when (`Date.now()`). */
  #reading = false;
  #lastRead = 0;

  constructor(limit: number | undefined) {
    this.#limit = limit;
  }

  /** The limit passed with no activity (the timer ends; it is not set again). */
  protected abstract readTimedOut(): void;

  /**
   * (Re)starts the read limit from now. One timer per exchange: this records the time, and the timer, when it fires,
   * sets itself again for what is left (no clearTimeout and setTimeout per DATA frame or read).
   */
  protected armRead(): void {
    const t = this.#limit;
    if (t === undefined || t <= 0) return;
    this.#reading = true;
    this.#lastRead = Date.now();
    if (this.#readTimer === undefined) this.#readTimer = setTimeout(ReadLimit.#readCheck, t, this);
  }

  /**
   * The read timer fired: the limit passed since the last activity, or it sets itself again for what is left. An
   * exchange that is done cleared its limit ({@linkcode clearRead}), so it finds it paused.
   */
  static #readCheck(x: ReadLimit): void {
    x.#readTimer = undefined;
    if (!x.#reading) return;
    const left = x.#lastRead + x.#limit! - Date.now();
    if (left <= 0) return x.readTimedOut();
    x.#readTimer = setTimeout(ReadLimit.#readCheck, left, x);
  }

  /** Pauses the read limit (the timer, if set, finds it paused and ends). */
  protected disarmRead(): void {
    this.#reading = false;
  }

  /** Ends the read limit and its timer (the exchange is over). */
  protected clearRead(): void {
    this.#reading = false;
    clearTimeout(this.#readTimer);
    this.#readTimer = undefined;
  }
}
