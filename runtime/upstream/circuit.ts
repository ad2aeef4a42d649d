/**
 * Per-backend stats and the circuit breaker (inventory §3.4). Pure: time
 * comes from an injectable clock, nothing is scheduled.
 *
 * Stats (`enable_backend_stats`): per backend address, a sliding window of
 * `backend_stats_interval` over requests and failures, estimated from two
 * fixed windows (the one in progress, plus the previous one weighted by how
 * much of it still falls inside the window), and consecutive
 * success/failure counters.
 *
 * Breaker (needs stats; on when `circuit_break_max_consecutive_failures` or
 * `circuit_break_max_failure_percent` is above 0):
 *
 * | From | Event | To |
 * | --- | --- | --- |
 * | closed | failure, and consecutive failures ≥ max (rule on), or window requests ≥ min and failure% ≥ max percent (rule on) | open until now + open duration |
 * | open | selection before open_until | rejected |
 * | open | selection at/after open_until | half-open; this request is probe #1 |
 * | half-open | selection | accepted while probes < half-open threshold, else rejected |
 * | half-open | selection, all probes out for an open duration without a verdict | new round: probe #1 |
 * | half-open | success, half-open successes ≥ threshold | closed |
 * | half-open | failure | open until now + open duration |
 *
 * Deliberate differences from Pingap's older code (which the inventory table
 * describes "as implemented"), matching what upstream Pingap later fixed:
 * tripping goes to **open** (old code went straight to half-open, so the
 * backend was never skipped); a rule set to 0 is off (old code let an unset
 * percent trip on any failure once min requests was reached); the window is
 * a sliding estimate (old code read the last completed window only, so it
 * never tripped within the first); a transport failure counts as a request
 * and a failure (old code only bumped the failure counter); stale probes are
 * given up after an open duration.
 *
 * @module
 */
import type { CircuitPlan } from "../../compiler/mod.ts";

/** Breaker states; {@linkcode CIRCUIT_STATE_CODE} maps them to the metric values. */
export type CircuitState = "closed" | "open" | "half-open";

/** `pingap_upstream_backend_circuit_state` values. */
export const CIRCUIT_STATE_CODE: { readonly [S in CircuitState]: number } = { closed: 0, open: 1, "half-open": 2 };

/** Stats and breaker settings of an upstream (times in ms), as the compiler resolves them. */
export type CircuitOptions = CircuitPlan;

/**
 * Events in a sliding window, estimated from two fixed windows: the current
 * one plus the previous one scaled by the part still inside the window.
 */
export class SlidingCounter {
  #interval: number;
  #start: number;
  #current = 0;
  #previous = 0;

  /** Creates a counter with a window of `interval` ms starting at `now`. */
  constructor(interval: number, now: number) {
    this.#interval = interval;
    this.#start = now;
  }

  #roll(now: number): void {
    const elapsed = now - this.#start;
    if (elapsed < this.#interval) return;
    if (elapsed < 2 * this.#interval) {
      this.#previous = this.#current;
      this.#start += this.#interval;
    } else {
      this.#previous = 0;
      this.#start = now - (elapsed % this.#interval);
    }
    this.#current = 0;
  }

  /** Counts one event. */
  add(now: number): void {
    this.#roll(now);
    this.#current++;
  }

  /** Events in the window ending at `now` (an estimate, may be fractional). */
  value(now: number): number {
    this.#roll(now);
    const inside = 1 - Math.max(0, now - this.#start) / this.#interval;
    return this.#current + this.#previous * Math.max(0, inside);
  }
}

/** A backend's stats, as the admin API and metrics show them. */
export interface BackendStats {
  /** Breaker state. */
  readonly state: CircuitState;
  /** Requests in the window. */
  readonly total: number;
  /** Failures in the window. */
  readonly failures: number;
  /** Requests per second over the window. */
  readonly rps: number;
  /** Failures per 100 requests in the window (0 when idle). */
  readonly failureRatePercent: number;
  /** Successes in a row, last first. */
  readonly consecutiveSuccesses: number;
  /** Failures in a row, last first. */
  readonly consecutiveFailures: number;
}

/** Stats and breaker of one backend. */
export class BackendCircuit {
  #options: CircuitOptions;
  #now: () => number;
  #breaker: boolean;
  #total: SlidingCounter;
  #failures: SlidingCounter;
  #consecutiveSuccesses = 0;
  #consecutiveFailures = 0;
  #state: CircuitState = "closed";
  #openUntil = 0;
  #probes = 0;
  #probeRoundStart = 0;
  #halfOpenSuccesses = 0;
  #onChange: ((from: CircuitState, to: CircuitState) => void) | undefined;

  /** Creates the state of a fresh backend: closed, no requests. */
  constructor(
    options: CircuitOptions,
    init: { now?: () => number; onChange?: (from: CircuitState, to: CircuitState) => void } = {},
  ) {
    this.#options = options;
    this.#now = init.now ?? Date.now;
    this.#onChange = init.onChange;
    this.#breaker = options.maxConsecutiveFailures > 0 || options.maxFailurePercent > 0;
    const now = this.#now();
    this.#total = new SlidingCounter(options.statsInterval, now);
    this.#failures = new SlidingCounter(options.statsInterval, now);
  }

  /** The breaker state. */
  get state(): CircuitState {
    return this.#state;
  }

