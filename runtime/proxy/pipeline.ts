/**
 * The request path, in Pingap's order (inventory §2.7): route lookup,
 * body-size and concurrency limits, early_request plugins, rewrite,
 * request and proxy_upstream plugins, upstream selection with retries,
 * upstream_response and response hooks, response-body transforms, and the
 * logging hooks once the response is done. Every failure becomes a response
 * with the right status; nothing a request does can take the process down.
 *
 * Over 400 lines because it is Pingap's request path in its one order, step after step; split up, a reader would lose the order, which is what this file is for.
 *
 * @module
 */
import { applyRewrite, captures as routeCaptures, lookupRoute } from "../../compiler/mod.ts";
import type { ActiveLocation, ActivePlan, ActiveServer, ActiveUpstream } from "../lifecycle/active.ts";
import type { RequestContext } from "./context.ts";
import { errorResponse, ProxyError } from "./errors.ts";
import { appLog } from "../observe/log/app_log.ts";
import { type Metrics, metricsResponse } from "../observe/metrics/mod.ts";
import { upstreamProcessingMs } from "../observe/log/context_keys.ts";
import { watchBody } from "../http/body_end.ts";
import { reasonPhrase } from "../listen/h1/response.ts";
import { render } from "./variables.ts";
import { editable, upstreamAnswer } from "../http/response_build.ts";
import { fetchUpstreamAnswer } from "../http/fetch_adapter.ts";
import { isWebSocket, proxyWebSocket } from "./websocket.ts";
import { type Backend, ClientRequestError, UpstreamError } from "../upstream/types.ts";
import type { AbortWatch, HttpRequest, HttpResponse, RequestTimeouts } from "../http/message.ts";
import { type NamedHook, timedStep } from "./plugin_timing.ts";
import type { PluginAnswer } from "../plugins/mod.ts";
import { logDone, transformBody } from "./response_phases.ts";
import { bridgeGrpcWeb } from "./grpc_web.ts";

/**
 * Runs a step's hooks in order until one answers. Not an async function: while every hook answers at once (most do),
 * it answers at once too, and the request pays no promise or microtask per hook.
 */
function runStep(
  hooks: readonly NamedHook[],
  ctx: RequestContext,
): PluginAnswer | undefined | Promise<PluginAnswer | undefined> {
  const times = ctx.timings.plugins;
  if (times) return timedStep(hooks, ctx, times);
  for (let i = 0; i < hooks.length; i++) {
    const r = hooks[i]!.request!(ctx);
    if (r instanceof Promise) return finishStep(r, hooks, i, ctx);
    if (r !== undefined) {
      ctx.answeredBy = hooks[i]!.name;
      return r;
    }
  }
  return undefined;
}

/** The rest of {@linkcode runStep} once hook `i` answered with a promise. */
async function finishStep(
  pending: Promise<PluginAnswer | undefined>,
  hooks: readonly NamedHook[],
  i: number,
  ctx: RequestContext,
): Promise<PluginAnswer | undefined> {
  const r = await pending;
  if (r !== undefined) {
    ctx.answeredBy = hooks[i]!.name;
    return r;
  }
  for (let j = i + 1; j < hooks.length; j++) {
    const next = await hooks[j]!.request!(ctx);
    if (next !== undefined) {
      ctx.answeredBy = hooks[j]!.name;
      return next;
    }
  }
  return undefined;
}

/** Counts body bytes and fails the stream past `max` (413 while streaming). */
function limitBody(body: ReadableStream<Uint8Array>, max: number): ReadableStream<Uint8Array<ArrayBuffer>> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) controller.error(new ProxyError(413, "body_too_large", `Request Entity Too Large, max:${max}`));
        else controller.enqueue(chunk as Uint8Array<ArrayBuffer>);
      },
    }),
  );
}

/**
 * The `Upgrade` value to send for a request the HTTP/1.1 front end would splice as bytes, or null when the upstream's
 * `h1_upgrade` says it goes as a plain request (`deny`; `websocket_only` and another protocol).
 */
function bytesUpgradeOf(req: HttpRequest & { header(name: string): string | null }, policy: string): string | null {
  const value = req.header("upgrade");
  if (value === null || policy === "deny") return null;
  if (policy === "websocket_only" && value.trim().toLowerCase() !== "websocket") return null;
  return value;
}

