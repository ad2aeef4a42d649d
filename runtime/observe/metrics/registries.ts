/**
 * The metrics of one proxy: a registry per server name (reference-counted by
 * the handles, so a reload that keeps a server keeps its counters), the push
 * timers (shared per server and URL), and where the upstream gauges come from
 * at scrape. The proxy makes one and hands it to every generation; nothing
 * here is process-wide (the process-wide families are in `process_wide.ts`).
 *
 * @module
 */
import type { UpstreamSnapshot, UpstreamSource } from "./handle.ts";
import { PushTimers } from "./push.ts";
import type { ServerState } from "./server_state.ts";
import { snapshotOf } from "./upstream_source.ts";

/** A proxy's metric registries. */
export class MetricsRegistries {
  /** The live server states by server name. */
  readonly servers: Map<string, ServerState> = new Map();
  /** The push timers of `prometheus_metrics` URLs. */
  readonly pushes: PushTimers = new PushTimers();
  readonly #upstreams: UpstreamSource | undefined;

  /** With `upstreams`, the upstream gauges are rebuilt from it at each scrape (see {@linkcode registrySource}). */
  constructor(upstreams?: UpstreamSource) {
    this.#upstreams = upstreams;
  }

  /** The upstreams now, or undefined without a source. */
  snapshot(): UpstreamSnapshot[] | undefined {
    return snapshotOf(this.#upstreams);
  }

  /** Server names whose metrics are alive (tests, admin). */
  live(): string[] {
    return [...this.servers.keys()];
  }
}
