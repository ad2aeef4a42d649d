/**
 * A fuzz worker that breaks on purpose, for the watchdog's test: case 2 never returns, case 4 kills the worker with an
 * uncaught error; the others pass.
 *
 * @module
 */
import { SLOT } from "./fuzz_slots.ts";
import type { WorkerJob } from "./fuzz_worker.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<WorkerJob>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (e) => {
  const slots = new Int32Array(e.data.slots);
  Atomics.store(slots, SLOT.started, 1);
  for (let i = e.data.from; i < e.data.to; i++) {
    Atomics.store(slots, SLOT.current, i);
    if (i === 2) { for (;;) Atomics.load(slots, SLOT.current); }
    if (i === 4) throw new Error("worker dies at case 4");
    Atomics.add(slots, SLOT.exit1, 1);
    Atomics.add(slots, SLOT.completed, 1);
  }
  scope.postMessage({ type: "done" });
};
