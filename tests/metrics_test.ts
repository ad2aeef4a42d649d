/**
 * Prometheus metrics end to end: a real HTTP server wired the way the
 * runtime wires it (requestStarted at location match, trackResponse on the
 * response, the pull path answered before location matching), scraped over
 * HTTP; the exposition text checked by `promtool check metrics`; a push to a
 * real local receiver; the registry kept across a reload.
 *
 * promtool's linter flags fifteen of Pingap's names (counters without
 * `_total`, gauges ending in `_count`), which we keep for compatibility: the
 * full text must parse and draw exactly those problems and no other, and
 * the text without those fifteen families must pass with exit 0.
 *
 * @module
 */
import assert from "node:assert/strict";
import { requireComponent } from "./components.ts";
import { type MetricsTarget, metricsTarget } from "../compiler/mod.ts";
import { RequestContext } from "../runtime/proxy/context.ts";
import { findSamples, sampleValue } from "../runtime/observe/metrics/exposition.ts";
import {
  configReloaded,
  createMetrics,
  type Metrics,
  MetricsRegistries,
  metricsResponse,
  observeCacheStorageRead,
  observeCacheStorageWrite,
  observePoolEviction,
  PINGAP_LINT_EXCEPTIONS,
  type ServerMetrics,
  serverMetrics,
  TEXT_CONTENT_TYPE,
  trackResponse,
} from "../runtime/observe/metrics/mod.ts";
import { FetchRequest, toFetchResponse } from "../runtime/http/fetch_adapter.ts";
import { responseWith } from "../runtime/http/response_build.ts";

/** A `prometheus_metrics` value as the compiler parses it. */
function target(value: string): MetricsTarget | undefined {
  const r = metricsTarget(value);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** The registries of this file's metrics (a proxy's, as `startProxy` makes them). */
const registries = new MetricsRegistries();

const prometheus = await requireComponent("prometheus", { binaries: ["promtool"], aptPackages: ["prometheus"] });

