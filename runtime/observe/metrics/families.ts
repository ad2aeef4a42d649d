/**
 * The metric families: Pingap's 31 (inventory §5) and 12 of the 14 that
 * Pingap 0.16 added (the two cache ones come with the cache plugin's metrics;
 * names, help texts, label names and buckets as Pingap registers them) plus ours, and for each one
 * whether this runtime feeds it yet. Registration ({@linkcode createMetrics}
 * in `mod.ts`) and the docs are built from this one table.
 *
 * Every family carries the const label `server` except the two cache
 * storage histograms, which are process-wide in Pingap,
 * `pingap_cache_memory_evictions` (the memory cache is one per process), and
 * `pingap_uncaught_errors_total` (ours: faults belong to the isolate, not
 * to a server).
 *
 * @module
 */

/** A metric type. */
export type FamilyType = "counter" | "gauge" | "histogram";

/** One metric family. */
export interface FamilySpec {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  /** Variable label names (`server` comes on top, see {@linkcode serverLabel}). */
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
  /** False for the process-wide families without `server` (default true). */
  readonly serverLabel?: false;
  /** Why nothing feeds the family yet (the family is still registered, so its name exists); absent when fed. */
  readonly unfed?: string;
  /** Not one of Pingap's families. */
  readonly ours?: true;
}

const SIZE_KB = [1, 5, 10, 50, 100, 1000];
const CACHE_READ = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1];

/** Every family, in Pingap's registration order, then ours. */
export const FAMILIES: readonly FamilySpec[] = [
  { name: "pingap_http_requests_total", type: "counter", help: "pingap total http requests", labels: ["location"] },
  { name: "pingap_http_requests_current", type: "gauge", help: "pingap current http requests", labels: ["location"] },
  {
    name: "pingap_http_received",
    type: "histogram",
    help: "pingap http received from clients(KB)",
    labels: ["location"],
    buckets: SIZE_KB,
  },
  {
    name: "pingap_http_received_bytes",
    type: "counter",
    help: "pingap http received from clients(bytes)",
    labels: ["location"],
  },
  {
    name: "pingap_http_responses_codes",
    type: "counter",
    help: "pingap total responses sent to clients by code",
    labels: ["location", "code"],
  },
  {
    name: "pingap_http_response_time",
    type: "histogram",
    help: "pingap http response time(second)",
    labels: ["location"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  {
    name: "pingap_http_sent",
    type: "histogram",
    help: "pingap http sent to clients(KB)",
    labels: ["location"],
    buckets: [...SIZE_KB, 10000],
  },
  { name: "pingap_http_sent_bytes", type: "counter", help: "pingap http sent to clients(bytes)", labels: ["location"] },
  {
    name: "pingap_connection_reuses",
    type: "counter",
    help: "pingap connection reuses during tcp connect",
    labels: [],
  },
  {
    name: "pingap_tls_handshake_time",
    type: "histogram",
    help: "pingap tls handshake time(second)",
    labels: [],
    buckets: [0.01, 0.05, 0.1, 0.5, 1],
  },
  {
    name: "pingap_upstream_connections",
    type: "gauge",
    help: "pingap connected connections of upstream",
    labels: ["upstream"],
  },
  {
    name: "pingap_upstream_connections_current",
    type: "gauge",
    help: "pingap current connections of upstream",
    labels: ["upstream"],
  },
  {
    name: "pingap_upstream_tcp_connect_time",
    type: "histogram",
    help: "pingap upstream tcp connect time(second)",
    labels: ["upstream"],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1],
  },
  {
    name: "pingap_upstream_tls_handshake_time",
    type: "histogram",
    help: "pingap upstream tsl handshake time(second)",
    labels: ["upstream"],
    buckets: [0.01, 0.05, 0.1, 0.5, 1],
  },
  {
    name: "pingap_upstream_reuses",
    type: "counter",
    help: "pingap connection reuse during connect to upstream",
    labels: ["upstream"],
  },
  {
    name: "pingap_upstream_processing_time",
    type: "histogram",
    help: "pingap upstream processing time(second)",
    labels: ["upstream"],
    buckets: [0.01, 0.02, 0.1, 0.5, 1, 5, 10],
  },
  {
    name: "pingap_upstream_response_time",
    type: "histogram",
    help: "pingap upstream response time(second)",
    labels: ["upstream"],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1],
  },
  {
    name: "pingap_cache_lookup_time",
    type: "histogram",
    help: "pingap cache lookup time(second)",
    labels: [],
    buckets: CACHE_READ,
  },
  {
    name: "pingap_cache_lock_time",
    type: "histogram",
    help: "pingap cache lock time(second)",
    labels: [],
    buckets: [0.01, 0.05, 0.1, 1, 3],
  },
  {
    name: "pingap_cache_reading",
    type: "gauge",
    help: "pingap cache reading count",
    labels: [],
  },
  {
    name: "pingap_cache_writing",
    type: "gauge",
    help: "pingap cache writing count",
    labels: [],
  },
  {
    name: "pingap_cache_responses",
    type: "counter",
    help: "pingap cache responses by status (hit, miss, expired, revalidated)",
    labels: ["location", "status"],
  },
  {
    name: "pingap_compression_ratio",
    type: "histogram",
    help: "pingap response compression ratio",
    labels: [],
    buckets: [1, 2, 3, 5, 10],
  },
  { name: "pingap_memory", type: "gauge", help: "pingap memory size(mb)", labels: [] },
  { name: "pingap_fd_count", type: "gauge", help: "pingap open file count", labels: [] },
  { name: "pingap_tcp_count", type: "gauge", help: "pingap ipv4 tcp sockets in the network namespace", labels: [] },
  { name: "pingap_tcp6_count", type: "gauge", help: "pingap ipv6 tcp sockets in the network namespace", labels: [] },
  {
    name: "pingap_upstream_backend_failure_rate",
    type: "gauge",
    help: "pingap sliding-window backend failure rate percent (0-100)",
    labels: ["upstream", "backend"],
  },
  {
    name: "pingap_upstream_backend_requests",
    type: "gauge",
    help: "pingap sliding-window backend request count",
    labels: ["upstream", "backend"],
  },
  {
    name: "pingap_upstream_backend_circuit_state",
    type: "gauge",
    help: "pingap backend circuit state (0=closed,1=open,2=half-open)",
    labels: ["upstream", "backend"],
  },
  {
    name: "pingap_cache_storage_read_time",
    type: "histogram",
    help: "pingap cache storage read time(second)",
    labels: [],
    buckets: CACHE_READ,
    serverLabel: false,
  },
  {
    name: "pingap_cache_storage_write_time",
    type: "histogram",
    help: "pingap cache storage write time(second)",
    labels: [],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    serverLabel: false,
  },
  {
    name: "pingap_upstream_discovery_time",
    type: "gauge",
    help: "pingap service discovery time of the latest backend refresh(second)",
    labels: ["upstream"],
  },
  {
    name: "pingap_upstream_selector_build_time",
    type: "gauge",
    help: "pingap selector build time of the latest backend refresh(second)",
    labels: ["upstream"],
  },
  {
    name: "pingap_upstream_pool_eviction_idle_time",
    type: "histogram",
    help: "pingap idle time of upstream keepalive connections when evicted from the pool(second)",
    labels: [],
    buckets: [0.1, 0.5, 1, 5, 10, 30, 60],
  },
  {
    name: "pingap_http_responses_status",
    type: "counter",
    help: "pingap http responses by exact status code",
    labels: ["location", "status"],
  },
  {
    name: "pingap_upstream_errors",
    type: "counter",
    help: "pingap requests that failed because of their upstream",
    labels: ["upstream"],
  },
  {
    name: "pingap_upstream_retries",
    type: "counter",
    help: "pingap retries of requests after a failed upstream connection",
    labels: ["upstream"],
  },
  {
    name: "pingap_access_log_dropped",
    type: "counter",
    help: "pingap access log lines dropped because the logger was behind",
    labels: [],
  },
  {
    name: "pingap_config_reloads",
    type: "counter",
    help: "pingap reloads of the configuration by result",
    labels: ["result"],
  },
  {
    name: "pingap_config_last_reload_successful",
    type: "gauge",
    help: "pingap whether the last reload of the configuration was applied",
    labels: [],
  },
  {
    name: "pingap_config_last_reload_success_timestamp_seconds",
    type: "gauge",
    help: "pingap unix time the configuration was last loaded or reloaded",
    labels: [],
  },
  {
    name: "pingap_build_info",
    type: "gauge",
    help: "pingap build information, the value is always 1",
    labels: ["version", "rustc_version"],
  },
  {
    name: "pingap_start_time_seconds",
    type: "gauge",
    help: "pingap unix time this server was started",
    labels: [],
  },
  {
    name: "pingap_upstream_healthy",
    type: "gauge",
    help: "pingap upstream backend health (1=healthy,0=unhealthy)",
    labels: ["upstream", "backend"],
    ours: true,
  },
  {
    name: "pingap_access_log_dropped_total",
    type: "counter",
    help: "pingap access log lines dropped because the log queue was full",
    labels: [],
    ours: true,
  },
  {
    name: "pingap_plugin_refusals_total",
    type: "counter",
    help: "pingap requests a plugin answered with an error status (4xx/5xx), by location, plugin and status",
    labels: ["location", "plugin", "code"],
    ours: true,
  },
  {
    name: "pingap_cache_memory_evictions",
    type: "counter",
    help: "pingap memory cache evictions",
    labels: [],
    serverLabel: false,
  },
  {
    name: "pingap_uncaught_errors_total",
    type: "counter",
    help:
      "pingap faults contained: exceptions thrown in a callback (kind=error), rejections nobody awaited (kind=rejection)",
    labels: ["kind"],
    serverLabel: false,
    ours: true,
  },
];