function upstreamError(e: unknown, ctx: RequestContext, loc: ActiveLocation): ProxyError {
  if (e instanceof ProxyError) return e;
  if (e instanceof UpstreamError) {
    const cause = (e.cause as { cause?: unknown } | undefined)?.cause ?? e.cause;
    if (cause instanceof ProxyError) return cause;
    // A request the client would not send: the client's fault, said as such (and not the backend's, see `end`).
    if (e instanceof ClientRequestError) return new ProxyError(e.status, "bad_request", e.message);
    if (e.kind === "timeout") return new ProxyError(504, "upstream_timeout", `Upstream timed out: ${e.message}`);
    if (e.kind === "aborted") return new ProxyError(499, "client_closed", "Client closed the request");
    return new ProxyError(502, "upstream", `Upstream failed: ${e.message}`);
  }
  if (ctx.clientWatch.aborted) return new ProxyError(499, "client_closed", "Client closed the request");
  console.error(`internal error in location "${loc.plan.name}":`, e);
  return new ProxyError(500, "internal", "Internal error");
}

/**
 * The application log's line for a request that failed on its way to or from the upstream (Pingap's "fail to
 * proxy"). A client that went away is ordinary (info, as nginx's "client prematurely closed connection"); a request
 * the client would not send is the client's fault (warn); anything else is an error.
 */
function logFailure(error: ProxyError, ctx: RequestContext): void {
  const level = error.status === 499 ? "info" : error.status < 500 ? "warn" : "error";
  appLog(level, "fail to proxy", {
    status: error.status,
    error_type: error.type,
    error: error.message,
    location: ctx.location?.name,
    upstream_addr: ctx.upstreamAddr,
    remote_addr: ctx.remoteAddr,
    client_ip: ctx.clientIp(),
    user_agent: ctx.header("user-agent") ?? undefined,
    path: ctx.path,
  });
}

/** Bytes of request body a retry can send again; past this, a failed attempt is not retried. */
const REPLAY_LIMIT = 256 * 1024;

/**
 * A request body that survives a failed connect: each attempt gets its own
 * stream, which first replays what earlier attempts read (the client reads
 * some of the body before connecting), then continues from the source.
 * Only the first {@linkcode REPLAY_LIMIT} bytes are kept.
 */
class RetryableBody {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #seen: Uint8Array[] | undefined = [];
  #size = 0;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** False once more was read than can be replayed. */
  get replayable(): boolean {
    return this.#seen !== undefined;
  }

  /** The body for one attempt. Cancelling it leaves the source alone (see {@linkcode cancel}). */
  attempt(): ReadableStream<Uint8Array> {
    const replay = this.#seen ? [...this.#seen] : [];
    let i = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (i < replay.length) {
          controller.enqueue(replay[i++]!);
          return;
        }
        const r = await this.#reader.read();
        if (r.done) {
          controller.close();
          return;
        }
        if (this.#seen) {
          this.#size += r.value.byteLength;
          if (this.#size > REPLAY_LIMIT) this.#seen = undefined;
          else this.#seen.push(r.value);
        }
        controller.enqueue(r.value);
      },
    }, { highWaterMark: 0 });
  }

  /** Gives up on the source. */
  cancel(reason: unknown): void {
    this.#reader.cancel(reason).catch(() => {});
  }
}

/**
 * Sends the request to the upstream, with retries. With `pass`, an answer comes back as the upstream client gave it
 * (the HTTP/1.1 front end writes its head's bytes as they are); otherwise made editable, after the upstream_response
 * hooks.
 */
