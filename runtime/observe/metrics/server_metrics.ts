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

/** Where a `prometheus_metrics` value points: a pull path, or a Pushgateway URL (contains `://`). */
export type MetricsTarget = { readonly kind: "pull"; readonly path: string } | {
  readonly kind: "push";
  readonly url: string;
};

/** Classifies a `prometheus_metrics` value (undefined when unset or blank). */
export function metricsTarget(value: string | undefined): MetricsTarget | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  return v.includes("://") ? { kind: "push", url: v } : { kind: "pull", path: v };
}

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
 * The metrics of a server whose `prometheus_metrics` is `value`, in
 * `registries`: undefined when unset; otherwise a handle, plus the pull path
 * or a started push (see `PushTimers.start`). A push URL that does not parse
 * is logged and the metrics are still kept.
 */
export function serverMetrics(
  server: string,
  value: string | undefined,
  registries: MetricsRegistries,
  options: StartPushOptions = {},
): ServerMetrics | undefined {
  const target = metricsTarget(value);
  if (!target) return undefined;
  const metrics = createMetrics(server, registries);
  let push: PushHandle | undefined;
  if (target.kind === "push") {
    try {
      push = registries.pushes.start(metrics, target.url, options);
    } catch (e) {
      (options.log ?? ((m: string) => console.error(m)))(
        `server "${server}": invalid prometheus push url ${target.url}: ${(e as Error).message}`,
      );
    }
  }
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