  #set(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#onChange?.(from, to);
  }

  #open(now: number): void {
    this.#openUntil = now + this.#options.openDuration;
    this.#set("open");
  }

  #startProbes(now: number): void {
    this.#probes = 1;
    this.#probeRoundStart = now;
    this.#halfOpenSuccesses = 0;
  }

  /**
   * Asks whether a request may go to this backend (selection). Counts the
   * probe when half-open, so call it only for the backend about to be used.
   */
  accept(): boolean {
    if (this.#state === "closed") return true;
    const now = this.#now();
    if (this.#state === "open") {
      if (now < this.#openUntil) return false;
      this.#startProbes(now);
      this.#set("half-open");
      return true;
    }
    if (this.#probes < this.#options.halfOpenSuccesses) {
      this.#probes++;
      return true;
    }
    if (now - this.#probeRoundStart >= this.#options.openDuration) {
      // The probes never reported back (client gone): start a new round.
      this.#startProbes(now);
      return true;
    }
    return false;
  }

  /** Is `status` a failure for this upstream? */
  isFailure(status: number): boolean {
    const list = this.#options.failureStatuses;
    return list.size > 0 ? list.has(status) : status >= 500 && status <= 599;
  }

  /** Records a response from the backend. */
  onResponse(status: number): void {
    if (this.isFailure(status)) this.onFailure();
    else this.#success();
  }

  #success(): void {
    const now = this.#now();
    this.#total.add(now);
    this.#consecutiveSuccesses++;
    this.#consecutiveFailures = 0;
    if (this.#state === "half-open") {
      this.#halfOpenSuccesses++;
      if (this.#halfOpenSuccesses >= this.#options.halfOpenSuccesses) this.#set("closed");
    }
  }

  /** Records a failure: a failure status, or no answer at all (connect, read timeout, reset). */
  onFailure(): void {
    const now = this.#now();
    this.#total.add(now);
    this.#failures.add(now);
    this.#consecutiveFailures++;
    this.#consecutiveSuccesses = 0;
    if (!this.#breaker) return;
    if (this.#state === "half-open") return this.#open(now);
    if (this.#state === "open") return;
    const o = this.#options;
    if (o.maxConsecutiveFailures > 0 && this.#consecutiveFailures >= o.maxConsecutiveFailures) return this.#open(now);
    if (o.maxFailurePercent > 0) {
      const total = this.#total.value(now);
      if (total >= o.minRequests && total > 0 && (this.#failures.value(now) * 100) / total >= o.maxFailurePercent) {
        this.#open(now);
      }
    }
  }

  /** The backend's stats now. */
  stats(): BackendStats {
    const now = this.#now();
    const total = this.#total.value(now);
    const failures = this.#failures.value(now);
    return {
      state: this.#state,
      total,
      failures,
      rps: total / (this.#options.statsInterval / 1000),
      failureRatePercent: total > 0 ? (failures * 100) / total : 0,
      consecutiveSuccesses: this.#consecutiveSuccesses,
      consecutiveFailures: this.#consecutiveFailures,
    };
  }
}

/** The stats/breakers of an upstream's backends, one per address. */
export class CircuitSet {
  #options: CircuitOptions | undefined;
  #now: () => number;
  #onChange: ((addr: string, from: CircuitState, to: CircuitState) => void) | undefined;
  #byAddr = new Map<string, BackendCircuit>();

  /** Creates the set; with `options` undefined (stats off) every backend is accepted and nothing is counted. */
  constructor(
    options: CircuitOptions | undefined,
    init: { now?: () => number; onChange?: (addr: string, from: CircuitState, to: CircuitState) => void } = {},
  ) {
    this.#options = options;
    this.#now = init.now ?? Date.now;
    this.#onChange = init.onChange;
  }

  /** Stats are kept. */
  get enabled(): boolean {
    return this.#options !== undefined;
  }

  /** The state of `addr`, created on first use (undefined when stats are off). */
  get(addr: string): BackendCircuit | undefined {
    const options = this.#options;
    if (!options) return undefined;
    let c = this.#byAddr.get(addr);
    if (!c) {
      const onChange = this.#onChange;
      c = new BackendCircuit(options, {
        now: this.#now,
        ...(onChange ? { onChange: (from: CircuitState, to: CircuitState) => onChange(addr, from, to) } : {}),
      });
      this.#byAddr.set(addr, c);
    }
    return c;
  }

  /** Selection: may a request go to `addr`? (Counts half-open probes.) */
  accept(addr: string): boolean {
    if (!this.#options) return true;
    return this.#byAddr.get(addr)?.accept() ?? true;
  }

  /** Records the outcome of an exchange: a status, or undefined for no answer. */
  report(addr: string, status: number | undefined): void {
    const c = this.get(addr);
    if (!c) return;
    if (status === undefined) c.onFailure();
    else c.onResponse(status);
  }

  /** Forgets backends not in `keep`. */
  prune(keep: ReadonlySet<string>): void {
    for (const addr of this.#byAddr.keys()) if (!keep.has(addr)) this.#byAddr.delete(addr);
  }

  /** Stats of every backend seen. */
  snapshot(): Map<string, BackendStats> {
    const out = new Map<string, BackendStats>();
    for (const [addr, c] of this.#byAddr) out.set(addr, c.stats());
    return out;
  }
}
