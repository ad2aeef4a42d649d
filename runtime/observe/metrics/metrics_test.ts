/**
 * Unit tests of the per-server metrics: request families with their
 * `location=""` aggregate, histogram buckets, reload survival, upstream
 * families (direct and from a live upstream registry), response tracking.
 */
import assert from "node:assert/strict";
import { compileSources, type MetricsTarget, metricsTarget, type UpstreamPlan } from "../../../compiler/mod.ts";
import { RequestContext } from "../../proxy/context.ts";
import { UpstreamRegistry } from "../../upstream/registry.ts";
import type { UpstreamClient } from "../../upstream/types.ts";
import { findSamples, parseExposition, sampleValue } from "./exposition.ts";
import {
  createMetrics,
  FAMILIES,
  MetricsRegistries,
  metricsResponse,
  observeCacheStorageRead,
  type ObservedRequest,
  observePoolEviction,
  registrySource,
  serverMetrics,
  TEXT_CONTENT_TYPE,
  trackResponse,
} from "./mod.ts";
import { FetchRequest } from "../../http/fetch_adapter.ts";
import { responseWith } from "../../http/response_build.ts";
import { fromFetchResponse } from "../../http/fetch_adapter.ts";

/** A `prometheus_metrics` value as the compiler parses it. */
function target(value: string): MetricsTarget | undefined {
  const r = metricsTarget(value);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** The registries of this file's metrics (a proxy's, as `startProxy` makes them). */
const registries = new MetricsRegistries();

function req(location: string | undefined, elapsedMs = 12, contentLength?: number): ObservedRequest {
  return {
    ...(location !== undefined ? { location: { name: location } } : {}),
    elapsed: () => elapsedMs,
    header: (n) => (n === "content-length" && contentLength !== undefined ? String(contentLength) : null),
  };
}

/** One request as the runtime records it: started at match, observed and finished at the end. */
function record(
  m: ReturnType<typeof createMetrics>,
  location: string,
  status = 200,
  sent = 0,
  received?: number,
): void {
  m.requestStarted(location);
  m.observeRequest(req(location), { status }, sent, received);
  m.requestFinished(location);
}

Deno.test('requests: N for a location, and the location="" aggregate over all locations', async () => {
  const m = createMetrics("unit-requests", registries);
  try {
    for (let i = 0; i < 7; i++) record(m, "loc");
    for (let i = 0; i < 3; i++) record(m, "other", 404);
    const text = await m.text();
    assert.equal(sampleValue(text, "pingap_http_requests_total", { server: "unit-requests", location: "loc" }), 7);
    assert.equal(sampleValue(text, "pingap_http_requests_total", { server: "unit-requests", location: "other" }), 3);
    assert.equal(sampleValue(text, "pingap_http_requests_total", { server: "unit-requests", location: "" }), 10);
    assert.equal(sampleValue(text, "pingap_http_requests_current", { server: "unit-requests", location: "" }), 0);
    const codes = { server: "unit-requests" };
    assert.equal(sampleValue(text, "pingap_http_responses_codes", { ...codes, location: "loc", code: "2xx" }), 7);
    assert.equal(sampleValue(text, "pingap_http_responses_codes", { ...codes, location: "other", code: "4xx" }), 3);
    assert.equal(sampleValue(text, "pingap_http_responses_codes", { ...codes, location: "", code: "2xx" }), 7);
    assert.equal(sampleValue(text, "pingap_http_responses_codes", { ...codes, location: "", code: "4xx" }), 3);
    // Every series carries the server label.
    for (const s of parseExposition(text)) {
      const processWide = s.name.startsWith("pingap_cache_storage_") || s.name === "pingap_cache_memory_evictions";
      if (!processWide) assert.equal(s.labels.server, "unit-requests", s.name);
    }
  } finally {
    m.dispose();
  }
});

