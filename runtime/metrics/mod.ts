/**
 * Prometheus metrics per server (inventory §5), on `npm:prom-client`: its
 * registries, metric types and text format. The families written on every
 * request (`pingap_http_*`, the per-upstream timings and reuses) are kept as
 * plain numbers (`fast.ts`) and handed to the registry as metric objects, so
 * a request costs well under a microsecond of metrics work rather than the
 * ≈8 µs that twenty labelled prom-client calls take.
 *
 * A server with `prometheus_metrics` set gets a {@linkcode Metrics} handle
 * from {@linkcode createMetrics} (or {@linkcode serverMetrics}, which also
 * reads the setting). The registry lives outside the Plan, in a module-level
 * map keyed by server name and reference-counted: a reload acquires the
 * handle of the new plan before the old plan disposes its own, so counters
 * and histograms carry on, and nothing is registered twice.
 *
 * Every family carries the const label `server`; request families have a
 * `location` label, and each request is counted twice, under its location
 * and under `location=""` (the aggregate). As the inventory says, request
 * metrics are recorded only for requests that matched a location.
 *
 * The request path, in Pingap's order:
 * - {@linkcode Metrics.requestStarted} when the location is matched
 *   (`pingap_http_requests_total` and `pingap_http_requests_current` go up);
 * - {@linkcode trackResponse} on the response: when its body has been sent
 *   (or failed, or was cancelled) it records sizes, the status class and the
 *   response time ({@linkcode Metrics.observeRequest}), then
 *   {@linkcode Metrics.requestFinished} (the in-flight gauge goes down);
 * - {@linkcode Metrics.observeUpstream} once an upstream answered.
 *
 * Families fed at scrape: `pingap_memory`, `pingap_fd_count`,
 * `pingap_tcp_count`, `pingap_tcp6_count` (see `process.ts`), and, once
 * {@linkcode setUpstreamSource} is given one (see {@linkcode registrySource}),
 * `pingap_upstream_connections_current`, `pingap_upstream_backend_*` and
 * `pingap_upstream_healthy`, rebuilt from the source at each scrape so
 * backends that went away disappear.
 *
 * `pingap_tls_handshake_time` is fed by the TLS listeners (`runtime/tls/listener.ts`, time from accept to
 * handshake done).
 *
 * Families registered (their HELP/TYPE lines exist; unlabelled ones show 0) but not fed yet,
 * and why — `FAMILIES` in `families.ts` holds the same list:
 *
 * | Family | Why not yet |
 * | --- | --- |
 * | `pingap_connection_reuses` | Deno.serve does not say whether a request came on a reused client connection |
 * | `pingap_upstream_connections` | Pingap counts it only with `enable_tracer`; our pools do not report live connections yet |
 * | `pingap_upstream_tls_handshake_time` | the upstream clients time connect and TLS together (`connectTime`) |
 * | `pingap_cache_lookup_time`, `pingap_cache_lock_time`, `pingap_cache_reading`, `pingap_cache_writing` | no cache plugin yet |
 * | `pingap_compression_ratio` | no compression plugin yet |
 * | `pingap_cache_storage_read_time`, `pingap_cache_storage_write_time` | no file cache storage yet (process-wide, no `server` label, as in Pingap) |
 *
 * Each has its entry point ready (`observeTlsHandshake`, `connectionReused`,
 * `observeCache`, `observeCompressionRatio`, `observeCacheStorageRead`/`Write`,
 * `observeUpstream({ tlsHandshakeMs, connections })`).
 *
 * Ours, not Pingap's: `pingap_upstream_healthy{upstream,backend}` (1 healthy,
 * 0 not), `pingap_access_log_dropped_total` (access-log lines dropped
 * because the queue was full, see runtime/log/access_sink.ts), and the
 * process-wide `pingap_uncaught_errors_total{kind}` (faults contained, see
 * runtime/contain.ts).
 *
 * Names are Pingap's, so promtool's linter reports eight of them (counters
 * without `_total`, gauges ending in `_count`): see `PINGAP_LINT_EXCEPTIONS`.
 *
 * Each worker isolate has its own module map, so with several workers each
 * has its own registry: a scrape sees the worker that took the connection.
 *
 * @module
 */
