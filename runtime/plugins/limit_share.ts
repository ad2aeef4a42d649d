/**
 * The state of a `limit` plugin instance (kept across a reload that leaves
 * the plugin unchanged, as the plugin contract keeps the instance); and, in a
 * worker isolate (`threads > 1`), rate counts shared with the other workers
 * over a `BroadcastChannel`.
 *
 * Each worker counts the requests it lets through and sends the counts it
 * took (batched, every {@linkcode FLUSH_MS} ms at most) to the others, which
 * add them to their own; the windows are aligned to the wall clock, so all
 * agree on them. A burst that reaches several workers within one batch can
 * go over `max` by what those workers let through meanwhile.
 *
 * @module
 */
import { InflightCounter, RateCounter } from "./limit_counter.ts";

/** Longest wait before counts taken are sent to the other workers (ms). */
export const FLUSH_MS = 5;

/** A batch of counts: `counts[i]` requests of `keys[i]` let through in window `win`. */
interface Batch {
  readonly win: number;
  readonly keys: readonly string[];
  readonly counts: readonly number[];
}

/** Is this isolate a worker (one of several that serve the same plan)? */
function inWorker(): boolean {
  const scope = (globalThis as { WorkerGlobalScope?: abstract new () => unknown }).WorkerGlobalScope;
  return scope !== undefined && globalThis instanceof scope;
}

/** A rate counter whose takes are shared with the same plugin's counters in other workers. */
export class SharedRate {
  readonly counter: RateCounter;
  readonly #channel: BroadcastChannel | undefined;
  readonly #pending = new Map<string, number>();
  #pendingWin = -1;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param share Name of the channel to share counts on; undefined: not shared. */
  constructor(interval: number, share: string | undefined) {
    this.counter = new RateCounter(interval);
    if (share === undefined) return;
    const channel = new BroadcastChannel(share);
    channel.onmessage = (e: MessageEvent<Batch>) => {
      const { win, keys, counts } = e.data;
      const now = Date.now();
      for (let i = 0; i < keys.length; i++) this.counter.add(keys[i]!, win, counts[i]!, now);
    };
    this.#channel = channel;
  }

  /** {@linkcode RateCounter.take}, and what it counted goes to the other workers. */
  take(key: string, max: number, now: number): number {
    const value = this.counter.take(key, max, now);
    if (value <= max && this.#channel !== undefined) this.#note(key, Math.floor(now / this.counter.interval));
    return value;
  }

  #note(key: string, win: number): void {
    if (win !== this.#pendingWin) {
      this.#flush();
      this.#pendingWin = win;
    }
    this.#pending.set(key, (this.#pending.get(key) ?? 0) + 1);
    if (this.#timer === undefined) {
      const timer = setTimeout(() => this.#flush(), FLUSH_MS);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  #flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return;
    const batch: Batch = {
      win: this.#pendingWin,
      keys: [...this.#pending.keys()],
      counts: [...this.#pending.values()],
    };
    this.#pending.clear();
    this.#channel?.postMessage(batch);
  }

  /** Sends what is pending and stops sharing. */
  close(): void {
    this.#flush();
    this.#channel?.close();
  }
}

/** The counters of one limit plugin. */
export interface LimitState {
  readonly rate: SharedRate | undefined;
  readonly inflight: InflightCounter | undefined;
}

/**
 * The counters of the limit plugin `name` with config hash `key`. Made once per plugin instance: the plugin contract
 * keeps an unchanged instance (same name and key) across reloads (runtime/plugins/instances.ts), and with it these
 * counts. {@linkcode closeLimitState} when the instance is disposed.
 */
export function createLimitState(name: string, key: string, type: "rate" | "inflight", interval: number): LimitState {
  const share = inWorker() ? `pingap-limit\n${name}\n${key}` : undefined;
  return type === "rate"
    ? { rate: new SharedRate(interval, share), inflight: undefined }
    : { rate: undefined, inflight: new InflightCounter() };
}

/** Stops sharing what {@linkcode createLimitState} made. */
export function closeLimitState(state: LimitState): void {
  state.rate?.close();
}