Deno.test("requests: in flight between requestStarted and requestFinished", async () => {
  const m = createMetrics("unit-current", registries);
  try {
    m.requestStarted("a");
    m.requestStarted("a");
    m.requestStarted("b");
    let text = await m.text();
    assert.equal(sampleValue(text, "pingap_http_requests_current", { server: "unit-current", location: "a" }), 2);
    assert.equal(sampleValue(text, "pingap_http_requests_current", { server: "unit-current", location: "" }), 3);
    m.requestFinished("a");
    m.requestFinished("b");
    text = await m.text();
    assert.equal(sampleValue(text, "pingap_http_requests_current", { server: "unit-current", location: "a" }), 1);
    assert.equal(sampleValue(text, "pingap_http_requests_current", { server: "unit-current", location: "b" }), 0);
    assert.equal(sampleValue(text, "pingap_http_requests_current", { server: "unit-current", location: "" }), 1);
    // A request recorded without a location counts in the aggregate only.
    m.requestStarted("");
    text = await m.text();
    assert.equal(sampleValue(text, "pingap_http_requests_total", { server: "unit-current", location: "" }), 4);
    assert.equal(findSamples(text, "pingap_http_requests_total").length, 3);
  } finally {
    m.dispose();
  }
});

Deno.test("requests: sizes, response time and status classes", async () => {
  const m = createMetrics("unit-sizes", registries);
  try {
    m.requestStarted("loc");
    m.observeRequest(req("loc", 30, 2048), { status: 201 }, 3 * 1024);
    m.requestFinished("loc");
    m.observeRequest(req("loc", 2), { status: 302 }, 0, 10);
    m.observeRequest(req("loc", 2), { status: 503 });
    m.observeRequest(req("loc", 2), { status: 101 });
    m.observeRequest(req("loc", 2), { status: 700 });
    const text = await m.text();
    const l = { server: "unit-sizes", location: "loc" };
    assert.equal(sampleValue(text, "pingap_http_received_bytes", l), 2048 + 10);
    assert.equal(sampleValue(text, "pingap_http_received_sum", l), 2 + 10 / 1024);
    assert.equal(sampleValue(text, "pingap_http_received_count", l), 5);
    assert.equal(sampleValue(text, "pingap_http_sent_bytes", l), 3072);
    assert.equal(sampleValue(text, "pingap_http_sent_sum", l), 3);
    assert.equal(sampleValue(text, "pingap_http_sent_count", l), 5);
    assert.equal(sampleValue(text, "pingap_http_sent_bucket", { ...l, le: "1" }), 4);
    assert.equal(sampleValue(text, "pingap_http_sent_bucket", { ...l, le: "5" }), 5);
    assert.ok(Math.abs(sampleValue(text, "pingap_http_response_time_sum", l)! - 0.038) < 1e-9);
    assert.equal(sampleValue(text, "pingap_http_response_time_bucket", { ...l, le: "0.005" }), 4);
    assert.equal(sampleValue(text, "pingap_http_response_time_bucket", { ...l, le: "0.05" }), 5);
    for (const [code, n] of [["1xx", 1], ["2xx", 1], ["3xx", 1], ["5xx", 1], ["unknown", 1]] as const) {
      assert.equal(sampleValue(text, "pingap_http_responses_codes", { ...l, code }), n, code);
    }
    // sent_bytes is only counted when > 0 (Pingap): the aggregate equals the location's.
    assert.equal(sampleValue(text, "pingap_http_sent_bytes", { server: "unit-sizes", location: "" }), 3072);
  } finally {
    m.dispose();
  }
});

Deno.test("histograms: Pingap's buckets, +Inf, sum and count", async () => {
  const m = createMetrics("unit-buckets", registries);
  try {
    record(m, "loc", 200, 10, 10);
    m.observeUpstream("up", { connectMs: 1, responseMs: 1, processingMs: 1, tlsHandshakeMs: 1 });
    observePoolEviction(2000);
    m.observeCompressionRatio(2.5);
    const text = await m.text();
    for (const f of FAMILIES) {
      if (f.type !== "histogram") continue;
      const samples = findSamples(text, `${f.name}_bucket`);
      const les = [...new Set(samples.map((s) => s.labels.le))];
      assert.deepEqual(les, [...f.buckets!.map(String), "+Inf"], f.name);
      assert.ok(findSamples(text, `${f.name}_sum`).length > 0, f.name);
      assert.ok(findSamples(text, `${f.name}_count`).length > 0, f.name);
    }
    assert.deepEqual(
      [...new Set(findSamples(text, "pingap_http_response_time_bucket").map((s) => s.labels.le))],
      ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"],
    );
  } finally {
    m.dispose();
  }
});