/** Pingap's family names whose promlint problems come with the names (kept for compatibility). */
export const PINGAP_LINT_EXCEPTIONS: ReadonlyMap<string, string> = new Map([
  ["pingap_http_received_bytes", `counter metrics should have "_total" suffix`],
  ["pingap_http_responses_codes", `counter metrics should have "_total" suffix`],
  ["pingap_http_sent_bytes", `counter metrics should have "_total" suffix`],
  ["pingap_connection_reuses", `counter metrics should have "_total" suffix`],
  ["pingap_upstream_reuses", `counter metrics should have "_total" suffix`],
  ["pingap_cache_responses", `counter metrics should have "_total" suffix`],
  ["pingap_cache_memory_evictions", `counter metrics should have "_total" suffix`],
  ["pingap_fd_count", `non-histogram and non-summary metrics should not have "_count" suffix`],
  ["pingap_tcp_count", `non-histogram and non-summary metrics should not have "_count" suffix`],
  ["pingap_tcp6_count", `non-histogram and non-summary metrics should not have "_count" suffix`],
  ["pingap_http_responses_status", `counter metrics should have "_total" suffix`],
  ["pingap_upstream_errors", `counter metrics should have "_total" suffix`],
  ["pingap_upstream_retries", `counter metrics should have "_total" suffix`],
  ["pingap_access_log_dropped", `counter metrics should have "_total" suffix`],
  ["pingap_config_reloads", `counter metrics should have "_total" suffix`],
]);
