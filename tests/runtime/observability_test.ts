/**
 * Observability end to end (issue 5): the access log in a file target with
 * the exact values of a real exchange, W3C trace context through the proxy
 * with spans exported to a real OTLP/HTTP receiver, and Server-Timing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { compileToml, rawJson, rawRequest } from "../_support/proxy.ts";
import { startOtlpReceiver } from "../_support/otlp.ts";
import { startProxy } from "../../runtime/lifecycle/start.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";

Deno.test("access log file and OpenTelemetry: exact line values, trace id kept, new span id upstream", async () => {
  const origin = await startEchoOrigin("main");
  const otlp = await startOtlpReceiver();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/logs/access.log`;
  const format = "{method} {uri} {status} {host} {remote} {size} {latency} {request_id} {~sid} {>x-custom} " +
    "{<x-origin} {:upstream_addr} {:location} {:upstream_reused} {:upstream_status} {when_unix}";
  const plan = compileToml(`
[servers.s]
addr = "127.0.0.1:0"
access_log = "${file}?rolling=never ${format}"
otlp_exporter = "${otlp.url}?scheduled_delay=50ms"
locations = ["api"]
[locations.api]
path = "/api"
upstream = "main"
plugins = ["pingap:requestId"]
[upstreams.main]
addrs = ["${origin.addr}"]
enable_tracer = true
`);
  const proxy = await startProxy(plan);
  const port = proxy.listening[0]!.port;
  try {
    const before = Date.now();
    const t0 = performance.now();
    const res = await rawRequest(port, "GET", "/api/items?x=1", {
      host: "shop.test",
      cookie: "sid=s1; other=2",
      "x-custom": "hello",
      traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01`,
      tracestate: "vendor=1",
    });
    const took = performance.now() - t0;
    assert.equal(res.status, 200);
    const echo = rawJson<Echo>(res);
    const rid = res.headers["x-request-id"];
    assert.ok(rid, "the request_id plugin set an id");
    // A second request without cookie, custom header or trace context.
    const res2 = await rawRequest(port, "GET", "/api/two", { host: "shop.test" });
    assert.equal(res2.status, 200);
    await proxy.shutdown(); // Writes what is queued and closes the file.

    const lines = (await Deno.readTextFile(file)).trimEnd().split("\n");
    assert.equal(lines.length, 2, lines.join("\n"));
    const first = lines[0]!.split(" ");
    const latency = first[6]!;
    const when = first[15]!;
    assert.deepEqual(first, [
      ..."GET /api/items?x=1 200 shop.test 127.0.0.1".split(" "),
      String(res.body.length),
      latency,
      rid,
      ..."s1 hello main".split(" "),
      origin.addr,
      ..."api false 200".split(" "),
      when,
    ]);
    // The values only the proxy can know exactly, bounded by what the client saw.
    assert.match(latency, /^\d+$/);
    assert.ok(Number(latency) <= took, `latency ${latency} ms within the ${took} ms the client waited`);
    assert.ok(Number(when) >= before && Number(when) <= Date.now(), `when_unix ${when}`);
    // No cookie: nothing; no header: "-".
    assert.match(
      lines[1]!,
      new RegExp(`^GET /api/two 200 shop\\.test 127\\.0\\.0\\.1 ${res2.body.length} \\d+ \\S+  - main `),
    );

    // Trace context: the origin got the client's trace id with the proxy's client span as parent.
    const upstreamParent = echo.headers["traceparent"]!.match(/^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/);
    assert.ok(upstreamParent, String(echo.headers["traceparent"]));
    assert.equal(upstreamParent[1], TRACE_ID);
    assert.notEqual(upstreamParent[2], CLIENT_SPAN);
    assert.equal(echo.headers["tracestate"], "vendor=1");

    await otlp.waitFor((spans) => spans.some((s) => s.traceId === TRACE_ID && s.kind === 3));
    const ours = otlp.spans.filter((s) => s.traceId === TRACE_ID);
    const server = ours.find((s) => s.kind === 2);
    const client = ours.find((s) => s.kind === 3);
    assert.ok(server && client, JSON.stringify(otlp.spans));
    assert.equal(server.parentSpanId, CLIENT_SPAN, "the server span continues the client's span");
    assert.equal(client.parentSpanId, server.spanId, "the upstream span is the server span's child");
    assert.equal(client.spanId, upstreamParent[2], "the upstream saw the client span's id");
    assert.equal(client.name, "upstream.main");
    assert.equal(server.attributes["http.status_code"], 200);
    assert.equal(client.attributes["upstream.addr"], origin.addr);
    // enable_tracer: the upstream's live connections when the answer came (the one just made).
    assert.equal(client.attributes["upstream.connected"], 1);
    // The second request started a trace of its own.
    assert.ok(otlp.spans.some((s) => s.traceId !== TRACE_ID && s.kind === 2));
  } finally {
    await proxy.shutdown().catch(() => {});
    await otlp.close();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Server-Timing, stats figures, a daily-rolled access file and the drop counter in /metrics", async () => {
  const origin = await startEchoOrigin("main");
  const dir = await Deno.makeTempDir();
  const plan = compileToml(`
[servers.s]
addr = "127.0.0.1:0"
enable_server_timing = true
prometheus_metrics = "/metrics"
access_log = "${dir}/access.log {when} {status} {:location}"
locations = ["api", "stats"]
[locations.api]
path = "/api"
upstream = "main"
[locations.stats]
path = "/stats"
plugins = ["pingap:stats"]
[upstreams.main]
addrs = ["${origin.addr}"]
`);
  const before = Date.now();
  const proxy = await startProxy(plan);
  const url = `http://127.0.0.1:${proxy.listening[0]!.port}`;
  try {
    const api = await fetch(`${url}/api`);
    await api.body?.cancel();
    assert.match(
      api.headers.get("server-timing") ?? "",
      /^upstream\.connect;dur=\d+, upstream\.processing;dur=\d+, (upstream;dur=\d+, )?total;dur=\d+$/,
    );
    const stats = await fetch(`${url}/stats`);
    assert.match(
      stats.headers.get("server-timing") ?? "",
      /^(plugin\.pingap:stats;dur=\d+, plugin;dur=\d+, )?total;dur=\d+$/,
    );
    const figures = await stats.json() as Record<string, unknown>;
    for (
      const key of [
        "processing",
        "accepted",
        "location_processing",
        "location_accepted",
        "hostname",
        "version",
        "rustc_version",
        "start_time",
        "uptime",
        "memory_mb",
        "memory",
        "total_memory",
        "used_memory",
        "arch",
        "cpus",
        "physical_cpus",
        "threads",
        "fd_count",
        "tcp_count",
        "tcp6_count",
      ]
    ) assert.ok(key in figures, `stats has ${key}`);
    assert.ok((figures.fd_count as number) > 0 && (figures.threads as number) > 0, JSON.stringify(figures));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^pingap_access_log_dropped_total\{server="s"\} 0$/m);
  } finally {
    await proxy.shutdown();
  }
  try {
    // Daily rolling (the default): the file name carries the UTC date.
    const names = [before, Date.now()].map((t) => `access.log.${new Date(t).toISOString().slice(0, 10)}`);
    const found = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.ok(found.length >= 1 && found.every((n) => names.includes(n)), `${found} in ${names}`);
    const text = (await Promise.all(found.map((n) => Deno.readTextFile(`${dir}/${n}`)))).join("");
    const lines = text.replace(/\n$/, "").split("\n");
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines[2]!, / 200 $/, "the /metrics scrape is logged too, without location");
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d 200 api$/);
    assert.match(lines[1]!, / 200 stats$/);
  } finally {
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
