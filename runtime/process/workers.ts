/**
 * Several worker isolates serving the same Plan on the same ports
 * (SO_REUSEPORT; needs `--unstable-net`). Each worker has its own pools,
 * health checks and counters.
 *
 * The main isolate supervises them as nginx's master does its workers: a
 * worker that dies (an error its containment let through) is logged at
 * ERROR, and a fresh one is started in its place with the current plan and
 * the shared ACME state, while the others keep serving. A worker that dies
 * again within a minute of its start waits twice as long as the last time
 * before the next start (100 ms, then 200 ms, … at most 30 s).
 *
 * Deno tells the main isolate nothing when a worker ends without an error
 * (`self.close()`), nor when one hangs in a loop: the main isolate pings
 * every worker every 5 s, and one that has not answered for 30 s is
 * terminated and replaced the same way.
 *
 * @module
 */
import type { Plan } from "../../compiler/mod.ts";
import type { SharedState, WorkerMessage, WorkerReply } from "./worker_main.ts";
import { log } from "../observe/log/app_log.ts";

/** Workers serving one plan. */
export interface WorkerGroup {
  readonly size: number;
  swap(plan: Plan): Promise<void>;
  /** Gives every worker an ACME token or certificate; resolves when all have it. */
  share(state: SharedState): Promise<void>;
  shutdown(): Promise<void>;
  /** Workers started again since the group started (each after a death). */
  readonly restarts: number;
}

/** Options of {@linkcode startWorkers}. */
export interface WorkerOptions {
  /** How often the main isolate pings each worker (ms; default 5 s). */
  readonly pingMs?: number;
  /** A worker that has not answered a ping for this long is ended and replaced (ms; default 30 s). */
  readonly hangMs?: number;
}

/** The first wait before a dead worker is started again, doubled on each death soon after a start. */
export const RESTART_MIN_MS = 100;
/** The longest wait between two starts of a worker that keeps dying. */
export const RESTART_MAX_MS = 30_000;
/** A worker up this long counts as stable: its death restarts it after {@linkcode RESTART_MIN_MS}. */
const STABLE_MS = 60_000;

/** The exchange under way with each worker: one at a time, since a worker answers in order. */
const pending = new WeakMap<Worker, Promise<unknown>>();
/** Fails the exchange under way with a worker (it died). */
const failCurrent = new WeakMap<Worker, (e: Error) => void>();
/** Workers that died: they answer nothing any more. */
const dead = new WeakSet<Worker>();

function ask(worker: Worker, message: WorkerMessage, expect: WorkerReply["type"]): Promise<WorkerReply> {
  const previous = pending.get(worker) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(() => exchange(worker, message, expect));
  pending.set(worker, next);
  return next;
}

function exchange(worker: Worker, message: WorkerMessage, expect: WorkerReply["type"]): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    if (dead.has(worker)) return reject(new Error("the worker died"));
    failCurrent.set(worker, reject);
    worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      if (e.data.type === "error") reject(new Error(e.data.message));
      else if (e.data.type === expect) resolve(e.data);
    };
    worker.postMessage(message);
  });
}

/** How many workers a plan asks for: the largest `threads` of its servers (0 = one per core). */
export function workerCount(plan: Plan): number {
  let n = 1;
  for (const s of plan.servers) n = Math.max(n, s.threads === 0 ? navigator.hardwareConcurrency : s.threads);
  return n;
}

/** The wait before the next start of a worker that died `failures` times soon after a start. */
export function restartDelay(failures: number): number {
  return Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(failures, 20));
}

/** One place in the group: the worker serving in it now (none while a restart waits). */
interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  startedAt: number;
  /** Deaths in a row, each soon after its start. */
  failures: number;
  /** When the worker last answered a ping (or started). */
  lastPong: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Starts `count` workers, each serving `plan`, and restarts any that dies. */
