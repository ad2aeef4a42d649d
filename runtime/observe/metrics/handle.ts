/**
 * The handle a server's code holds on its metrics ({@linkcode Metrics}), and
 * the observations it is given: a request, an upstream exchange, the
 * upstreams' state at scrape time, cache figures.
 *
 * @module
 */
import type { Registry } from "prom-client";
import type { CircuitState } from "../../upstream/circuit.ts";

/** What {@linkcode Metrics.observeRequest} reads from a request ({@linkcode RequestContext} fits). */
export interface ObservedRequest {
  /** The matched location (its `name` is the `location` label). */
  readonly location?: { readonly name: string } | undefined;
  /** Milliseconds since the request started. */
  elapsed(): number;
  /** A request header (for `content-length`). */
  header(name: string): string | null;
  /** The request came on a reused client connection (`pingap_connection_reuses`); undefined: not known. */
  readonly connectionReused?: boolean | undefined;
  /** What the compression plugin's encoder did (`pingap_compression_ratio`). */
  readonly compression?: { readonly in: number; readonly out: number } | undefined;
  /** What the cache plugin did (`pingap_cache_responses`), when the location has one. */
  readonly cacheStatus?: string | undefined;
  /** The file cache the request looked in (its reads and writes in progress). */
  readonly cacheFiles?: { readonly reading: number; readonly writing: number } | undefined;
  /** The cache plugin's lookup and lock wait, ms. */
  readonly timings?: { readonly cacheLookup?: number | undefined; readonly cacheLock?: number | undefined };
}

/** Timings and counts of one upstream exchange (ms). */
export interface UpstreamObservation {
  /** Connect time (TCP, and TLS when `tlsHandshakeMs` is given); skipped when `reused` (Pingap has none then). */
  readonly connectMs?: number | undefined;
  /** Upstream TLS handshake (part of `connectMs`); skipped when `reused` or 0. */
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
  /** Live connections (idle in the pool and in use). */
  readonly connections?: number;
  /** How long the latest discovery refresh took, ms. */
  readonly discoveryMs?: number;
  /** How long the latest rebuild of the backend selector took, ms. */
  readonly selectorBuildMs?: number;
  readonly backends: readonly BackendSnapshot[];
}

/** Gives the upstreams' state at scrape time. */
export type UpstreamSource = () => Iterable<UpstreamSnapshot>;

/** Cache figures of one request (ms, counts). */
export interface CacheObservation {
  /** `pingap_cache_responses`: the status (`hit`, `miss`, `expired`) and the location. */
  readonly status?: string | undefined;
  readonly location?: string | undefined;
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
  /** A request failed because of upstream `upstream` (connect, I/O, timeout): `pingap_upstream_errors`. */
  upstreamFailed(upstream: string): void;
  /** A request to upstream `upstream` is tried again after a failed connection: `pingap_upstream_retries`. */
  upstreamRetried(upstream: string): void;
  /** Plugin `plugin` of `location` refused a request with `status` (4xx or 5xx). */
  pluginRefused(location: string, plugin: string, status: number): void;
  /** The exposition text (server registry, then the process-wide families). */
  text(): Promise<string>;
  /** Pushes the text to a Pushgateway URL once (same URL rules as a push timer, see `push.ts`); throws on failure. */
  push(url: string): Promise<void>;
  /** Releases this handle; the registry goes when the last handle of the server is released. */
  dispose(): void;
}