async function proxyTo(
  ctx: RequestContext,
  loc: ActiveLocation,
  up: ActiveUpstream,
  pass: boolean,
  metrics: Metrics | undefined,
): Promise<HttpResponse> {
  const lp = loc.plan;
  // The upstream's header options shape the copy of the client's headers, when it is made from here on.
  const policy = up.plan.headerPolicy;
  if (policy !== ctx.headerPolicy) ctx.headerPolicy = policy;
  let body = ctx.req.body;
  if (body && ctx.bodyFilter) body = ctx.bodyFilter(body);
  const max = lp.clientMaxBodySize;
  if (body && max !== undefined && ctx.header("content-length") === null) body = limitBody(body, max);
  let tried: Set<string> | undefined;
  const maxRetries = lp.maxRetries;
  const window = lp.maxRetryWindow;
  const ops = lp.setHeaders.length + lp.addHeaders.length > 0;
  // A retry renders the header operations again (`$upstream_addr` changes) on a fresh copy,
  const pristine = ops && maxRetries > 0 ? new Headers(ctx.upstreamHeaders) : undefined;
  // and sends the body again.
  const upgrade = ctx.mayUpgrade;
  const websocket = upgrade && isWebSocket(ctx.req);
  // The HTTP/1.1 front end splices an upgrade as bytes: the upstream's `h1_upgrade` says which may go as one.
  const bytesUpgrade = ctx.req.upgrade === true ? bytesUpgradeOf(ctx.req, up.plan.h1Upgrade) : undefined;
  const retryBody = body && maxRetries > 0 && !websocket ? new RetryableBody(body) : undefined;
  let lastError: unknown;
  for (let attempt = 0;; attempt++) {
    const backend: Backend | undefined = up.pick(ctx, tried);
    if (!backend) {
      // Every backend was tried: the client gets the last connect failure (502), not "none available".
      if (lastError !== undefined) {
        retryBody?.cancel(lastError);
        throw lastError;
      }
      throw new ProxyError(
        503,
        "no_upstream",
        `No available upstream for ${lp.name}: no healthy backend in "${up.plan.name}"`,
      );
    }
    ctx.upstreamAddr = backend.addr;
    // Pingap's upstream_request_filter runs after upstream_peer: the backend is known here.
    // The client's own headers go as they are unless something writes to them (a copy costs ~0.5 µs a field).
    const changed = pristine && attempt > 0
      ? new Headers(pristine)
      : ops || ctx.trace !== undefined || upgrade || bytesUpgrade === null
      ? ctx.upstreamHeaders
      : undefined;
    // A copy of the client's headers (made here or by a plugin) has no `Connection` left: its nominations are judged
    // here, by this upstream's options (a 400).
    if (attempt === 0) {
      const refused = ctx.nominationRefusal(policy);
      if (refused !== undefined) {
        retryBody?.cancel(refused);
        throw refused;
      }
    }
    if (ops) {
      for (const op of lp.setHeaders) changed!.set(op.name, render(op.value, ctx));
      for (const op of lp.addHeaders) changed!.append(op.name, render(op.value, ctx));
    }
    // A copy leaves the hop-by-hop fields out: an upgrade that may go puts its two back.
    if (changed !== undefined && typeof bytesUpgrade === "string") {
      changed.set("connection", "upgrade");
      changed.set("upgrade", bytesUpgrade);
    }
    // h1_upgrade = "deny": the handshake goes as a plain request (its Upgrade fields are hop-by-hop, left out).
    if (websocket && up.plan.h1Upgrade !== "deny") {
      const timeout = up.plan.totalConnectionTimeout ?? up.plan.connectionTimeout;
      return await proxyWebSocket(ctx, backend, {
        tls: up.plan.tls,
        headers: changed!,
        ...(timeout ? { timeout } : {}),
      });
    }
    up.begin(backend);
    const span = ctx.trace?.attempt(up.plan.name, backend.addr, changed!);
    let answer: HttpResponse;
    try {
      const sending = retryBody ? retryBody.attempt() : body;
      // The client's own fields as they came, when nothing changed them: `Headers` are then made only if read.
      const res = await up.client.request(
        backend,
        new OutgoingRequest(ctx, changed, sending, ctx.timed, lp.timeouts),
      );
      // Passed through as it came, a chunked answer too: the HTTP/1.1 front end never writes trailers (nor did
      // Deno.serve before it), so they are dropped there either way. Otherwise the hooks change its `Headers` in place:
      // for a fetch front end (`Deno.serve`) those of the `Response` it will be given.
      // A sticky upstream's new cookie makes the answer editable (Pingap writes it after the response plugins); a 101
      // with its upgraded connection goes to the front end as it came, which splices it.
      const sticky = ctx.stickyCookie;
      const response = (pass && sticky === undefined) || res.upgrade !== undefined
        ? res
        : ctx.req.fetch !== undefined
        ? fetchUpstreamAnswer(res)
        : upstreamAnswer(res);
      if (sticky !== undefined && res.upgrade === undefined) {
        const secure = ctx.scheme === "https" ? "; Secure" : "";
        response.headers.append("set-cookie", `${sticky}; Path=/; HttpOnly; SameSite=Lax${secure}`);
      }
      up.end(backend, res.status);
      ctx.upstreamStatus = res.status;
      ctx.upstreamReused = res.reused;
      ctx.timings.upstreamConnect = res.connectTime;
      ctx.timings.upstreamTls = res.tlsTime;
      ctx.timings.upstreamConnection = res.connectionTime;
      if (up.plan.tracer) ctx.upstreamConnected = up.client.connections;
      ctx.timings.upstreamResponse = res.responseTime;
      // Pingap's span attribute `upstream.connected`, with `enable_tracer`.
      span?.ok(
        res.status,
        ctx.upstreamConnected === undefined
          ? { "upstream.reused": res.reused }
          : { "upstream.reused": res.reused, "upstream.connected": ctx.upstreamConnected },
      );
      if (pass) return response;
      answer = response;
    } catch (e) {
      // A client that went away says nothing about the backend (499 is not a failure status); a request refused
      // before sending (a client error) gives no verdict at all.
      up.end(
        backend,
        e instanceof UpstreamError ? (e.kind === "aborted" ? 499 : e.kind === "request" ? null : undefined) : undefined,
      );
      span?.fail(e);
      const retriable = e instanceof UpstreamError && e.kind === "connect" && !e.requestSent &&
        (retryBody === undefined || retryBody.replayable);
      if (retriable && attempt < maxRetries && (window === undefined || ctx.elapsed() <= window)) {
        (tried ??= new Set()).add(backend.addr);
        lastError = e;
        metrics?.upstreamRetried(up.plan.name);
        continue;
      }
      // The upstream failed the request (connect, I/O, timeout); not a client that left or a request refused.
      if (e instanceof UpstreamError && e.kind !== "aborted" && e.kind !== "request") {
        metrics?.upstreamFailed(up.plan.name);
      }
      retryBody?.cancel(e);
      throw e;
    }
    // A request hook's filter sees the whole answer first (jwt signs it, image_optim converts it), so that the
    // upstream-response hooks (a cache storing it) see the answer that goes out.
    if (ctx.answerFilter) answer = await ctx.answerFilter(answer);
    for (const p of loc.upstreamResponse) p.upstreamResponse!(ctx, answer.headers, answer.status);
    return answer;
  }
}