import { watchBody } from "../body_end.ts";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { UpstreamRegistry } from "../upstream/registry.ts";
import { CIRCUIT_STATE_CODE, type CircuitState } from "../upstream/circuit.ts";
import { FAMILIES, type FamilySpec } from "./families.ts";
import { FastFamily, type Hist, type Scalar } from "./fast.ts";
import { fdCount, memoryMb, tcpCount } from "./process.ts";
import {
  parsePushUrl,
  type PushHandle,
  pushText,
  startPush,
  type StartPushOptions,
  TEXT_CONTENT_TYPE,
} from "./push.ts";
import { responseWith } from "../response_build.ts";

export { FAMILIES, PINGAP_LINT_EXCEPTIONS } from "./families.ts";
export { parsePushUrl, type PushHandle, startPush, type StartPushOptions, TEXT_CONTENT_TYPE } from "./push.ts";

/** What {@linkcode Metrics.observeRequest} reads from a request ({@linkcode RequestContext} fits). */
export interface ObservedRequest {
  /** The matched location (its `name` is the `location` label). */
  readonly location?: { readonly name: string } | undefined;
  /** Milliseconds since the request started. */
  elapsed(): number;
  /** A request header (for `content-length`). */
  header(name: string): string | null;
}

/** Timings and counts of one upstream exchange (ms). */
export interface UpstreamObservation {
  /** TCP connect time; skipped when `reused` (Pingap has none then). */
  readonly connectMs?: number | undefined;
  /** Upstream TLS handshake. */
  readonly tlsHandshakeMs?: number | undefined;
  /** Request start to response head. */
  readonly responseMs?: number | undefined;
  /** Upstream processing time. */
  readonly processingMs?: number | undefined;
  /** The connection came from the pool (`pingap_upstream_reuses`). */
  readonly reused?: boolean | undefined;
  /** Exchanges in flight on the upstream (`pingap_upstream_connections_current`). */
  readonly processing?: number | undefined;
  /** Live connections (`pingap_upstream_connections`). */
  readonly connections?: number | undefined;
}

/** Stats of one backend, as the breaker keeps them. */
export interface BackendWindow {
  /** Failures per 100 requests in the window. */
  readonly failureRatePercent?: number;
  /** Requests in the window. */
  readonly requests?: number;
}

/** One backend at scrape time. */
export interface BackendSnapshot extends BackendWindow {
  /** `host:port`. */
  readonly backend: string;
  /** Health-check state; undefined when the upstream has no health check. */
  readonly healthy?: boolean;
  /** Breaker state; undefined when stats are off. */
  readonly state?: CircuitState;
}

/** One upstream at scrape time. */
export interface UpstreamSnapshot {
  readonly upstream: string;
  /** Exchanges in flight. */
  readonly processing?: number;
  /** Live connections. */
  readonly connections?: number;
  readonly backends: readonly BackendSnapshot[];
}

/** Gives the upstreams' state at scrape time. */
export type UpstreamSource = () => Iterable<UpstreamSnapshot>;

/** Cache figures of one request (ms, counts). */
export interface CacheObservation {
  readonly lookupMs?: number | undefined;
  readonly lockMs?: number | undefined;
  readonly reading?: number | undefined;
  readonly writing?: number | undefined;
}

/** A handle on a server's metrics. */
export interface Metrics {
  /** The server name (the `server` label). */
  readonly server: string;
  /** The server's registry (without the two process-wide cache storage families; {@linkcode text} has them). */
  readonly registry: Registry;
  /** A request matched `location`: requests total and in flight go up (and their `location=""` aggregates). */
  requestStarted(location: string): void;
  /** It is done (body sent, failed or cancelled): in flight goes down. */
  requestFinished(location: string): void;
  /**
   * Records a finished request: request and response sizes, status class,
   * response time (`ctx.elapsed()`). `receivedBytes` defaults to the
   * request's `content-length` (0 without one).
   */
  observeRequest(
    ctx: ObservedRequest,
    res: { readonly status: number },
    sentBytes?: number,
    receivedBytes?: number,
  ): void;
  /** Records an upstream exchange. */
  observeUpstream(upstream: string, o: UpstreamObservation): void;
  /** Sets `pingap_upstream_healthy` (overwritten at scrape while an {@linkcode UpstreamSource} is set). */
  setUpstreamHealth(upstream: string, backend: string, healthy: boolean): void;
  /** Sets `pingap_upstream_backend_circuit_state` (and the window gauges when given); same caveat. */
  setCircuitState(upstream: string, backend: string, state: CircuitState | number, window?: BackendWindow): void;
  /** A downstream TLS handshake took `ms`. */
  observeTlsHandshake(ms: number): void;
  /** A request came on a reused client connection. */
  connectionReused(): void;
  /** Cache timings and counts of a request. */
  observeCache(o: CacheObservation): void;
  /** A response was compressed with this ratio (in/out). */
  observeCompressionRatio(ratio: number): void;
  /** An access-log line was dropped (queue full). */
  accessLogDropped(): void;
  /** The exposition text (server registry, then the process-wide families). */
  text(): Promise<string>;
  /** Pushes the text to a Pushgateway URL once (same URL rules as {@linkcode startPush}); throws on failure. */
  push(url: string): Promise<void>;
  /** Releases this handle; the registry goes when the last handle of the server is released. */
  dispose(): void;
}

