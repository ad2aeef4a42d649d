/**
 * The OpenTelemetry SDK is loaded only for a plan that exports spans: it costs ~20 MiB of memory and ~120 ms of
 * start-up (measured), which a proxy without `otlp_exporter` should not pay. {@linkcode prepareTracing} loads it
 * before such a plan is activated; activation, which is synchronous, then finds it with {@linkcode loadedTracing}.
 *
 * @module
 */
import type { Plan } from "../../../compiler/mod.ts";

/** What the observer needs of the tracing modules. */
export interface Tracing {
  readonly exporter: typeof import("./exporter.ts");
  readonly requestTrace: typeof import("./request_trace.ts");
}

let loaded: Tracing | undefined;

/** Whether a server of `plan` exports spans. */
export function wantsTracing(plan: Plan): boolean {
  return plan.servers.some((s) => s.otlpExporter !== undefined);
}

/**
 * Loads the tracing modules when `plan` needs them (once per isolate).
 *
 * @example Usage
 * ```ts
 * import { loadedTracing, prepareTracing } from "./load.ts";
 * await prepareTracing({ servers: [] } as never);
 * if (loadedTracing() !== undefined) throw new Error("loaded without need");
 * ```
 */
export async function prepareTracing(plan: Plan): Promise<void> {
  if (loaded !== undefined || !wantsTracing(plan)) return;
  const [exporter, requestTrace] = await Promise.all([import("./exporter.ts"), import("./request_trace.ts")]);
  loaded = { exporter, requestTrace };
}

/** The tracing modules, if {@linkcode prepareTracing} loaded them. */
export function loadedTracing(): Tracing | undefined {
  return loaded;
}