Deno.test("every family is exposed, with its type", async () => {
  const m = createMetrics("unit-families", registries);
  try {
    const text = await m.text();
    for (const f of FAMILIES) {
      assert.match(text, new RegExp(`^# TYPE ${f.name} ${f.type}$`, "m"), f.name);
    }
    // Pingap 0.16 has 45 (with pingap_cache_responses and pingap_cache_memory_evictions).
    assert.equal(FAMILIES.filter((f) => !f.ours).length, 45);
    // The two cache storage histograms are process-wide: no server label.
    observeCacheStorageRead(2);
    const after = await m.text();
    const count = sampleValue(after, "pingap_cache_storage_read_time_count");
    assert.ok(count !== undefined && count >= 1);
    assert.equal(findSamples(after, "pingap_cache_storage_read_time_count", { server: "unit-families" }).length, 0);
  } finally {
    m.dispose();
  }
});

Deno.test("reload: metrics for the same server name keep their values; the last dispose drops them", async () => {
  const first = createMetrics("unit-reload", registries);
  for (let i = 0; i < 5; i++) record(first, "loc");
  // A reload: the new plan acquires before the old one releases.
  const second = createMetrics("unit-reload", registries);
  first.dispose();
  first.dispose(); // idempotent
  assert.equal(second.registry, first.registry);
  for (let i = 0; i < 2; i++) record(second, "loc");
  let text = await second.text();
  assert.equal(sampleValue(text, "pingap_http_requests_total", { server: "unit-reload", location: "loc" }), 7);
  assert.ok(registries.live().includes("unit-reload"));
  second.dispose();
  assert.ok(!registries.live().includes("unit-reload"));
  const fresh = createMetrics("unit-reload", registries);
  try {
    text = await fresh.text();
    assert.equal(
      sampleValue(text, "pingap_http_requests_total", { server: "unit-reload", location: "loc" }),
      undefined,
    );
  } finally {
    fresh.dispose();
  }
});

Deno.test("registry.resetMetrics zeroes the per-request families in place; counting goes on", async () => {
  const m = createMetrics("unit-reset", registries);
  try {
    record(m, "loc", 200, 100);
    m.observeUpstream("up", { responseMs: 1, reused: true });
    m.registry.resetMetrics();
    let text = await m.text();
    assert.equal(findSamples(text, "pingap_http_requests_total").length, 0);
    assert.equal(findSamples(text, "pingap_http_response_time_count").length, 0);
    assert.equal(findSamples(text, "pingap_upstream_reuses").length, 0);
    record(m, "loc");
    text = await m.text();
    assert.equal(sampleValue(text, "pingap_http_requests_total", { server: "unit-reset", location: "loc" }), 1);
    assert.equal(sampleValue(text, "pingap_http_response_time_count", { server: "unit-reset", location: "" }), 1);
  } finally {
    m.dispose();
  }
});

Deno.test("servers are independent; no duplicate registration", async () => {
  const a = createMetrics("unit-a", registries);
  const b = createMetrics("unit-b", registries);
  try {
    record(a, "loc");
    const tb = await b.text();
    assert.equal(sampleValue(tb, "pingap_http_requests_total", { server: "unit-b", location: "loc" }), undefined);
    assert.equal(findSamples(tb, "pingap_http_requests_total", { server: "unit-a" }).length, 0);
    const ta = await a.text();
    assert.equal(sampleValue(ta, "pingap_http_requests_total", { server: "unit-a", location: "loc" }), 1);
  } finally {
    a.dispose();
    b.dispose();
  }
});