/** Runs `promtool check metrics` with `text` on stdin. */
async function promtool(text: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(prometheus!.promtool, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The text without the families named (their HELP, TYPE and sample lines). */
function withoutFamilies(text: string, names: Iterable<string>): string {
  const drop = new Set(names);
  return text.split("\n").filter((line) => {
    const m = /^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    return !m || !drop.has(m[1]!);
  }).join("\n");
}

/** Asserts promtool accepts the text: it parses, draws only the known Pingap-name problems, and passes without them. */
async function assertPromtoolAccepts(text: string): Promise<void> {
  const full = await promtool(text);
  assert.doesNotMatch(full.stderr, /error while linting|parsing error/, full.stderr);
  const problems = `${full.stdout}\n${full.stderr}`.split("\n").map((l) => l.trim()).filter(Boolean);
  for (const line of problems) {
    const space = line.indexOf(" ");
    const name = line.slice(0, space);
    assert.equal(line.slice(space + 1), PINGAP_LINT_EXCEPTIONS.get(name), `unexpected promtool problem: ${line}`);
  }
  assert.equal(full.code, problems.length ? 3 : 0, `promtool exit ${full.code}: ${full.stderr}`);
  const rest = await promtool(withoutFamilies(text, PINGAP_LINT_EXCEPTIONS.keys()));
  assert.equal(rest.code, 0, `promtool check metrics failed (exit ${rest.code}):\n${rest.stdout}${rest.stderr}`);
}

/** Feeds every family once. */
function feedAll(m: Metrics): void {
  m.requestStarted("loc");
  m.observeRequest({ location: { name: "loc" }, elapsed: () => 42, header: () => "10" }, { status: 200 }, 2048);
  m.requestFinished("loc");
  m.observeUpstream("up", {
    connectMs: 2,
    tlsHandshakeMs: 3,
    responseMs: 5,
    processingMs: 9,
    reused: false,
    processing: 1,
    connections: 2,
  });
  m.observeUpstream("up", { responseMs: 1, reused: true });
  m.setUpstreamHealth("up", "127.0.0.1:1", true);
  m.setCircuitState("up", "127.0.0.1:1", "closed", { failureRatePercent: 12.5, requests: 8 });
  m.observeTlsHandshake(20);
  m.connectionReused();
  m.observeCache({ status: "hit", location: "lo", lookupMs: 1, lockMs: 2, reading: 1, writing: 0 });
  m.observeCompressionRatio(3.2);
  observeCacheStorageRead(4);
  observeCacheStorageWrite(6);
  m.upstreamFailed("up");
  m.upstreamRetried("up");
  m.accessLogDropped();
  configReloaded(true);
  observePoolEviction(1500);
}

Deno.test({
  name: "promtool check metrics accepts the exposition text of every family",
  ignore: !prometheus,
  async fn() {
    const m = createMetrics("it-promtool", registries);
    try {
      feedAll(m);
      const text = await m.text();
      // All fifteen Pingap-name problems show up, since every family has samples.
      const full = await promtool(text);
      assert.equal(full.code, 3);
      for (const [name, problem] of PINGAP_LINT_EXCEPTIONS) assert.ok(full.stderr.includes(`${name} ${problem}`), name);
      await assertPromtoolAccepts(text);
      // The empty registry too (families with no samples yet).
      const empty = createMetrics("it-promtool-empty", registries);
      try {
        await assertPromtoolAccepts(await empty.text());
      } finally {
        empty.dispose();
      }
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  name: "promtool check metrics rejects a broken text (the check is real)",
  ignore: !prometheus,
  async fn() {
    const r = await promtool('# TYPE x counter\nx{a="1" 1\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error while linting/);
  },
});

/**
 * A server wired as the runtime does: the pull path first, then location
 * matching (`/loc/…` → location "loc", anything else → 404 without metrics),
 * requestStarted at the match and trackResponse on the way out.
 */
function miniServer(sm: ServerMetrics, bodySize: number) {
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (req, info): Promise<Response> => {
    const remote = info.remoteAddr;
    const ctx = new RequestContext(
      new FetchRequest(req),
      remote.hostname,
      remote.port,
      "127.0.0.1",
      server.addr.port,
      "http",
    );
    if (sm.path !== undefined && ctx.path === sm.path) return toFetchResponse(await metricsResponse(sm.metrics));
    if (!ctx.path.startsWith("/loc/")) return new Response("no location", { status: 404 });
    ctx.location = { name: "loc" } as NonNullable<RequestContext["location"]>;
    sm.metrics.requestStarted("loc");
    await req.body?.cancel();
    const status = ctx.path === "/loc/fail" ? 502 : 200;
    return toFetchResponse(trackResponse(sm.metrics, ctx, responseWith("x".repeat(bodySize), { status })));
  });
  return { server, base: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("pull: N requests to a location are scraped back over HTTP, with the aggregate", async () => {
  const sm = serverMetrics("it-pull", target("/metrics"), registries)!;
  const { server, base } = miniServer(sm, 1500);
  try {
    const N = 6;
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${base}/loc/${i}`, { method: "POST", body: "abcd", headers: { "content-length": "4" } });
      assert.equal((await res.text()).length, 1500);
    }
    const fail = await fetch(`${base}/loc/fail`);
    await fail.body?.cancel();
    const miss = await fetch(`${base}/elsewhere`);
    assert.equal(miss.status, 404);
    await miss.body?.cancel();

    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), TEXT_CONTENT_TYPE);
    const text = await res.text();
    const loc = { server: "it-pull", location: "loc" };
    const all = { server: "it-pull", location: "" };
    assert.equal(sampleValue(text, "pingap_http_requests_total", loc), N + 1);
    assert.equal(sampleValue(text, "pingap_http_requests_total", all), N + 1);
    assert.equal(sampleValue(text, "pingap_http_requests_current", loc), 0);
    assert.equal(sampleValue(text, "pingap_http_responses_codes", { ...loc, code: "2xx" }), N);
    assert.equal(sampleValue(text, "pingap_http_responses_codes", { ...all, code: "5xx" }), 1);
    assert.equal(sampleValue(text, "pingap_http_sent_bytes", loc), (N + 1) * 1500);
    assert.equal(sampleValue(text, "pingap_http_received_bytes", loc), N * 4);
    assert.equal(sampleValue(text, "pingap_http_response_time_count", loc), N + 1);
    assert.equal(sampleValue(text, "pingap_http_sent_bucket", { ...loc, le: "1" }), 0);
    assert.equal(sampleValue(text, "pingap_http_sent_bucket", { ...loc, le: "5" }), N + 1);
    // Neither the 404 nor the scrape itself is a location request.
    assert.equal(findSamples(text, "pingap_http_requests_total").length, 2);
    if (prometheus) await assertPromtoolAccepts(text);
  } finally {
    await server.shutdown();
    await sm.dispose();
  }
});

Deno.test("push: the metrics text reaches a real receiver, with basic auth and $HOSTNAME", async () => {
  const got: { path: string; auth: string | null; type: string | null; body: string }[] = [];
  const arrived = Promise.withResolvers<void>();
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({
      path: new URL(req.url).pathname,
      auth: req.headers.get("authorization"),
      type: req.headers.get("content-type"),
      body: await req.text(),
    });
    arrived.resolve();
    return new Response(null, { status: 202 });
  });
  const url = `http://pingap:s3cret@127.0.0.1:${receiver.addr.port}/metrics/job/pingap/instance/$HOSTNAME`;
  const sm = serverMetrics("it-push", target(url), registries, { intervalMs: 50, hostname: "node-a" })!;
  try {
    assert.ok(sm.push);
    for (let i = 0; i < 3; i++) {
      sm.metrics.requestStarted("loc");
      sm.metrics.observeRequest({ location: { name: "loc" }, elapsed: () => 5, header: () => null }, { status: 200 });
      sm.metrics.requestFinished("loc");
    }
    await arrived.promise;
    const first = got[0]!;
    assert.equal(first.path, "/metrics/job/pingap/instance/node-a");
    assert.equal(first.auth, `Basic ${btoa("pingap:s3cret")}`);
    assert.equal(first.type, TEXT_CONTENT_TYPE);
    assert.equal(sampleValue(first.body, "pingap_http_requests_total", { server: "it-push", location: "loc" }), 3);
    assert.equal(sampleValue(first.body, "pingap_http_requests_total", { server: "it-push", location: "" }), 3);
    if (prometheus) await assertPromtoolAccepts(first.body);
    // A one-off push through the handle, too.
    const before = got.length;
    await sm.metrics.push(url.replace("$HOSTNAME", "once"));
    assert.ok(got.slice(before).some((g) => g.path === "/metrics/job/pingap/instance/once"));
  } finally {
    await sm.dispose();
    await receiver.shutdown();
  }
});

Deno.test("push: a gateway error surfaces from Metrics.push", async () => {
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.body?.cancel();
    return new Response("no", { status: 400 });
  });
  const m = createMetrics("it-push-error", registries);
  try {
    await assert.rejects(m.push(`http://127.0.0.1:${receiver.addr.port}/x`), /status 400/);
  } finally {
    m.dispose();
    await receiver.shutdown();
  }
});

Deno.test("reload: a new plan for the same server keeps counting where the old one was", async () => {
  const old = serverMetrics("it-reload", target("/metrics"), registries)!;
  const a = miniServer(old, 10);
  try {
    for (let i = 0; i < 4; i++) await (await fetch(`${a.base}/loc/${i}`)).text();
  } finally {
    await a.server.shutdown();
  }
  // Swap protocol: activate the new plan, then dispose the old one.
  const next = serverMetrics("it-reload", target("/metrics"), registries)!;
  await old.dispose();
  const b = miniServer(next, 10);
  try {
    await (await fetch(`${b.base}/loc/x`)).text();
    const text = await (await fetch(`${b.base}/metrics`)).text();
    assert.equal(sampleValue(text, "pingap_http_requests_total", { server: "it-reload", location: "loc" }), 5);
    assert.equal(sampleValue(text, "pingap_http_requests_total", { server: "it-reload", location: "" }), 5);
  } finally {
    await b.server.shutdown();
    await next.dispose();
  }
});