// Process-wide families (no `server` label, as in Pingap).
const GLOBAL_REGISTRY = new Registry();
const STORAGE_READ = histogramOf(spec("pingap_cache_storage_read_time"), GLOBAL_REGISTRY);
const STORAGE_WRITE = histogramOf(spec("pingap_cache_storage_write_time"), GLOBAL_REGISTRY);
const UNCAUGHT = build(spec("pingap_uncaught_errors_total"), GLOBAL_REGISTRY) as Counter;

/** The registry of the process-wide families (no `server` label): every server's exposition ends with it. */
export function processRegistry(): Registry {
  return GLOBAL_REGISTRY;
}

/** A file cache storage read took `ms`. */
export function observeCacheStorageRead(ms: number): void {
  STORAGE_READ.observe(ms / 1000);
}

/** A file cache storage write took `ms`. */
export function observeCacheStorageWrite(ms: number): void {
  STORAGE_WRITE.observe(ms / 1000);
}

/**
 * A fault was contained (`runtime/contain.ts`): an exception thrown in a callback (`error`) or a rejection nobody
 * awaited (`rejection`). Counted per isolate: with workers, a scrape sees the worker that took the connection.
 */
export function countUncaughtError(kind: "error" | "rejection"): void {
  UNCAUGHT.inc({ kind });
}

let upstreamSource: UpstreamSource | undefined;

/** Sets (or clears) where the upstream gauges come from at scrape; process-wide, like the upstream registry. */
export function setUpstreamSource(source: UpstreamSource | undefined): void {
  upstreamSource = source;
}

function snapshot(): UpstreamSnapshot[] | undefined {
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

function spec(name: string): FamilySpec {
  const f = FAMILIES.find((f) => f.name === name);
  if (!f) throw new Error(`unknown metric family ${name}`);
  return f;
}

type Collect<T> = (this: T) => void | Promise<void>;

function histogramOf(f: FamilySpec, registry: Registry): Histogram<string> {
  return new Histogram({
    name: f.name,
    help: f.help,
    labelNames: f.labels,
    buckets: [...f.buckets!],
    registers: [registry],
  });
}

function build(f: FamilySpec, registry: Registry, collect?: Collect<Gauge<string>>): Counter | Gauge | Histogram {
  const base = { name: f.name, help: f.help, labelNames: f.labels, registers: [registry] };
  switch (f.type) {
    case "counter":
      return new Counter(base);
    case "gauge":
      return new Gauge(collect ? { ...base, collect } : base);
    case "histogram":
      return histogramOf(f, registry);
  }
}

const CODES = ["1xx", "2xx", "3xx", "4xx", "5xx", "unknown"] as const;

function codeIndex(status: number): number {
  return status >= 100 && status <= 599 ? Math.floor(status / 100) - 1 : 5;
}

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
]);

/** The request series of one `location` label value. */
class LocationSeries {
  readonly total: Scalar;
  readonly current: Scalar;
  readonly received: Hist;
  readonly receivedBytes: Scalar;
  readonly responseTime: Hist;
  readonly sent: Hist;
  readonly sentBytes: Scalar;
  readonly #codes: (Scalar | undefined)[] = [];