/** The request for the upstream: the client's own fields as they came when nothing changed them, `Headers` made
 * only if read. */
class OutgoingRequest implements HttpRequest {
  readonly method: string;
  readonly target: string;
  readonly fields: readonly string[] | undefined;
  readonly raw: Uint8Array | undefined;
  readonly watch: AbortWatch;

  /**
   * @param ctx The request.
   * @param changed The headers to send when something changed them.
   * @param body The body to send.
   * @param timed Whether anything reads the upstream's response time (a timed context: a server with an access
   *   log, metrics or tracing).
   * @param timeouts The location's time limits, instead of the upstream's.
   */
  constructor(
    readonly ctx: RequestContext,
    readonly changed: Headers | undefined,
    readonly body: ReadableStream<Uint8Array> | null,
    readonly timed: boolean,
    readonly timeouts: RequestTimeouts | undefined,
  ) {
    this.method = ctx.method;
    this.target = ctx.uri;
    this.fields = changed === undefined ? ctx.outgoingFields : undefined;
    this.raw = body === null && this.fields !== undefined ? ctx.outgoingHead : undefined;
    this.watch = ctx.clientWatch;
  }

  get headers(): Headers {
    return this.changed ?? this.ctx.outgoingHeaders;
  }

  recycleBody(chunk: Uint8Array): void {
    // The client's body as it came (no limit or replay wrapped around it): the front end may take its chunk back.
    const req = this.ctx.req;
    if (this.body === req.body) req.recycleBody(chunk);
  }
}

function resolveUpstream(active: ActivePlan, ctx: RequestContext, loc: ActiveLocation): ActiveUpstream | undefined {
  if (ctx.upstreamName !== undefined) return namedUpstream(active, ctx, ctx.upstreamName);
  const ref = loc.plan.upstream;
  if (ref.kind === "upstream") return active.upstreams[ref.index];
  if (ref.kind === "variable") {
    const name = ctx.captures?.[ref.name];
    return name === undefined ? undefined : active.upstreamsByName.get(name);
  }
  return undefined;
}

