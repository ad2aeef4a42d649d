/**
 * What a server records about each request, set up once per server when
 * a plan is activated: the access log (`access_log`), Prometheus request
 * metrics (`prometheus_metrics`), OpenTelemetry spans (`otlp_exporter`) and
 * the `Server-Timing` header (`enable_server_timing`). A server with none
 * of them gets no observer, and its requests pay nothing.
 *
 * When the response has been sent, the metrics are recorded, the access-log
 * line is built and queued, and the server span ends. A response with a
 * known length is not touched: the listener's `completed` promise says when
 * it was delivered. A streamed body is watched once ({@linkcode watchBody})
 * and its bytes counted as they pass.
 *
 * @module
 */
import type { ServerPlan } from "../../compiler/mod.ts";
import { watchBody } from "../http/body_end.ts";
import type { RequestContext } from "../proxy/context.ts";
import { type AccessLine, compileAccessLine } from "./log/access_line.ts";
import { type AccessLogFiles, type AccessSink, openAccessSink } from "./log/access_sink.ts";
import { type AccessFilter, accessFilter } from "./log/access_filter.ts";
import type { Metrics } from "./metrics/mod.ts";
import type { TracePipeline } from "./otel/exporter.ts";
import { loadedTracing } from "./otel/load.ts";
import { knownBodySize } from "../http/response_build.ts";
import type { HttpResponse } from "../http/message.ts";
import { serverTiming, withHeader } from "./server_timing.ts";

/** Options of {@linkcode serverObserver}. */
export interface ObserverOptions {
  /** Receives access-log lines instead of the configured target (tests, embedding). */
  readonly log?: ((line: string) => void) | undefined;
  /** Reports a setting that could not be applied. */
  readonly warn?: ((message: string) => void) | undefined;
  /** The proxy's open access-log files, shared across its generations (default: files of this observer's own). */
  readonly accessLogs?: AccessLogFiles | undefined;
}

/** The per-server observer. */
export interface ServerObserver {
  /** A request arrived (before routing). */
  begin(ctx: RequestContext): void;
  /**
   * The response to send for it; `processing` is the requests in flight
   * when it arrived, `completed` the listener's promise that the response
   * was delivered (`Deno.ServeHandlerInfo.completed`).
   */
  finish(ctx: RequestContext, res: HttpResponse, processing: number, completed?: Promise<void>): HttpResponse;
  /**
   * It only records (access log, metrics): the front end may write an upstream's answer as it came, and
   * {@linkcode finish} takes it as it is. False with `enable_server_timing` (a header to add) or tracing.
   */
  readonly passes: boolean;
  /** Flushes and frees the access-log target and the trace pipeline. */
  dispose(): Promise<void>;
}

const NO_BODY = new Set([101, 204, 304]);

/**
 * Body bytes a response sends when it is delivered whole, or undefined when only counting can tell. `res.body` is
 * read last (see `knownBodySize`): reading it turns a whole body into a stream.
 */
function knownSize(ctx: RequestContext, res: HttpResponse): number | undefined {
  if (ctx.method === "HEAD" || NO_BODY.has(res.status)) return 0;
  return knownBodySize(res);
}

/** The observer of a server, or undefined when it records nothing. */
export function serverObserver(
  sp: ServerPlan,
  metrics: Metrics | undefined,
  options: ObserverOptions = {},
): ServerObserver | undefined {
  const timing = sp.enableServerTiming;
  let pipeline: TracePipeline | undefined;
  const exporter = sp.otlpExporter;
  const tracing = exporter ? loadedTracing() : undefined;
  if (exporter && tracing === undefined) {
    options.warn?.(`server "${sp.name}": otlp_exporter ignored: the tracing modules were not loaded`);
  }
  if (exporter && tracing !== undefined) {
    try {
      pipeline = tracing.exporter.startTracePipeline(sp.name, exporter);
    } catch (e) {
      options.warn?.(`server "${sp.name}": otlp_exporter ignored: ${(e as Error).message}`);
    }
  }
  const line: AccessLine | undefined = sp.accessLog
    ? compileAccessLine(sp.accessLog.parts, { json: sp.accessLog.json === true })
    : undefined;
  if (!line && !metrics && !pipeline && !timing) return undefined;
  // `skip`, `min_status`, `min_latency`, `sample` on the target: asked before the line is made.
  const allows: AccessFilter | undefined = sp.accessLog?.filter ? accessFilter(sp.accessLog.filter) : undefined;
  const sink: AccessSink | undefined = sp.accessLog
    ? openAccessSink(sp.accessLog.file, options.log, options.accessLogs)
    : undefined;
  const tracer = pipeline?.tracer;
  const RequestTrace = tracing?.requestTrace.RequestTrace;
  return {
    begin(ctx) {
      if (tracer && RequestTrace) ctx.trace = new RequestTrace(tracer, ctx);
      if (timing) ctx.timings.plugins = {};
    },
    passes: !timing && pipeline === undefined,
    finish(ctx, res, processing, completed) {
      const out = timing ? withHeader(res, "server-timing", serverTiming(ctx)) : res;
      const m = metrics && ctx.location ? metrics : undefined;
      const trace = ctx.trace;
      if (!line && !m && !trace) return out;
      const location = ctx.location?.name ?? "";
      let size = 0;
      const done = () => {
        if (m) {
          m.observeRequest(ctx, out, size);
          m.requestFinished(location);
        }
        if (line && (allows === undefined || allows(ctx.uri, out.status, ctx.elapsed()))) {
          const record = {
            ctx,
            status: out.status,
            response: out,
            size,
            processing,
            now: Date.now(),
            elapsed: ctx.elapsed(),
          };
          if (!sink!.write(line(record))) metrics?.accessLogDropped();
        }
        trace?.end(out.status, { "http.client_ip": ctx.clientIp(), "http.response_size": size });
      };
      const known = completed && knownSize(ctx, out);
      if (known === undefined) {
        // Counted as it streams.
        return watchBody(out, { chunk: (n) => size += n, done });
      }
      // The size is known: no stream wrapper, the listener says when the response was delivered.
      size = known;
      completed!.then(done, () => {
        size = 0; // Cut off: how much got out is not known.
        done();
      });
      return out;
    },
    async dispose() {
      await sink?.release();
      await pipeline?.shutdown();
    },
  };
}