export async function startWorkers(first: Plan, count: number, options: WorkerOptions = {}): Promise<WorkerGroup> {
  const pingMs = options.pingMs ?? 5_000;
  const hangMs = options.hangMs ?? 30_000;
  let plan = first;
  let restarts = 0;
  let starting = true;
  let stopping = false;
  /** ACME tokens and certificates shared so far, replayed to a restarted worker. */
  const shared = new Map<string, SharedState>();
  const slots: Slot[] = Array.from(
    { length: count },
    (_, i) => ({ index: i + 1, worker: undefined, startedAt: 0, failures: 0, lastPong: 0, timer: undefined }),
  );

  function spawn(slot: Slot): Worker {
    const w = new Worker(new URL("./worker_main.ts", import.meta.url), { type: "module" });
    w.addEventListener("error", (e) => {
      e.preventDefault();
      died(slot, w, e.message);
    });
    // Beside the exchanges' onmessage, which ignores pongs.
    w.addEventListener("message", (e: MessageEvent<WorkerReply>) => {
      if (e.data.type === "pong" && slot.worker === w) slot.lastPong = Date.now();
    });
    slot.worker = w;
    slot.startedAt = slot.lastPong = Date.now();
    return w;
  }

  function died(slot: Slot, w: Worker, message: string): void {
    if (dead.has(w)) return;
    dead.add(w);
    failCurrent.get(w)?.(new Error(`worker ${slot.index} died: ${message}`));
    w.terminate();
    if (slot.worker !== w || starting || stopping) return;
    slot.worker = undefined;
    slot.failures = Date.now() - slot.startedAt < STABLE_MS ? slot.failures + 1 : 0;
    const delay = restartDelay(slot.failures);
    log.error(`worker ${slot.index} died: ${message}; the other workers serve, a new one starts in ${delay} ms`);
    slot.timer = setTimeout(() => void restart(slot), delay);
  }

  async function restart(slot: Slot): Promise<void> {
    slot.timer = undefined;
    if (stopping) return;
    const w = spawn(slot);
    const startedWith = plan;
    try {
      // Certificates and tokens first, so the new worker's TLS listeners have them from its first handshake.
      for (const s of shared.values()) await ask(w, s, "shared");
      await ask(w, { type: "start", plan: startedWith, index: slot.index, first: slot.index === 1 }, "started");
      // A reload while it started.
      if (plan !== startedWith) await ask(w, { type: "swap", plan }, "swapped");
      restarts++;
      log.info(`worker ${slot.index} started again: serving with the others`);
    } catch (e) {
      died(slot, w, (e as Error).message);
    }
  }

  /** Asks every live worker; a worker that dies meanwhile is no failure (its replacement starts with the state). */
  async function all(message: WorkerMessage, expect: WorkerReply["type"]): Promise<void> {
    await Promise.all(slots.map(async (slot) => {
      const w = slot.worker;
      if (!w || dead.has(w)) return;
      try {
        await ask(w, message, expect);
      } catch (e) {
        if (!dead.has(w)) throw e;
      }
    }));
  }

  try {
    for (const slot of slots) {
      await ask(spawn(slot), { type: "start", plan, index: slot.index, first: slot.index === 1 }, "started");
    }
  } catch (e) {
    stopping = true;
    for (const slot of slots) slot.worker?.terminate();
    throw e;
  }
  starting = false;
  const liveness = setInterval(() => {
    const now = Date.now();
    for (const slot of slots) {
      const w = slot.worker;
      if (!w || dead.has(w)) continue;
      if (now - slot.lastPong > hangMs) died(slot, w, `no answer for ${hangMs / 1000} s (ended or hung)`);
      else w.postMessage({ type: "ping" } satisfies WorkerMessage);
    }
  }, pingMs);
  return {
    size: count,
    get restarts() {
      return restarts;
    },
    async swap(next) {
      // The new plan first: a worker restarting meanwhile starts with it, or swaps to it once started.
      const previous = plan;
      plan = next;
      try {
        await all({ type: "swap", plan: next }, "swapped");
      } catch (e) {
        plan = previous;
        throw e;
      }
    },
    async share(state) {
      if (state.type === "certificate") shared.set(`certificate ${state.name}`, state);
      else if (state.keyAuthorization === null) shared.delete(`challenge ${state.token}`);
      else shared.set(`challenge ${state.token}`, state);
      await all(state, "shared");
    },
    async shutdown() {
      stopping = true;
      for (const slot of slots) clearTimeout(slot.timer);
      // The liveness check goes on meanwhile: a worker gone silent fails its exchange instead of holding the stop.
      await Promise.allSettled(
        slots.map((s) => s.worker && !dead.has(s.worker) ? ask(s.worker, { type: "shutdown" }, "stopped") : undefined),
      );
      clearInterval(liveness);
      for (const slot of slots) slot.worker?.terminate();
    },
  };
}
