/**
 * The spans of one request: a server span whose parent is the client's
 * W3C `traceparent`/`tracestate` (when valid), and a client span per
 * upstream attempt whose context replaces `traceparent`/`tracestate` on the
 * upstream request. Created only for servers with `otlp_exporter`; other
 * requests carry no trace object at all.
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { TextMapGetter, TextMapSetter, Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { RequestContext } from "../../proxy/context.ts";

const propagator = new W3CTraceContextPropagator();

const getter: TextMapGetter<Headers> = {
  get: (h, key) => h.get(key) ?? undefined,
  keys: (h) => [...h.keys()],
};

const setter: TextMapSetter<Headers> = {
  set: (h, key, value) => h.set(key, value),
};

/** One upstream attempt's span. */
export interface AttemptSpan {
  /** The upstream answered with `status`. */
  ok(status: number, attrs?: Attributes): void;
  /** The attempt failed. */
  fail(error: unknown): void;
}

/** The trace of one request (`RequestContext.trace`). */
export class RequestTrace {
  readonly #tracer: Tracer;
  readonly span: Span;
  readonly #parent: Context;

  /** Starts the server span, continuing the client's trace when its headers carry one. */
  constructor(tracer: Tracer, ctx: RequestContext) {
    this.#tracer = tracer;
    const remote = propagator.extract(ROOT_CONTEXT, ctx.req.headers, getter);
    this.span = tracer.startSpan(ctx.path, {
      kind: SpanKind.SERVER,
      attributes: { "http.method": ctx.method, "http.url": ctx.uri, "http.host": ctx.host },
    }, remote);
    this.#parent = trace.setSpan(ROOT_CONTEXT, this.span);
  }

  /** The ids of the server span (for `X-Trace-Id` / `X-Span-Id`). */
  get ids(): { traceId: string; spanId: string } {
    const c = this.span.spanContext();
    return { traceId: c.traceId, spanId: c.spanId };
  }

  /** Starts the client span of an attempt on `upstream`/`addr` and writes its context into `headers`. */
  attempt(upstream: string, addr: string, headers: Headers): AttemptSpan {
    const span = this.#tracer.startSpan(`upstream.${upstream}`, {
      kind: SpanKind.CLIENT,
      attributes: { "upstream.addr": addr },
    }, this.#parent);
    headers.delete("tracestate");
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter);
    return {
      ok(status, attrs) {
        span.setAttribute("http.status_code", status);
        if (attrs) span.setAttributes(attrs);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
      fail(error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
        span.end();
      },
    };
  }

  /** Ends the server span once the response was sent. */
  end(status: number, attrs: Attributes): void {
    this.span.setAttribute("http.status_code", status);
    this.span.setAttributes(attrs);
    if (status >= 500) this.span.setStatus({ code: SpanStatusCode.ERROR });
    this.span.end();
  }
}
