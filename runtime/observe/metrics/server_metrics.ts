/**
 * A server's metrics as its `prometheus_metrics` setting asks: none, a pull
 * path, or a push to a Pushgateway.
 *
 * @module
 */
import { createMetrics } from "./create_metrics.ts";
import type { Metrics } from "./handle.ts";
import type { PushHandle, StartPushOptions } from "./push.ts";
import type { MetricsRegistries } from "./registries.ts";
import type { MetricsTarget } from "../../../compiler/mod.ts";

/** Where a `prometheus_metrics` value points: a pull path, or a Pushgateway target (parsed by the compiler). */
export type { MetricsTarget };

/** A server's metrics as its `prometheus_metrics` asks. */
export interface ServerMetrics {
  readonly metrics: Metrics;
  /** The pull path to answer with {@linkcode metricsResponse}, when pulling. */
  readonly path?: string;
  /** The push timer, when pushing. */
  readonly push?: PushHandle;
  /** Stops the push (if last) and releases the metrics handle. */
  dispose(): Promise<void>;
}

/**
 * The metrics of a server whose `prometheus_metrics` is `target` (parsed by
 * the compiler), in `registries`: undefined when unset; otherwise a handle,
 * plus the pull path or a started push (see `PushTimers.start`).
 */
export function serverMetrics(
  server: string,
  target: MetricsTarget | undefined,
  registries: MetricsRegistries,
  options: StartPushOptions = {},
): ServerMetrics | undefined {
  if (!target) return undefined;
  const metrics = createMetrics(server, registries);
  const push = target.kind === "push" ? registries.pushes.start(metrics, target, options) : undefined;
  return {
    metrics,
    ...(target.kind === "pull" ? { path: target.path } : {}),
    ...(push ? { push } : {}),
    async dispose() {
      await push?.stop();
      metrics.dispose();
    },
  };
}