/** The upstream a plugin named: `name`, or for `$var` the upstream a capture (else the environment) names. */
function namedUpstream(active: ActivePlan, ctx: RequestContext, name: string): ActiveUpstream | undefined {
  if (!name.startsWith("$")) return active.upstreamsByName.get(name);
  const v = name.slice(1);
  const resolved = ctx.captures?.[v] ?? Deno.env.get(v);
  return resolved === undefined ? undefined : active.upstreamsByName.get(resolved);
}

/**
 * The answer to a proxy error on a location: the page of its first `error_page` plugin that has one, else the
 * server's template. The page shows the message of a 4xx the proxy raised; otherwise the reason phrase (Pingap 0.16).
 */
function locationError(loc: ActiveLocation, ctx: RequestContext, err: ProxyError, template: string | undefined) {
  const pages = loc.errorPages;
  if (pages.length) {
    const message = err.status < 500 && err.type !== "upstream_status" ? err.message : reasonPhrase(err.status);
    for (const p of pages) {
      const page = p.errorPage!(ctx, err.status, message, false);
      if (page === undefined) continue;
      if (err.type !== "upstream_status") return page;
      // An intercepted answer: its upstream connection was dropped, and the client's is not kept either (Pingap).
      const closing = editable(page);
      closing.headers.set("connection", "close");
      return closing;
    }
  }
  return errorResponse(err, template);
}

/**
 * `error_page` with `intercept`: an upstream answer whose status has a page is dropped (its body cancelled, so the
 * upstream connection is not reused) and becomes a proxy error, answered by {@linkcode locationError}.
 */
async function intercept(loc: ActiveLocation, ctx: RequestContext, res: HttpResponse): Promise<void> {
  const status = res.status;
  const reason = reasonPhrase(status);
  for (const p of loc.errorPages) {
    if (p.errorPage!(ctx, status, reason, true) === undefined) continue;
    await res.body?.cancel().catch(() => {});
    throw new ProxyError(status, "upstream_status", reason);
  }
}

/**
 * Handles one request for one server of an active plan.
 */