  constructor(readonly state: ServerState, readonly location: string) {
    const labels = () => ({ location });
    this.total = state.scalar("pingap_http_requests_total").series(location, labels);
    this.current = state.scalar("pingap_http_requests_current").series(location, labels);
    this.received = state.hist("pingap_http_received").series(location, labels);
    this.receivedBytes = state.scalar("pingap_http_received_bytes").series(location, labels);
    this.responseTime = state.hist("pingap_http_response_time").series(location, labels);
    this.sent = state.hist("pingap_http_sent").series(location, labels);
    this.sentBytes = state.scalar("pingap_http_sent_bytes").series(location, labels);
  }

  /** Records a finished request. */
  finished(inBytes: number, seconds: number, sentBytes: number, code: number): void {
    this.received.observe(inBytes / 1024);
    this.receivedBytes.add(inBytes);
    this.responseTime.observe(seconds);
    this.sent.observe(sentBytes / 1024);
    if (sentBytes > 0) this.sentBytes.add(sentBytes);
    let c = this.#codes[code];
    if (c === undefined) {
      const location = this.location;
      const label = CODES[code]!;
      c = this.state.scalar("pingap_http_responses_codes").series(`${location}\n${label}`, () => ({
        location,
        code: label,
      }));
      this.#codes[code] = c;
    }
    c.add();
  }
}

/** The per-request series of one `upstream` label value. */
class UpstreamSeries {
  readonly connect: Hist;
  readonly tls: Hist;
  readonly reuses: Scalar;
  readonly processing: Hist;
  readonly response: Hist;

  constructor(state: ServerState, upstream: string) {
    const labels = () => ({ upstream });
    this.connect = state.hist("pingap_upstream_tcp_connect_time").series(upstream, labels);
    this.tls = state.hist("pingap_upstream_tls_handshake_time").series(upstream, labels);
    this.reuses = state.scalar("pingap_upstream_reuses").series(upstream, labels);
    this.processing = state.hist("pingap_upstream_processing_time").series(upstream, labels);
    this.response = state.hist("pingap_upstream_response_time").series(upstream, labels);
  }
}

/** The per-server state behind the handles. */
class ServerState {
  readonly registry = new Registry();
  refs = 0;
  readonly #m = new Map<string, Counter | Gauge | Histogram>();
  readonly #fast = new Map<string, FastFamily<Scalar | Hist>>();
  readonly #locations = new Map<string, LocationSeries>();
  readonly #upstreams = new Map<string, UpstreamSeries>();
  /** The `location=""` aggregate. */
  readonly all: LocationSeries;

