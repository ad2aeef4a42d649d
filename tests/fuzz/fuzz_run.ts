/**
 * The config fuzzer's driver: runs `cases` cases of a seed in a worker isolate, with a watchdog. A case that runs
 * longer than `timeoutMs` is a hang: the worker is terminated and a new one continues with the next case. A worker that
 * dies (an uncaught error, out of memory) counts its current case as a crash and is replaced the same way.
 *
 * @module
 */
import type { CaseResult, SeedConfig } from "./fuzz_case.ts";
import { SLOT, SLOTS } from "./fuzz_slots.ts";
import type { WorkerJob } from "./fuzz_worker.ts";

/** Options of {@linkcode fuzz}. */
export interface FuzzOptions {
  readonly corpus: readonly SeedConfig[];
  readonly seed: number;
  readonly cases: number;
  /** A case running longer is a hang (default 10 s). */
  readonly timeoutMs?: number;
  /** The worker module (default tests/fuzz/fuzz_worker.ts; the watchdog's own test gives one that hangs). */
  readonly worker?: URL;
  /** Called for each failed case as it is found. */
  readonly onFailure?: (failure: Failure) => void;
}

/** A case that broke the contract. */
export interface Failure {
  readonly kind: "crash" | "hang";
  readonly index: number;
  /** The case result, when the worker could send it (not for a hang or a dead worker). */
  readonly result?: CaseResult;
  readonly detail: string;
}

/** What a run found. */
export interface FuzzSummary {
  readonly seed: number;
  readonly cases: number;
  /** Cases run to their end (a hung case is not one). */
  readonly completed: number;
  readonly exit0: number;
  readonly exit1: number;
  /** Cases whose TOML parsed (reached the schema and later stages). */
  readonly parsed: number;
  readonly crashes: readonly Failure[];
  readonly hangs: readonly Failure[];
  readonly slowestMs: number;
  readonly slowestIndex: number;
  readonly totalMs: number;
}

/** Time a worker may take to load its modules. */
const STARTUP_MS = 120_000;

/** Runs the cases; resolves once all ran (or hung). */
export async function fuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = performance.now();
  const failures: Failure[] = [];
  const totals = { completed: 0, exit0: 0, exit1: 0, parsed: 0, slowestMs: 0, slowestIndex: -1 };
  const report = (f: Failure) => {
    failures.push(f);
    options.onFailure?.(f);
  };
  let next = 0;
  while (next < options.cases) {
    const buffer = new SharedArrayBuffer(SLOTS * 4);
    const slots = new Int32Array(buffer);
    Atomics.store(slots, SLOT.current, next);
    const worker = new Worker((options.worker ?? new URL("./fuzz_worker.ts", import.meta.url)).href, {
      type: "module",
    });
    const end = Promise.withResolvers<{ kind: "done" } | { kind: "error"; detail: string }>();
    worker.onmessage = (e: MessageEvent<{ type: string; result?: CaseResult }>) => {
      if (e.data.type === "failure" && e.data.result) {
        const r = e.data.result;
        report({ kind: "crash", index: r.index, result: r, detail: r.problems.join("\n") });
      } else if (e.data.type === "done") end.resolve({ kind: "done" });
    };
    worker.onerror = (e) => {
      e.preventDefault();
      end.resolve({ kind: "error", detail: `the worker died: ${e.message}` });
    };
    const job: WorkerJob = { corpus: options.corpus, seed: options.seed, from: next, to: options.cases, slots: buffer };
    worker.postMessage(job);
    let seen = -1;
    let since = performance.now();
    const watch = setInterval(() => {
      // Loading the worker's modules is not a case: the clock starts once it has its job.
      const mark = Atomics.load(slots, SLOT.started) === 0
        ? -1
        : Atomics.load(slots, SLOT.current) * 2 + Atomics.load(slots, SLOT.completed);
      if (mark === -1) {
        if (performance.now() - since > STARTUP_MS) {
          end.resolve({ kind: "error", detail: `the worker did not start in ${STARTUP_MS} ms` });
        }
      } else if (mark !== seen) {
        seen = mark;
        since = performance.now();
      } else if (performance.now() - since > timeoutMs) {
        end.resolve({ kind: "error", detail: `hang: no progress in ${timeoutMs} ms` });
      }
    }, 100);
    const outcome = await end.promise;
    clearInterval(watch);
    worker.terminate();
    totals.completed += Atomics.load(slots, SLOT.completed);
    totals.exit0 += Atomics.load(slots, SLOT.exit0);
    totals.exit1 += Atomics.load(slots, SLOT.exit1);
    totals.parsed += Atomics.load(slots, SLOT.parsed);
    const slowest = Atomics.load(slots, SLOT.maxMicros) / 1000;
    if (slowest > totals.slowestMs) {
      totals.slowestMs = slowest;
      totals.slowestIndex = Atomics.load(slots, SLOT.slowest);
    }
    if (outcome.kind === "done") break;
    const at = Atomics.load(slots, SLOT.current);
    report({ kind: outcome.detail.startsWith("hang") ? "hang" : "crash", index: at, detail: outcome.detail });
    next = at + 1;
  }
  return {
    seed: options.seed,
    cases: options.cases,
    ...totals,
    crashes: failures.filter((f) => f.kind === "crash"),
    hangs: failures.filter((f) => f.kind === "hang"),
    totalMs: performance.now() - started,
  };
}

/** How to see case `index` of seed `seed` again. */
export function reproduce(seed: number, index: number): string {
  return `deno run -A bench/config_fuzz_bench.ts --seed ${seed} --replay ${index}`;
}

/** One line per failure, with the way to reproduce it. */
export function describe(seed: number, f: Failure): string {
  const r = f.result;
  const what = r ? `${r.config} (${r.file.replace(/^.*\/(pingap-examples|conf)\//, "$1/")}): ${r.ops.join("; ")}` : "";
  return `${f.kind} at case ${f.index} of seed ${seed}: ${what}\n  ${f.detail.split("\n").slice(0, 8).join("\n  ")}\n` +
    `  reproduce: ${reproduce(seed, f.index)}`;
}
