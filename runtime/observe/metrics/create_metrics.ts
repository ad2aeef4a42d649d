/**
 * A server's {@linkcode Metrics} handle: what the request path calls
 * (requests started and finished, a request and an upstream exchange
 * recorded) and the rest of the families' entry points.
 *
 * @module
 */
import { CIRCUIT_STATE_CODE } from "../../upstream/circuit.ts";
import type { CacheObservation, Metrics, ObservedRequest } from "./handle.ts";
import { parsePushUrl, pushText } from "./push.ts";
import type { MetricsRegistries } from "./registries.ts";
import { ServerState } from "./server_state.ts";

function contentLength(ctx: ObservedRequest): number {
  const v = ctx.header("content-length");
  if (v === null) return 0;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Records what the cache plugin did for a finished request (status, lookup and lock time). */
function observeCacheOf(state: ServerState, o: CacheObservation): void {
  if (o.status !== undefined) {
    state.counter("pingap_cache_responses").inc({ location: o.location ?? "", status: o.status });
  }
  if (o.lookupMs !== undefined) state.histogram("pingap_cache_lookup_time").observe(o.lookupMs / 1000);
  if (o.lockMs !== undefined) state.histogram("pingap_cache_lock_time").observe(o.lockMs / 1000);
  if (o.reading !== undefined) state.gauge("pingap_cache_reading").set(o.reading);
  if (o.writing !== undefined) state.gauge("pingap_cache_writing").set(o.writing);
}

/**
 * The metrics of server `server` in `registries`: the existing registry when
 * a handle for that name is alive (reload), else a new one. Each call returns
 * a handle to {@linkcode Metrics.dispose} once.
 */
export function createMetrics(server: string, registries: MetricsRegistries): Metrics {
  const servers = registries.servers;
  let s = servers.get(server);
  if (!s) {
    s = new ServerState(server, () => registries.snapshot());
    servers.set(server, s);
  }
  s.refs++;
  const state = s;
  const all = s.all;
  const NO_LABELS = () => ({});
  const connectionReuses = s.scalar("pingap_connection_reuses").series("", NO_LABELS);
  const compressionRatio = s.hist("pingap_compression_ratio").series("", NO_LABELS);
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
      const status = res.status;
      all.finished(inBytes, seconds, sentBytes, status);
      if (location !== "") state.location(location).finished(inBytes, seconds, sentBytes, status);
      if (ctx.connectionReused === true) connectionReuses.add();
      const c = ctx.compression;
      if (c !== undefined && c.out > 0) compressionRatio.observe(c.in / c.out);
      const cacheStatus = ctx.cacheStatus;
      if (cacheStatus !== undefined) {
        const t = ctx.timings;
        const files = ctx.cacheFiles;
        observeCacheOf(state, {
          status: cacheStatus,
          location,
          lookupMs: t?.cacheLookup,
          lockMs: t?.cacheLock,
          reading: files?.reading,
          writing: files?.writing,
        });
      }
    },
    observeUpstream(upstream, o) {
      if (upstream === "") return;
      const u = state.upstream(upstream);
      if (o.connections !== undefined) state.gauge("pingap_upstream_connections").set({ upstream }, o.connections);
      if (o.processing !== undefined) {
        state.gauge("pingap_upstream_connections_current").set({ upstream }, o.processing);
      }
      if (!o.reused) {
        // The TCP connect alone: the TLS handshake has its own histogram.
        const tls = o.tlsHandshakeMs ?? 0;
        if (o.connectMs !== undefined) u.connect.observe((o.connectMs - tls) / 1000);
        if (tls > 0) u.tls.observe(tls / 1000);
      }
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
      connectionReuses.add();
    },
    observeCache(o) {
      observeCacheOf(state, o);
    },
    observeCompressionRatio(ratio) {
      compressionRatio.observe(ratio);
    },
    accessLogDropped() {
      state.counter("pingap_access_log_dropped_total").inc();
      state.counter("pingap_access_log_dropped").inc();
    },
    upstreamFailed(upstream) {
      state.counter("pingap_upstream_errors").inc({ upstream });
    },
    upstreamRetried(upstream) {
      state.counter("pingap_upstream_retries").inc({ upstream });
    },
    pluginRefused(location, plugin, status) {
      state.counter("pingap_plugin_refusals_total").inc({ location, plugin, code: String(status) });
    },
    text: () => state.text(),
    async push(url) {
      await pushText(parsePushUrl(url), await state.text());
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (--state.refs > 0) return;
      if (servers.get(server) === state) servers.delete(server);
      state.registry.clear();
    },
  };
}