  constructor(readonly server: string) {
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
      pingap_upstream_connections_current() {
        const snap = snapshot();
        if (!snap) return;
        this.reset();
        for (const u of snap) if (u.processing !== undefined) this.set({ upstream: u.upstream }, u.processing);
      },
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
      if (FAST.has(f.name)) {
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

const SERVERS = new Map<string, ServerState>();

function contentLength(ctx: ObservedRequest): number {
  const v = ctx.header("content-length");
  if (v === null) return 0;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * The metrics of server `server`: the existing registry when a handle for
 * that name is alive (reload), else a new one. Each call returns a handle to
 * {@linkcode Metrics.dispose} once.
 */
export function createMetrics(server: string): Metrics {
  let s = SERVERS.get(server);
  if (!s) {
    s = new ServerState(server);
    SERVERS.set(server, s);
  }
  s.refs++;
  const state = s;
  const all = s.all;
  let disposed = false;
  return {
    server,
    registry: s.registry,
    requestStarted(location) {
      all.total.add();
      all.current.add();
      if (location !== "") {
        const l = state.location(location);
        l.total.add();
        l.current.add();
      }
    },
    requestFinished(location) {
      all.current.add(-1);
      if (location !== "") state.location(location).current.add(-1);
    },
    observeRequest(ctx, res, sentBytes = 0, receivedBytes) {
      const location = ctx.location?.name ?? "";
      const inBytes = receivedBytes ?? contentLength(ctx);
      const seconds = ctx.elapsed() / 1000;
      const code = codeIndex(res.status);
      all.finished(inBytes, seconds, sentBytes, code);
      if (location !== "") state.location(location).finished(inBytes, seconds, sentBytes, code);
    },
    observeUpstream(upstream, o) {
      if (upstream === "") return;
      const u = state.upstream(upstream);
      if (o.connections !== undefined) state.gauge("pingap_upstream_connections").set({ upstream }, o.connections);
      if (o.processing !== undefined) {
        state.gauge("pingap_upstream_connections_current").set({ upstream }, o.processing);
      }
      if (o.connectMs !== undefined && !o.reused) u.connect.observe(o.connectMs / 1000);
      if (o.tlsHandshakeMs !== undefined) u.tls.observe(o.tlsHandshakeMs / 1000);
      if (o.reused) u.reuses.add();
      if (o.processingMs !== undefined) u.processing.observe(o.processingMs / 1000);
      if (o.responseMs !== undefined) u.response.observe(o.responseMs / 1000);
    },
    setUpstreamHealth(upstream, backend, healthy) {
      state.gauge("pingap_upstream_healthy").set({ upstream, backend }, healthy ? 1 : 0);
    },
    setCircuitState(upstream, backend, st, window) {
      const l = { upstream, backend };
      state.gauge("pingap_upstream_backend_circuit_state").set(l, typeof st === "number" ? st : CIRCUIT_STATE_CODE[st]);
      if (window?.failureRatePercent !== undefined) {
        state.gauge("pingap_upstream_backend_failure_rate").set(l, window.failureRatePercent);
      }
      if (window?.requests !== undefined) {
        state.gauge("pingap_upstream_backend_requests").set(l, Math.trunc(window.requests));
      }
    },
    observeTlsHandshake(ms) {
      state.histogram("pingap_tls_handshake_time").observe(ms / 1000);
    },
    connectionReused() {
      state.counter("pingap_connection_reuses").inc();
    },
    observeCache(o) {
      if (o.lookupMs !== undefined) state.histogram("pingap_cache_lookup_time").observe(o.lookupMs / 1000);
      if (o.lockMs !== undefined) state.histogram("pingap_cache_lock_time").observe(o.lockMs / 1000);
      if (o.reading !== undefined) state.gauge("pingap_cache_reading").set(o.reading);
      if (o.writing !== undefined) state.gauge("pingap_cache_writing").set(o.writing);
    },
    observeCompressionRatio(ratio) {
      state.histogram("pingap_compression_ratio").observe(ratio);
    },
    accessLogDropped() {
      state.counter("pingap_access_log_dropped_total").inc();
    },
    text: () => state.text(),
    async push(url) {
      await pushText(parsePushUrl(url), await state.text());
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (--state.refs > 0) return;
      if (SERVERS.get(server) === state) SERVERS.delete(server);
      state.registry.clear();
    },
  };
}

/** Server names whose metrics are alive (tests, admin). */
export function liveMetricServers(): string[] {
  return [...SERVERS.keys()];
}

/** The answer to a scrape of the pull path: 200 with the text exposition format, or 500 if collecting failed. */
export async function metricsResponse(
  metrics: Pick<Metrics, "text">,
  log: (...data: unknown[]) => void = console.error,
): Promise<Response> {
  try {
    const body = await metrics.text();
    return responseWith(body, { status: 200 }, { "content-type": TEXT_CONTENT_TYPE });
  } catch (e) {
    log("metrics: collecting failed", e);
    return responseWith("metrics collection failed", { status: 500 }, { "content-type": "text/plain; charset=utf-8" });
  }
}

/**
 * Records a finished request once the response is done with: the same
 * response, its body wrapped to count the bytes sent, and when the body
 * ends, fails or is cancelled (at once for a response without body),
 * {@linkcode Metrics.observeRequest} then {@linkcode Metrics.requestFinished}
 * for `ctx.location`. Trailers recorded for the response follow it.
 */
export function trackResponse(metrics: Metrics, ctx: ObservedRequest, res: Response, receivedBytes?: number): Response {
  const location = ctx.location?.name ?? "";
  let sentBytes = 0;
  return watchBody(res, {
    chunk: (n) => sentBytes += n,
    done() {
      metrics.observeRequest(ctx, res, sentBytes, receivedBytes);
      metrics.requestFinished(location);
    },
  });
}

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
 * The metrics of a server whose `prometheus_metrics` is `value`: undefined
 * when unset; otherwise a handle, plus the pull path or a started push
 * (see {@linkcode startPush}). A push URL that does not parse is logged and
 * the metrics are still kept.
 */
export function serverMetrics(
  server: string,
  value: string | undefined,
  options: StartPushOptions = {},
): ServerMetrics | undefined {
  const target = metricsTarget(value);
  if (!target) return undefined;
  const metrics = createMetrics(server);
  let push: PushHandle | undefined;
  if (target.kind === "push") {
    try {
      push = startPush(metrics, target.url, options);
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
