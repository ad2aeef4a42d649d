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
 * reads the setting). The registry lives outside the Plan, in the proxy's
 * {@linkcode MetricsRegistries}, keyed by server name and reference-counted:
 * a reload acquires the handle of the new plan before the old plan disposes
 * its own, so counters and histograms carry on, and nothing is registered
 * twice.
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
 * `pingap_tcp_count`, `pingap_tcp6_count` (see `process.ts`), and, when the
 * {@linkcode MetricsRegistries} has an upstream source (see {@linkcode registrySource}),
 * `pingap_upstream_connections_current`, `pingap_upstream_backend_*` and
 * `pingap_upstream_healthy`, rebuilt from the source at each scrape so
 * backends that went away disappear.
 *
 * `pingap_tls_handshake_time` is fed by the TLS listeners (`runtime/tls/listener.ts`, time from accept to
 * handshake done); `pingap_connection_reuses` and `pingap_compression_ratio` from the request's facts at
 * {@linkcode Metrics.observeRequest}; `pingap_upstream_errors` and `pingap_upstream_retries` by the pipeline;
 * `pingap_upstream_connections`, `pingap_upstream_discovery_time` and `pingap_upstream_selector_build_time` from the
 * upstream source at scrape. The process facts (`pingap_config_*`, `pingap_build_info`,
 * `pingap_start_time_seconds`, `pingap_upstream_pool_eviction_idle_time`) are shared families registered in every
 * server registry (`process_facts.ts`).
 *
 * Families registered but fed elsewhere: the `pingap_cache_*` families, by the cache plugin (`FAMILIES` marks those
 * not fed yet with `unfed` and why). docs/observability.md lists every family.
 *
 * Ours, not Pingap's: `pingap_upstream_healthy{upstream,backend}` (1 healthy,
 * 0 not), `pingap_access_log_dropped_total` (access-log lines dropped
 * because the queue was full, see runtime/observe/log/access_sink.ts),
 * `pingap_plugin_refusals_total{location,plugin,code}` (requests a plugin
 * answered with a 4xx or 5xx: ip/ua/referer restriction, limit, …), and the
 * process-wide `pingap_uncaught_errors_total{kind}` (faults contained, see
 * runtime/process/contain.ts).
 *
 * Names are Pingap's, so promtool's linter reports fifteen of them (counters
 * without `_total`, gauges ending in `_count`): see `PINGAP_LINT_EXCEPTIONS`.
 *
 * Each worker isolate runs its own proxy, so with several workers each has
 * its own registries: a scrape sees the worker that took the connection.
 *
 * This file is a door: it only re-exports; each file beside it holds one part.
 *
 * @module
 */
export { FAMILIES, PINGAP_LINT_EXCEPTIONS } from "./families.ts";
export {
  parsePushUrl,
  type PushHandle,
  type PushTarget,
  PushTimers,
  type StartPushOptions,
  TEXT_CONTENT_TYPE,
  withHostname,
} from "./push.ts";
export { MetricsRegistries } from "./registries.ts";
export type {
  BackendSnapshot,
  BackendWindow,
  CacheObservation,
  Metrics,
  ObservedRequest,
  UpstreamObservation,
  UpstreamSnapshot,
  UpstreamSource,
} from "./handle.ts";
export {
  countCacheEvictions,
  countUncaughtError,
  observeCacheStorageRead,
  observeCacheStorageWrite,
  processRegistry,
} from "./process_wide.ts";
export { registrySource } from "./upstream_source.ts";
export { configReloaded, observePoolEviction } from "./process_facts.ts";
export { createMetrics } from "./create_metrics.ts";
export { metricsResponse } from "./metrics_response.ts";
export { trackResponse } from "./track_response.ts";
export { type MetricsTarget, type ServerMetrics, serverMetrics } from "./server_metrics.ts";
