/**
 * Where the upstream gauges come from at scrape (in-flight requests, backend
 * health, breaker state): a process-wide source, like the upstream registry.
 *
 * @module
 */
import type { UpstreamRegistry } from "../../upstream/registry.ts";
import type { BackendSnapshot, UpstreamSnapshot, UpstreamSource } from "./handle.ts";

let upstreamSource: UpstreamSource | undefined;

/** Sets (or clears) where the upstream gauges come from at scrape; process-wide, like the upstream registry. */
export function setUpstreamSource(source: UpstreamSource | undefined): void {
  upstreamSource = source;
}

/** The upstreams now, or undefined without a source (or when it failed, logged). */
export function snapshot(): UpstreamSnapshot[] | undefined {
  if (!upstreamSource) return undefined;
  try {
    return [...upstreamSource()];
  } catch (e) {
    console.error("metrics: the upstream source failed", e);
    return undefined;
  }
}

/**
 * An {@linkcode UpstreamSource} reading the live upstream registry: each
 * upstream's in-flight count, its backends' health-check state, and the
 * breaker window and state of backends that have stats.
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
      yield { upstream: state.plan.name, processing: state.processing, backends };
    }
  };
}