Deno.test("upstream: timings in seconds, reuse counted, connect skipped when reused", async () => {
  const m = createMetrics("unit-upstream", registries);
  try {
    m.observeUpstream("up", { connectMs: 20, responseMs: 40, processingMs: 60, reused: false, processing: 3 });
    m.observeUpstream("up", { connectMs: 0, responseMs: 10, reused: true });
    m.observeUpstream("", { responseMs: 10 });
    const text = await m.text();
    const l = { server: "unit-upstream", upstream: "up" };
    assert.equal(sampleValue(text, "pingap_upstream_tcp_connect_time_count", l), 1);
    assert.equal(sampleValue(text, "pingap_upstream_tcp_connect_time_sum", l), 0.02);
    assert.equal(sampleValue(text, "pingap_upstream_response_time_count", l), 2);
    assert.equal(sampleValue(text, "pingap_upstream_response_time_sum", l), 0.05);
    assert.equal(sampleValue(text, "pingap_upstream_processing_time_sum", l), 0.06);
    assert.equal(sampleValue(text, "pingap_upstream_reuses", l), 1);
    assert.equal(sampleValue(text, "pingap_upstream_connections_current", l), 3);
    assert.equal(findSamples(text, "pingap_upstream_response_time_count").length, 1);
  } finally {
    m.dispose();
  }
});

Deno.test("upstream: health and circuit setters", async () => {
  const m = createMetrics("unit-setters", registries);
  try {
    m.setUpstreamHealth("up", "127.0.0.1:1", true);
    m.setUpstreamHealth("up", "127.0.0.1:2", false);
    m.setCircuitState("up", "127.0.0.1:2", "half-open", { failureRatePercent: 37.5, requests: 8.9 });
    m.setCircuitState("up", "127.0.0.1:1", 1);
    const text = await m.text();
    const b1 = { server: "unit-setters", upstream: "up", backend: "127.0.0.1:1" };
    const b2 = { ...b1, backend: "127.0.0.1:2" };
    assert.equal(sampleValue(text, "pingap_upstream_healthy", b1), 1);
    assert.equal(sampleValue(text, "pingap_upstream_healthy", b2), 0);
    assert.equal(sampleValue(text, "pingap_upstream_backend_circuit_state", b2), 2);
    assert.equal(sampleValue(text, "pingap_upstream_backend_circuit_state", b1), 1);
    assert.equal(sampleValue(text, "pingap_upstream_backend_failure_rate", b2), 37.5);
    assert.equal(sampleValue(text, "pingap_upstream_backend_requests", b2), 8);
  } finally {
    m.dispose();
  }
});

Deno.test("upstream source: gauges rebuilt at each scrape, gone backends disappear", async () => {
  let backends = [
    { backend: "10.0.0.1:80", healthy: true, state: "closed" as const, failureRatePercent: 0, requests: 4 },
    { backend: "10.0.0.2:80", healthy: false, state: "open" as const, failureRatePercent: 100, requests: 2 },
  ];
  const m = createMetrics("unit-source", new MetricsRegistries(() => [{ upstream: "up", processing: 5, backends }]));
  try {
    let text = await m.text();
    const l = { server: "unit-source", upstream: "up" };
    assert.equal(sampleValue(text, "pingap_upstream_connections_current", l), 5);
    assert.equal(sampleValue(text, "pingap_upstream_healthy", { ...l, backend: "10.0.0.2:80" }), 0);
    assert.equal(sampleValue(text, "pingap_upstream_backend_circuit_state", { ...l, backend: "10.0.0.2:80" }), 1);
    assert.equal(sampleValue(text, "pingap_upstream_backend_failure_rate", { ...l, backend: "10.0.0.2:80" }), 100);
    assert.equal(sampleValue(text, "pingap_upstream_backend_requests", { ...l, backend: "10.0.0.1:80" }), 4);
    backends = backends.slice(0, 1);
    text = await m.text();
    assert.equal(findSamples(text, "pingap_upstream_healthy", { backend: "10.0.0.2:80" }).length, 0);
    assert.equal(findSamples(text, "pingap_upstream_backend_circuit_state", { backend: "10.0.0.2:80" }).length, 0);
    assert.equal(sampleValue(text, "pingap_upstream_healthy", { ...l, backend: "10.0.0.1:80" }), 1);
  } finally {
    m.dispose();
  }
});

