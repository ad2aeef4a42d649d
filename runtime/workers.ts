/**
 * Several worker isolates serving the same Plan on the same ports
 * (SO_REUSEPORT; needs `--unstable-net`). Each worker has its own pools,
 * health checks and counters.
 *
 * @module
 */
import type { Plan } from "../compiler/mod.ts";
import type { SharedState, WorkerMessage, WorkerReply } from "./worker_main.ts";

/** Workers serving one plan. */
export interface WorkerGroup {
  readonly size: number;
  swap(plan: Plan): Promise<void>;
  /** Gives every worker an ACME token or certificate; resolves when all have it. */
  share(state: SharedState): Promise<void>;
  shutdown(): Promise<void>;
}

/** The exchange under way with each worker: one at a time, since a worker answers in order. */
const pending = new WeakMap<Worker, Promise<unknown>>();

function ask(worker: Worker, message: WorkerMessage, expect: WorkerReply["type"]): Promise<WorkerReply> {
  const previous = pending.get(worker) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(() => exchange(worker, message, expect));
  pending.set(worker, next);
  return next;
}

function exchange(worker: Worker, message: WorkerMessage, expect: WorkerReply["type"]): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      if (e.data.type === "error") reject(new Error(e.data.message));
      else if (e.data.type === expect) resolve(e.data);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
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

/** Starts `count` workers, each serving `plan`. */
export async function startWorkers(plan: Plan, count: number): Promise<WorkerGroup> {
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const w = new Worker(new URL("./worker_main.ts", import.meta.url), { type: "module" });
      workers.push(w);
      await ask(w, { type: "start", plan, first: i === 0 }, "started");
    }
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  return {
    size: count,
    async swap(next) {
      await Promise.all(workers.map((w) => ask(w, { type: "swap", plan: next }, "swapped")));
    },
    async share(state) {
      await Promise.all(workers.map((w) => ask(w, state, "shared")));
    },
    async shutdown() {
      await Promise.allSettled(workers.map((w) => ask(w, { type: "shutdown" }, "stopped")));
      for (const w of workers) w.terminate();
    },
  };
}
