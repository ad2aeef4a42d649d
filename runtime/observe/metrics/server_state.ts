/**
 * The per-server registry: every family with the `server` label, the fast
 * ones as {@linkcode FastFamily} and the rest as prom-client metrics (the
 * scrape-time gauges collect from `process.ts` and the upstream source).
 * A proxy's {@linkcode MetricsRegistries} keeps one per server name,
 * reference-counted by the handles, so a reload carries the counters on.
 *
 * @module
 */
import { type Counter, type Gauge, type Histogram, Registry } from "prom-client";
import { CIRCUIT_STATE_CODE } from "../../upstream/circuit.ts";
import { FAMILIES } from "./families.ts";
import { FastFamily, type Hist, type Scalar } from "./fast.ts";
import type { BackendSnapshot, UpstreamSnapshot } from "./handle.ts";
import { fdCount, memoryMb, tcpCount } from "./process.ts";
import { SHARED_FAMILIES } from "./process_facts.ts";
import { GLOBAL_REGISTRY } from "./process_wide.ts";
import { build, type Collect } from "./prom_family.ts";
import { LocationSeries, UpstreamSeries } from "./series.ts";

function setFrom(g: Gauge<string>, value: number | undefined): void {
  if (value !== undefined) g.set(value);
}

/** Families written per request, kept in {@linkcode FastFamily} form. */
const FAST = new Set([
  "pingap_http_requests_total",
  "pingap_http_requests_current",
  "pingap_http_received",
  "pingap_http_received_bytes",
  "pingap_http_responses_codes",
  "pingap_http_response_time",
  "pingap_http_sent",
  "pingap_http_sent_bytes",
  "pingap_upstream_tcp_connect_time",
  "pingap_upstream_tls_handshake_time",
  "pingap_upstream_reuses",
  "pingap_upstream_processing_time",
  "pingap_upstream_response_time",
  "pingap_http_responses_status",
  "pingap_connection_reuses",
  "pingap_compression_ratio",
]);

/** The per-server state behind the handles. */
export class ServerState {
  readonly registry = new Registry();
  refs = 0;
  readonly #m = new Map<string, Counter | Gauge | Histogram>();
  readonly #fast = new Map<string, FastFamily<Scalar | Hist>>();
  readonly #locations = new Map<string, LocationSeries>();
  readonly #upstreams = new Map<string, UpstreamSeries>();
  /** The `location=""` aggregate. */
  readonly all: LocationSeries;

  /** `snapshot` gives the upstreams now (undefined: no source), read at scrape. */
  constructor(readonly server: string, snapshot: () => UpstreamSnapshot[] | undefined = () => undefined) {
    this.registry.setDefaultLabels({ server });
    const backendGauge = (pick: (u: UpstreamSnapshot, b: BackendSnapshot) => number | undefined): Collect<Gauge> =>
      function () {
        const snap = snapshot();
        if (!snap) return;
        this.reset();
        for (const u of snap) {
          for (const b of u.backends) {
            const v = pick(u, b);
            if (v !== undefined) this.set({ upstream: u.upstream, backend: b.backend }, v);
          }
        }
      };
    const upstreamGauge = (pick: (u: UpstreamSnapshot) => number | undefined): Collect<Gauge> =>
      function () {
        const snap = snapshot();
        if (!snap) return;
        this.reset();
        for (const u of snap) {
          const v = pick(u);
          if (v !== undefined) this.set({ upstream: u.upstream }, v);
        }
      };
    const collects: Record<string, Collect<Gauge>> = {
      pingap_memory() {
        setFrom(this, memoryMb());
      },
      async pingap_fd_count() {
        setFrom(this, await fdCount());
      },
      async pingap_tcp_count() {
        setFrom(this, await tcpCount("tcp"));
      },
      async pingap_tcp6_count() {
        setFrom(this, await tcpCount("tcp6"));
      },
      pingap_upstream_connections_current: upstreamGauge((u) => u.processing),
      pingap_upstream_connections: upstreamGauge((u) => u.connections),
      pingap_upstream_discovery_time: upstreamGauge((u) =>
        u.discoveryMs === undefined ? undefined : u.discoveryMs / 1000
      ),
      pingap_upstream_selector_build_time: upstreamGauge((u) =>
        u.selectorBuildMs === undefined ? undefined : u.selectorBuildMs / 1000
      ),
      pingap_upstream_backend_failure_rate: backendGauge((_, b) =>
        b.state === undefined ? undefined : b.failureRatePercent ?? 0
      ),
      pingap_upstream_backend_requests: backendGauge((_, b) =>
        b.state === undefined ? undefined : Math.trunc(b.requests ?? 0)
      ),
      pingap_upstream_backend_circuit_state: backendGauge((_, b) =>
        b.state === undefined ? undefined : CIRCUIT_STATE_CODE[b.state]
      ),
      pingap_upstream_healthy: backendGauge((_, b) => b.healthy === undefined ? undefined : b.healthy ? 1 : 0),
    };
    for (const f of FAMILIES) {
      if (f.serverLabel === false) continue;
      const shared = SHARED_FAMILIES.get(f.name);
      if (shared) this.registry.registerMetric(shared as unknown as Counter);
      else if (FAST.has(f.name)) {
        const fam = new FastFamily<Scalar | Hist>(f);
        this.#fast.set(f.name, fam);
        this.registry.registerMetric(fam as unknown as Counter);
      } else {
        this.#m.set(f.name, build(f, this.registry, collects[f.name]));
      }
    }
    this.all = new LocationSeries(this, "");
  }

  counter(name: string): Counter {
    return this.#m.get(name) as Counter;
  }

  gauge(name: string): Gauge {
    return this.#m.get(name) as Gauge;
  }

  histogram(name: string): Histogram {
    return this.#m.get(name) as Histogram;
  }

  scalar(name: string): FastFamily<Scalar> {
    return this.#fast.get(name) as FastFamily<Scalar>;
  }

  hist(name: string): FastFamily<Hist> {
    return this.#fast.get(name) as FastFamily<Hist>;
  }

  /** The series of a location ("" is the aggregate). */
  location(name: string): LocationSeries {
    if (name === "") return this.all;
    let l = this.#locations.get(name);
    if (l === undefined) {
      l = new LocationSeries(this, name);
      this.#locations.set(name, l);
    }
    return l;
  }

  upstream(name: string): UpstreamSeries {
    let u = this.#upstreams.get(name);
    if (u === undefined) {
      u = new UpstreamSeries(this, name);
      this.#upstreams.set(name, u);
    }
    return u;
  }

  async text(): Promise<string> {
    return (await this.registry.metrics()) + (await GLOBAL_REGISTRY.metrics());
  }
}
