/**
 * The config fuzzer's worker: runs a range of cases (tests/fuzz/fuzz_case.ts) and reports through shared memory, so
 * the main isolate can see a case that never ends and terminate the worker (see tests/fuzz/fuzz_run.ts). A case that
 * breaks the contract is posted as a message.
 *
 * @module
 */
import { runCase, type SeedConfig } from "./fuzz_case.ts";
import { SLOT } from "./fuzz_slots.ts";

/** What the main isolate sends. */
export interface WorkerJob {
  readonly corpus: readonly SeedConfig[];
  readonly seed: number;
  readonly from: number;
  readonly to: number;
  readonly slots: SharedArrayBuffer;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<WorkerJob>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (e) => {
  const { corpus, seed, from, to } = e.data;
  const slots = new Int32Array(e.data.slots);
  Atomics.store(slots, SLOT.started, 1);
  for (let i = from; i < to; i++) {
    Atomics.store(slots, SLOT.current, i);
    const r = runCase(corpus, seed, i);
    if (r.exitCode === 0) Atomics.add(slots, SLOT.exit0, 1);
    if (r.exitCode === 1) Atomics.add(slots, SLOT.exit1, 1);
    if (r.parsed) Atomics.add(slots, SLOT.parsed, 1);
    const us = Math.round(r.ms * 1000);
    if (us > Atomics.load(slots, SLOT.maxMicros)) {
      Atomics.store(slots, SLOT.maxMicros, us);
      Atomics.store(slots, SLOT.slowest, i);
    }
    if (r.problems.length) scope.postMessage({ type: "failure", result: r });
    Atomics.add(slots, SLOT.completed, 1);
  }
  scope.postMessage({ type: "done" });
};