export async function handle(
  active: ActivePlan,
  server: ActiveServer,
  ctx: RequestContext,
): Promise<HttpResponse> {
  // ACME http-01 tokens of an order in flight are answered before routing, on plain HTTP.
  if (active.challenges.pending() > 0 && ctx.scheme === "http") {
    const acme = active.challenges.answer(ctx.path);
    if (acme) return acme;
  }
  const sm = server.metrics;
  if (sm?.path !== undefined && ctx.path === sm.path) return metricsResponse(sm.metrics);
  const rank = lookupRoute(server.plan.routes, server.ranked, ctx);
  if (rank < 0) {
    return errorResponse(
      new ProxyError(404, "no_location", `No matching location, host:${ctx.host} path:${ctx.path}`),
      active.plan.basic.error_template,
    );
  }
  const loc = server.locations[rank]!;
  const lp = loc.plan;
  ctx.location = lp;
  if (loc.headerPolicy !== undefined) ctx.headerPolicy = loc.headerPolicy;
  sm?.metrics.requestStarted(lp.name);
  const caps = routeCaptures(lp, ctx);
  if (caps) ctx.captures = caps;
  const max = lp.clientMaxBodySize;
  if (max !== undefined) {
    const len = ctx.header("content-length");
    if (len !== null && Number(len) > max) {
      if (loc.logging.length) logDone(loc.logging, ctx, 413);
      return locationError(
        loc,
        ctx,
        new ProxyError(413, "body_too_large", `Request Entity Too Large, max:${max}`),
        active.plan.basic.error_template,
      );
    }
  }
  const limit = lp.maxProcessing;
  if (limit > 0 && loc.processing >= limit) {
    if (loc.logging.length) logDone(loc.logging, ctx, 429);
    return locationError(
      loc,
      ctx,
      new ProxyError(429, "too_many_requests", `Too Many Requests, max:${limit}`),
      active.plan.basic.error_template,
    );
  }
  loc.processing++;
  loc.accepted++;
  let held = false;
  /** The body's end calls `ctx.finish()` (else the pipeline does, on its way out). */
  let finishing = false;
  try {
    // Empty steps are skipped without an await (each one costs a promise and a microtask per request).
    const steps = loc.steps;
    let answer = steps.early_request.length ? runStep(steps.early_request, ctx) : undefined;
    if (answer instanceof Promise) answer = await answer;
    if (answer === undefined && lp.rewrite) {
      const r = applyRewrite(lp.rewrite, ctx.path, undefined, ctx.captures);
      if (r) {
        ctx.path = r.path;
        if (r.captures) ctx.captures = { ...ctx.captures, ...r.captures };
      }
    }
    if (answer === undefined && steps.request.length) {
      answer = runStep(steps.request, ctx);
      if (answer instanceof Promise) answer = await answer;
    }
    if (answer === undefined && steps.proxy_upstream.length) {
      answer = runStep(steps.proxy_upstream, ctx);
      if (answer instanceof Promise) answer = await answer;
    }
    if (answer !== undefined && answer.status >= 400) {
      sm?.metrics.pluginRefused(lp.name, ctx.answeredBy ?? "", answer.status);
    }
    // A plugin's answer skips the body hooks that only transform an upstream's (a cache hit goes out as its bytes).
    const bodyHooks = answer === undefined ? loc.responseBody : loc.answerBody;
    // The front end may write an answer as it is when no response hook, slot or observer changes it.
    const asIs = ctx.passThrough && limit === 0 && loc.response.length === 0 && bodyHooks.length === 0 &&
      loc.logging.length === 0 && !ctx.awaitsFinish;
    // A plugin's answer (a fixed one goes out as the bytes it was made into).
    if (answer !== undefined && asIs) return answer;
    let res: HttpResponse;
    if (answer === undefined) {
      const up = resolveUpstream(active, ctx, loc);
      if (!up) {
        const name = ctx.upstreamName ?? (lp.upstream.kind === "variable" ? `$${lp.upstream.name}` : "");
        throw new ProxyError(
          503,
          "no_upstream",
          `No available upstream for ${lp.name}${name ? ` (${name} did not resolve)` : ""}`,
        );
      }
      // gRPC-Web: the request and its answer are translated (which makes the answer not pass as it came).
      if (lp.grpcWeb) bridgeGrpcWeb(ctx);
      // Nothing left to change on the answer: the front end may write it as the upstream gave it.
      const pass = asIs && ctx.requestId === undefined && loc.upstreamResponse.length === 0 &&
        ctx.answerFilter === undefined && loc.errorPages.length === 0;
      const upstreamAnswer = await proxyTo(ctx, loc, up, pass, sm?.metrics);
      sm?.metrics.observeUpstream(up.plan.name, {
        connectMs: ctx.timings.upstreamConnect,
        tlsHandshakeMs: ctx.timings.upstreamTls,
        responseMs: ctx.timings.upstreamResponse,
        processingMs: upstreamProcessingMs(ctx),
        reused: ctx.upstreamReused,
      });
      if (pass) return upstreamAnswer;
      if (loc.errorPages.length && upstreamAnswer.status >= 400) await intercept(loc, ctx, upstreamAnswer);
      res = upstreamAnswer;
      if (ctx.requestId !== undefined && !res.headers.has("x-request-id")) {
        res.headers.set("x-request-id", ctx.requestId);
      }
      for (const p of loc.response) p.response!(ctx, res.headers, res.status);
    } else if (loc.response.length) {
      res = editable(answer);
      for (const p of loc.response) p.response!(ctx, res.headers, res.status);
    } else res = answer;
    if (bodyHooks.length) res = transformBody(bodyHooks, ctx, res);
    const logging = loc.logging.length ? loc.logging : undefined;
    if ((limit > 0 || logging || ctx.awaitsFinish) && res.body !== null) {
      // Pingap counts a request as processing until it is logged: a long download keeps its max_processing slot.
      const status = res.status;
      res = watchBody(res, {
        done: () => {
          if (limit > 0) loc.processing--;
          if (logging) logDone(logging, ctx, status);
          ctx.finish();
        },
      });
      held = limit > 0;
      finishing = true;
    } else if (logging) logDone(logging, ctx, res.status);
    return res;
  } catch (e) {
    const error = upstreamError(e, ctx, loc);
    logFailure(error, ctx);
    if (loc.logging.length) logDone(loc.logging, ctx, error.status);
    return locationError(loc, ctx, error, active.plan.basic.error_template);
  } finally {
    if (!held) loc.processing--;
    if (!finishing) ctx.finish();
  }
}
