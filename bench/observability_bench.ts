/**
 * What observability adds to one request, on the request path only (no
 * sockets): the per-server observer with nothing on, the access log
 * (`combined`, to a file target, lines queued), Prometheus request
 * metrics, both, OpenTelemetry (server span, one upstream span with W3C
 * propagation, OTel SDK with its batch processor and an exporter that
 * drops), and Server-Timing. Each iteration builds a request context and
 * runs `begin` and `finish` as `serve.ts` does, the response being
 * delivered at once.
 *
 * `deno bench -A bench/observability_bench.ts`. With `OTEL_DENO=true`, the
 * "otel: built-in" row times Deno's own OpenTelemetry behind the same
 * `@opentelemetry/api` calls (one process-wide exporter set by environment
 * variables, which is why the proxy uses the SDK: `otlp_exporter` is per
 * server and changes on reload).
 *
 * @module
 */
import { trace } from "@opentelemetry/api";
import { compileSources, type ServerPlan } from "../compiler/mod.ts";
import { RequestContext } from "../runtime/proxy/context.ts";
import { createMetrics, MetricsRegistries } from "../runtime/observe/metrics/mod.ts";
import { serverObserver } from "../runtime/observe/observer.ts";
import { RequestTrace } from "../runtime/observe/otel/request_trace.ts";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

const dir = await Deno.makeTempDir();

function server(keys: string): ServerPlan {
  const { plan } = compileSources([{
    file: "bench.toml",
    text: `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n${keys}\n[locations.l]\npath = "/"\n`,
  }]);
  return plan!.servers[0]!;
}

const request = new Request("http://shop.test/api/items?x=1", {
  headers: { host: "shop.test", "user-agent": "bench/1.0", referer: "http://a.test/", cookie: "sid=1" },
});
const body = "x".repeat(18);
const done = Promise.resolve();

function newContext(): RequestContext {
  return new RequestContext(request, "127.0.0.1", 50000, "127.0.0.1", 6188, "http");
}

const metrics = createMetrics("bench", new MetricsRegistries());
const variants: [string, ServerPlan][] = [
  ["nothing on", server("")],
  ["access log (file, combined)", server(`access_log = "${dir}/access.log?rolling=never combined"`)],
  ["metrics", server("")],
  ["access log + metrics", server(`access_log = "${dir}/access2.log?rolling=never combined"`)],
  ["otel (SDK, batch)", server(`otlp_exporter = "http://127.0.0.1:9/v1/traces?scheduled_delay=1h"`)],
  ["server-timing", server("enable_server_timing = true")],
];
const location = compileSources([{
  file: "l.toml",
  text: `[servers.s]\naddr="127.0.0.1:0"\nlocations=["l"]\n[locations.l]\npath="/"\n`,
}]).plan!
  .locations[0]!;

for (const [name, sp] of variants) {
  const m = name.includes("metrics") ? metrics : undefined;
  const observer = serverObserver(sp, m);
  Deno.bench({ group: "request", name, baseline: name === "nothing on" }, () => {
    const ctx = newContext();
    observer?.begin(ctx);
    ctx.location = location;
    m?.requestStarted("l");
    const headers = new Headers();
    ctx.trace?.attempt("up", "127.0.0.1:8080", headers)?.ok(200);
    ctx.upstreamAddr = "127.0.0.1:8080";
    ctx.upstreamStatus = 200;
    ctx.timings.upstreamConnect = 0.3;
    ctx.timings.upstreamResponse = 0.9;
    const res = new Response(body, { headers: { "content-length": "18" } });
    observer ? observer.finish(ctx, res, 1, done) : res;
  });
}

// Span cost alone: the SDK as the proxy sets it up, and Deno's built-in OpenTelemetry when OTEL_DENO=true.
const provider = new TracerProvider({
  spanProcessors: [
    new BatchSpanProcessor({
      exporter: { export: (_spans, cb) => cb({ code: 0 }), shutdown: () => Promise.resolve() },
      scheduledDelayMillis: 1000,
    }),
  ],
});
const sdkTracer = provider.getTracer("bench");
Deno.bench({ group: "span", name: "otel: SDK server + client span", baseline: true }, () => {
  const ctx = newContext();
  const t = new RequestTrace(sdkTracer, ctx);
  t.attempt("up", "127.0.0.1:8080", new Headers()).ok(200);
  t.end(200, {});
});
if (Deno.env.get("OTEL_DENO") === "true") {
  const builtin = trace.getTracer("bench");
  Deno.bench({ group: "span", name: "otel: built-in server + client span" }, () => {
    const t = new RequestTrace(builtin, newContext());
    t.attempt("up", "127.0.0.1:8080", new Headers()).ok(200);
    t.end(200, {});
  });
}
