/**
 * Where the upstream gauges come from at scrape (in-flight requests, backend
 * health, breaker state): the proxy's live upstream registry, given to its
 * {@linkcode MetricsRegistries}.
 *
 * @module
 */
import type { UpstreamRegistry } from "../../upstream/registry.ts";
import type { BackendSnapshot, UpstreamSnapshot, UpstreamSource } from "./handle.ts";

/** The upstreams of `source` now, or undefined without one (or when it failed, logged). */
export function snapshotOf(source: UpstreamSource | undefined): UpstreamSnapshot[] | undefined {
  if (!source) return undefined;
  try {
    return [...source()];
  } catch (e) {
    console.error("metrics: the upstream source failed", e);
    return undefined;
  }
}

/**
 * An {@linkcode UpstreamSource} reading the live upstream registry: each
 * upstream's in-flight count, its live connections (`enable_tracer`), its
 * backends' health-check state, and the breaker window and state of
 * backends that have stats.
 */
export function registrySource(registry: UpstreamRegistry): UpstreamSource {
  return function* () {
    for (const key of registry.keys()) {
      const state = registry.get(key);
      if (!state || state.disposed) continue;
      const stats = state.circuits.enabled ? state.circuits.snapshot() : undefined;
      const backends: BackendSnapshot[] = [];
      const seen = new Set<string>();
      for (const b of state.backends()) {
        seen.add(b.addr);
        const s = stats?.get(b.addr);
        backends.push({
          backend: b.addr,
          ...(state.health ? { healthy: state.health.isHealthy(b.addr) } : {}),
          ...(s ? { state: s.state, failureRatePercent: s.failureRatePercent, requests: s.total } : {}),
        });
      }
      for (const [addr, s] of stats ?? []) {
        if (!seen.has(addr)) {
          backends.push({ backend: addr, state: s.state, failureRatePercent: s.failureRatePercent, requests: s.total });
        }
      }
      // Counted only for an upstream with `enable_tracer`, as in Pingap.
      const connections = state.plan.tracer ? state.client.connections : undefined;
      yield {
        upstream: state.plan.name,
        processing: state.processing,
        ...(connections === undefined ? {} : { connections }),
        ...(state.discovery.lastRefreshMs === undefined ? {} : { discoveryMs: state.discovery.lastRefreshMs }),
        ...(state.selectorBuildMs === undefined ? {} : { selectorBuildMs: state.selectorBuildMs }),
        backends,
      };
    }
  };
}