function upstreamPlan(body: string, name: string): UpstreamPlan {
  const r = compileSources([{ file: "t.toml", text: `[upstreams.${name}]\n${body}\n` }]);
  if (!r.plan) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.plan.upstreams[0]!;
}

Deno.test("registrySource: health, breaker stats and in-flight from a live UpstreamRegistry", async () => {
  const origin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("ok"));
  const client: UpstreamClient = {
    request: () => Promise.reject(new Error("not used")),
    prune: () => {},
    close: () => {},
  };
  const registry = new UpstreamRegistry({ createClient: () => client });
  const m = createMetrics("unit-registry", new MetricsRegistries(registrySource(registry)));
  try {
    const addr = `127.0.0.1:${origin.addr.port}`;
    const plan = upstreamPlan(
      `addrs = ["${addr}"]\nhealth_check = "http://u/?check_frequency=10s"\nenable_backend_stats = true`,
      "web",
    );
    const state = registry.acquire(plan);
    await state.ready;
    const b = state.pick(undefined)!;
    state.begin(b);
    state.end(b, 500);
    state.begin(b);
    state.end(b, 200);
    state.begin(b); // one in flight
    const text = await m.text();
    const l = { server: "unit-registry", upstream: "web", backend: addr };
    assert.equal(sampleValue(text, "pingap_upstream_healthy", l), 1);
    assert.equal(sampleValue(text, "pingap_upstream_backend_circuit_state", l), 0);
    assert.equal(sampleValue(text, "pingap_upstream_backend_requests", l), 2);
    assert.equal(sampleValue(text, "pingap_upstream_backend_failure_rate", l), 50);
    assert.equal(
      sampleValue(text, "pingap_upstream_connections_current", { server: "unit-registry", upstream: "web" }),
      1,
    );
    state.end(b, 200);
  } finally {
    m.dispose();
    await registry.dispose();
    await origin.shutdown();
  }
});

Deno.test("process gauges are refreshed at scrape", async () => {
  const m = createMetrics("unit-process", registries);
  try {
    const text = await m.text();
    const mem = sampleValue(text, "pingap_memory", { server: "unit-process" });
    const fds = sampleValue(text, "pingap_fd_count", { server: "unit-process" });
    assert.ok(mem !== undefined && mem > 0 && Number.isInteger(mem), `memory ${mem}`);
    assert.ok(fds !== undefined && fds > 0, `fds ${fds}`);
    // A listener is a TCP socket of the namespace: the count includes it.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const tcp = sampleValue(await m.text(), "pingap_tcp_count", { server: "unit-process" });
      assert.ok(tcp !== undefined && tcp >= 1, `tcp ${tcp}`);
    } finally {
      l.close();
    }
    assert.ok(sampleValue(text, "pingap_tcp6_count", { server: "unit-process" }) !== undefined);
  } finally {
    m.dispose();
  }
});

