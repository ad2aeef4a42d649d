/**
 * Faults are contained: an exception thrown in an event callback or a timer,
 * or a promise rejected with nobody awaiting it, would end the isolate (and
 * the main isolate's end is the process's). {@linkcode containFaults}
 * installs `error` and `unhandledrejection` handlers that cancel that
 * default, log the fault at ERROR with its stack and the isolate's name, and
 * count it in `pingap_uncaught_errors_total{kind}`. The connection whose
 * code threw is left to its own timeouts and close; every other connection
 * keeps being served.
 *
 * `pingap start` installs it in the main isolate (`run.ts`) and in every
 * worker (`worker_main.ts`). A worker that dies anyway is restarted by the
 * main isolate (`workers.ts`).
 *
 * Test only: `PINGAP_TEST_FAULT` makes SIGUSR2 provoke a fault (see
 * {@linkcode installTestFault}); unset, nothing listens to SIGUSR2.
 *
 * @module
 */
import { log } from "../observe/log/app_log.ts";
import { countUncaughtError } from "../observe/metrics/mod.ts";

let isolate = "main";
let installed = false;

/** What a fault's log line says about its cause. */
function describe(value: unknown): string {
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  try {
    return Deno.inspect(value);
  } catch {
    return String(value);
  }
}

/** Marks the test fault that must end its worker (it passes through containment). */
class TestWorkerExit extends Error {
  override name = "TestWorkerExit";
}

function contained(kind: "error" | "rejection", value: unknown): void {
  try {
    countUncaughtError(kind);
    const what = kind === "error" ? "uncaught exception" : "unhandled promise rejection";
    log.error(`${what} contained in ${isolate}, serving on: ${describe(value)}`);
  } catch {
    // Logging must not be the next fault.
  }
}

/**
 * Installs the handlers in this isolate (once; a second call only renames
 * it). `name` appears in the log line: `main`, `worker 2`.
 *
 * @example Usage
 * ```ts ignore
 * import { containFaults } from "./contain.ts";
 * containFaults("main");
 * setTimeout(() => {
 *   throw new Error("logged at ERROR and counted; the process keeps serving");
 * });
 * ```
 */
export function containFaults(name: string): void {
  isolate = name;
  if (installed) return;
  installed = true;
  globalThis.addEventListener("error", (e: ErrorEvent) => {
    if (e.error instanceof TestWorkerExit) return;
    e.preventDefault();
    contained("error", e.error ?? e.message);
  });
  globalThis.addEventListener("unhandledrejection", (e: PromiseRejectionEvent) => {
    e.preventDefault();
    contained("rejection", e.reason);
  });
}

/**
 * Test only, off unless the environment variable `PINGAP_TEST_FAULT` is
 * set (tests set it; see docs/runtime.md). On SIGUSR2:
 * - `throw`: every isolate throws in a timer callback and rejects a
 *   promise nobody awaits (two contained faults each);
 * - `worker-exit`: worker 1 throws an error that containment lets through,
 *   so that worker isolate dies as an uncontained fault would end it;
 * - `worker-close`: worker 1 ends itself (`self.close()`), which gives the
 *   main isolate no event at all.
 */
export function installTestFault(): void {
  let mode: string | undefined;
  try {
    mode = Deno.env.get("PINGAP_TEST_FAULT");
  } catch {
    return;
  }
  if (mode !== "throw" && mode !== "worker-exit" && mode !== "worker-close") return;
  Deno.addSignalListener("SIGUSR2", () => {
    // A timer callback: a throw in the signal callback itself would be a rejection (its loop is async).
    if (mode === "throw") {
      void Promise.reject(new Error(`test fault: a rejection nobody awaits (${isolate})`));
      setTimeout(() => {
        throw new Error(`test fault: thrown in a callback (${isolate})`);
      });
    } else if (isolate === "worker 1" && mode === "worker-close") {
      // Ends the worker without an error event: only the main isolate's liveness check can see it.
      (globalThis as unknown as { close(): void }).close();
    } else if (isolate === "worker 1") {
      setTimeout(() => {
        throw new TestWorkerExit("test fault: worker 1 dies (PINGAP_TEST_FAULT=worker-exit)");
      });
    }
  });
}