Deno.test("trackResponse: counts the body as it is sent, then finishes the request once", async () => {
  const m = createMetrics("unit-track", registries);
  try {
    const request = new Request("http://example.com/a", {
      method: "POST",
      body: "x".repeat(300),
      headers: { "content-length": "300" },
    });
    const ctx = new RequestContext(new FetchRequest(request), "127.0.0.1", 1, "127.0.0.1", 2, "http");
    ctx.location = { name: "loc" } as NonNullable<RequestContext["location"]>;
    m.requestStarted("loc");
    const trailers = Promise.resolve(new Headers({ "x-t": "1" }));
    const upstream = fromFetchResponse(
      new Response(new Blob([new Uint8Array(5000)]).stream(), { status: 206, statusText: "Partial" }),
      trailers,
    );
    const res = trackResponse(m, ctx, upstream);
    assert.equal(res.status, 206);
    assert.equal(res.statusText, "Partial");
    assert.equal(res.trailers, trailers);
    let text = await m.text();
    assert.equal(sampleValue(text, "pingap_http_requests_current", { server: "unit-track", location: "loc" }), 1);
    assert.equal((await new Response(res.body).arrayBuffer()).byteLength, 5000);
    text = await m.text();
    const l = { server: "unit-track", location: "loc" };
    assert.equal(sampleValue(text, "pingap_http_requests_current", l), 0);
    assert.equal(sampleValue(text, "pingap_http_sent_bytes", l), 5000);
    assert.equal(sampleValue(text, "pingap_http_received_bytes", l), 300);
    assert.equal(sampleValue(text, "pingap_http_responses_codes", { ...l, code: "2xx" }), 1);
    await request.body?.cancel();
  } finally {
    m.dispose();
  }
});

Deno.test("trackResponse: a cancelled body and a body-less response finish too", async () => {
  const m = createMetrics("unit-cancel", registries);
  try {
    const ctx = req("loc");
    m.requestStarted("loc");
    let cancelled = false;
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(10));
      },
      cancel() {
        cancelled = true;
      },
    });
    const res = trackResponse(m, ctx, responseWith(source, {}));
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel("client went away");
    assert.ok(cancelled);
    m.requestStarted("loc");
    const empty = responseWith(null, { status: 204 });
    assert.equal(trackResponse(m, ctx, empty), empty);
    const text = await m.text();
    const l = { server: "unit-cancel", location: "loc" };
    assert.equal(sampleValue(text, "pingap_http_requests_current", l), 0);
    assert.equal(sampleValue(text, "pingap_http_sent_bytes", l), 10);
    assert.equal(sampleValue(text, "pingap_http_sent_count", l), 2);
  } finally {
    m.dispose();
  }
});

Deno.test("metricsResponse: 200 with the exposition content type", async () => {
  const m = createMetrics("unit-response", registries);
  try {
    record(m, "loc");
    const res = await metricsResponse(m);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), TEXT_CONTENT_TYPE);
    const text = await new Response(res.body).text();
    assert.equal(sampleValue(text, "pingap_http_requests_total", { server: "unit-response", location: "loc" }), 1);
    const logged: unknown[] = [];
    const failing = await metricsResponse({ text: () => Promise.reject(new Error("boom")) }, (...a) => logged.push(a));
    assert.equal(logged.length, 1);
    assert.equal(failing.status, 500);
    await failing.body?.cancel();
  } finally {
    m.dispose();
  }
});

Deno.test("metricsTarget / serverMetrics: path pulls, URL pushes, unset is nothing", async () => {
  assert.equal(target("  "), undefined);
  assert.deepEqual(target("/metrics"), { kind: "pull", path: "/metrics" });
  assert.deepEqual(target("http://gw:9091/metrics/job/x"), {
    kind: "push",
    url: "http://gw:9091/metrics/job/x",
    intervalMs: 60_000,
  });
  assert.equal(serverMetrics("unit-sm", undefined, registries), undefined);
  const pull = serverMetrics("unit-sm", target("/metrics"), registries)!;
  assert.equal(pull.path, "/metrics");
  assert.equal(pull.push, undefined);
  const logs: string[] = [];
  const push = serverMetrics("unit-sm", target("http://127.0.0.1:9/metrics/job/x"), registries, {
    log: (l) => logs.push(l),
  })!;
  assert.equal(push.path, undefined);
  assert.equal(push.push?.intervalMs, 60_000);
  assert.equal(push.metrics.registry, pull.metrics.registry);
  // A push URL that does not parse is refused by check (compile_test.ts), never started.
  assert.throws(() => target("http://[bad/x"), /does not parse/);
  await push.dispose();
  await pull.dispose();
  assert.ok(!registries.live().includes("unit-sm"));
});
