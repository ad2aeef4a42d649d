/**
 * One exchange of the h2 upstream client: a stream on an {@linkcode H2Session}, the request body pumped into it, the
 * response head, a Web `ReadableStream` over the response body, the trailers, time limits and abort.
 *
 * @module
 */

import { type ClientHttp2Stream, constants, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import type { H2Session } from "./session.ts";
import { nominations } from "../nominations.ts";
import type { HeaderPolicy } from "../../../compiler/mod.ts";
import { type Backend, type ConnectOptions, type UpstreamAnswer, UpstreamError } from "../types.ts";
import type { HttpRequest } from "../../http/message.ts";

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2), plus `host` (sent as `:authority`). */
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  "host",
]);

/** Statuses whose responses have no body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** The stream was not processed by the backend (refused, above a GOAWAY, or its session went away first). */
export class StreamNotProcessed extends Error {
  /** Creates the error; `bodyUntouched`: no byte of the request body was read, so it can be sent again. */
  constructor(message: string, readonly bodyUntouched: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "StreamNotProcessed";
  }
}

/** What one exchange needs from the client. */
export interface H2ExchangeContext {
  readonly options: ConnectOptions;
  readonly backend: Backend;
  readonly session: H2Session;
  readonly reused: boolean;
  readonly connectTime: number;
  /** The TLS handshake's part of `connectTime`, ms. */
  readonly tlsTime: number;
  /** When the request started (performance.now()). */
  readonly started: number;
  /** True once the client was closed (not merely drained): its streams end as "aborted", never as whole. */
  readonly closed: () => boolean;
  /** The upstream's request-header options when one is off. */
  readonly headerPolicy?: HeaderPolicy | undefined;
}

/**
 * The HTTP/2 request head for `req`: pseudo headers, then the request headers without connection-specific ones.
 * `te` is kept only as `trailers`, and added for gRPC (`content-type: application/grpc…`), which requires it. The
 * upstream's `policy` (options off) keeps the fields `connection` names or ignores malformed names, and keeps
 * `proxy-authorization`, `proxy-authenticate` and `trailer` (the other hop-by-hop fields HTTP/2 forbids).
 */
export function requestHeaders(
  req: HttpRequest,
  backend: Backend,
  tls: boolean,
  policy?: HeaderPolicy,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ":method": req.method,
    ":scheme": tls ? "https" : "http",
    ":authority": req.headers.get("host") || backend.addr,
    ":path": req.target || "/",
  };
  const connection = req.headers.get("connection");
  // Host, x-forwarded-* and non-tokens named there are refused (ClientRequestError), as for HTTP/1.1.
  const nominated = connection === null || (policy !== undefined && !policy.stripNominated)
    ? null
    : nominations(connection, policy?.rejectMalformed ?? true, false);
  const keepHop = policy !== undefined && !policy.stripHopByHop;
  for (const [name, value] of req.headers) {
    if (CONNECTION_SPECIFIC.has(name) || nominated?.includes(name)) continue;
    if (!keepHop && (name === "trailer" || name === "proxy-authorization" || name === "proxy-authenticate")) continue;
    if (name === "te") {
      if (value.trim().toLowerCase() === "trailers") out["te"] = "trailers";
      continue;
    }
    if (name === "set-cookie") {
      const prev = out[name];
      out[name] = Array.isArray(prev) ? [...prev, value] : [value];
      continue;
    }
    out[name] = value;
  }
  if (out["te"] === undefined && (req.headers.get("content-type") ?? "").startsWith("application/grpc")) {
    out["te"] = "trailers";
  }
  return out;
}

/** Response headers without pseudo headers. */
export function responseHeaders(h: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const name in h) {
    if (name.startsWith(":")) continue;
    const value = h[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) { for (const v of value) out.append(name, v); }
    else out.append(name, String(value));
  }
  return out;
}

type Phase = "head" | "body" | "done";

/**
 * Runs one exchange on a session whose slot is already reserved; the slot is released when the stream closes.
 *
 * @throws {StreamNotProcessed} When the backend did not process the stream (the client may retry).
 * @throws {UpstreamError} Otherwise.
 */
export function runExchange(ctx: H2ExchangeContext, req: HttpRequest): Promise<UpstreamAnswer> {
  return new H2Exchange(ctx, req).promise;
}

class H2Exchange {
  readonly promise: Promise<UpstreamAnswer>;
  readonly #ctx: H2ExchangeContext;
  readonly #req: HttpRequest;
  readonly #head = Promise.withResolvers<UpstreamAnswer>();
  readonly #trailers = Promise.withResolvers<Headers>();
  #stream: ClientHttp2Stream | undefined;
  #phase: Phase = "head";
  #reason: "timeout" | "aborted" | undefined;
  #error: Error | undefined;
  #trailerHeaders: Headers | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #paused = false;
  #ended = false;
  #readTimer: ReturnType<typeof setTimeout> | undefined;
  #released = false;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Why the request body failed, if it did. */
  #bodyError: UpstreamError | undefined;

  constructor(ctx: H2ExchangeContext, req: HttpRequest) {
    this.#ctx = ctx;
    this.#req = req;
    this.promise = this.#head.promise;
    this.onAbort = this.onAbort.bind(this);
    this.#start();
  }

  #start(): void {
    const { session } = this.#ctx;
    const req = this.#req;
    let stream: ClientHttp2Stream;
    let headers: OutgoingHttpHeaders;
    try {
      headers = requestHeaders(req, this.#ctx.backend, this.#ctx.options.tls, this.#ctx.headerPolicy);
    } catch (error) {
      // A request refused before sending (a client error): the session is fine.
      this.#release();
      this.#head.reject(error);
      return;
    }
    try {
      stream = session.session.request(headers, {
        endStream: req.body === null,
      });
    } catch (error) {
      // The session closed between picking and sending: nothing went out.
      session.close();
      this.#release();
      this.#head.reject(
        new StreamNotProcessed(`Cannot open stream: ${(error as Error).message}`, true, { cause: error }),
      );
      return;
    }
    this.#stream = stream;
    stream.on("response", (headers: IncomingHttpHeaders) => this.#onResponse(headers));
    stream.on("trailers", (headers: IncomingHttpHeaders) => {
      this.#trailerHeaders = responseHeaders(headers);
    });
    stream.on("error", (error: Error) => {
      this.#error ??= error;
    });
    stream.on("end", () => {
      this.#ended = true;
    });
    stream.once("close", () => this.#onClose());
    if (req.watch) {
      if (req.watch.aborted) this.onAbort();
      else req.watch.addEventListener("abort", this.onAbort);
    }
    this.#armRead();
    if (req.body !== null) void this.#pump(req.body, stream);
  }

  /** The client went away. */
  onAbort(): void {
    this.#stop("aborted");
  }

  #stop(reason: "timeout" | "aborted"): void {
    if (this.#phase === "done" || this.#reason !== undefined) return;
    this.#reason = reason;
    const stream = this.#stream;
    if (stream && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
  }

  #armRead(): void {
    const t = this.#ctx.options.readTimeout;
    if (t === undefined || t <= 0) return;
    clearTimeout(this.#readTimer);
    this.#readTimer = setTimeout(() => this.#stop("timeout"), t);
  }

  #disarmRead(): void {
    clearTimeout(this.#readTimer);
    this.#readTimer = undefined;
  }

  async #pump(body: ReadableStream<Uint8Array>, stream: ClientHttp2Stream): Promise<void> {
    const reader = body.getReader();
    this.#reader = reader;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (stream.destroyed || stream.closed) {
          if (!done) reader.cancel().catch(ignore);
          return;
        }
        if (done) {
          stream.end();
          return;
        }
        if (this.#phase === "head") this.#armRead();
        if (!stream.write(value)) await this.#drain(stream);
      }
    } catch (error) {
      if (stream.destroyed || stream.closed) return;
      this.#bodyError = error instanceof UpstreamError
        ? error
        : new UpstreamError("aborted", "Cannot read request body: stream failed", true, { cause: error });
      stream.close(constants.NGHTTP2_CANCEL);
    } finally {
      this.#reader = undefined;
    }
  }

  #drain(stream: ClientHttp2Stream): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = this.#ctx.options.writeTimeout;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        stream.off("drain", done);
        stream.off("close", done);
        resolve();
      };
      stream.once("drain", done);
      stream.once("close", done);
      if (t !== undefined && t > 0) {
        timer = setTimeout(() => {
          stream.off("drain", done);
          stream.off("close", done);
          this.#stop("timeout");
          reject(new UpstreamError("timeout", "Cannot send request body: timed out", true));
        }, t);
      }
    });
  }

  #onResponse(h: IncomingHttpHeaders): void {
    if (this.#phase !== "head") return;
    const stream = this.#stream!;
    const status = Number(h[":status"]);
    const headers = responseHeaders(h);
    const hasBody = this.#req.method !== "HEAD" && !NULL_BODY.has(status);
    let body: ReadableStream<Uint8Array> | null = null;
    this.#phase = "body";
    this.#disarmRead();
    if (hasBody) {
      body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => {
          if (this.#phase === "done") return;
          if (this.#paused) {
            this.#paused = false;
            stream.resume();
          }
          this.#armRead();
        },
        cancel: () => {
          this.#controller = undefined;
          this.#disarmRead();
          if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
        },
      }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
      stream.on("data", (chunk: Uint8Array) => {
        const c = this.#controller;
        if (c === undefined) return;
        c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((c.desiredSize ?? 0) <= 0) {
          this.#paused = true;
          stream.pause();
          this.#disarmRead();
        } else this.#armRead();
      });
    } else {
      this.#armRead();
      stream.resume();
    }
    const ctx = this.#ctx;
    const now = performance.now();
    this.#head.resolve({
      status,
      statusText: "",
      headers,
      body,
      editable: true,
      reused: ctx.reused,
      connectTime: ctx.connectTime,
      tlsTime: ctx.tlsTime,
      connectionTime: now - ctx.session.openedAt,
      responseTime: now - ctx.started,
      trailers: this.#trailers.promise,
    });
  }

  #onClose(): void {
    const phase = this.#phase;
    this.#phase = "done";
    this.#disarmRead();
    this.#req.watch?.removeEventListener("abort", this.onAbort);
    this.#reader?.cancel().catch(ignore);
    this.#release();
    const stream = this.#stream!;
    const code = stream.rstCode ?? constants.NGHTTP2_NO_ERROR;
    // A client closed under it cuts the stream, which may still report its end: that body is not whole.
    const complete = this.#ended && !this.#ctx.closed() &&
      (code === constants.NGHTTP2_NO_ERROR || code === undefined);
    this.#trailers.resolve(complete ? this.#trailerHeaders ?? new Headers() : new Headers());
    if (phase === "head") {
      this.#head.reject(this.#failure("read response head", code));
      return;
    }
    const c = this.#controller;
    this.#controller = undefined;
    if (c === undefined) return;
    if (complete) c.close();
    else c.error(this.#failure("read response body", code));
  }

  #failure(what: string, code: number): Error {
    const ctx = this.#ctx;
    const sent = true;
    if (this.#reason === "timeout") return new UpstreamError("timeout", `Cannot ${what}: timed out`, sent);
    if (this.#reason === "aborted" || ctx.closed()) {
      return new UpstreamError("aborted", `Cannot ${what}: aborted`, sent);
    }
    if (this.#bodyError !== undefined) return this.#bodyError;
    const id = this.#stream?.id;
    const last = ctx.session.goawayLastStreamId;
    if (what === "read response head") {
      if (code === constants.NGHTTP2_REFUSED_STREAM) {
        return new StreamNotProcessed("Stream refused by the backend (REFUSED_STREAM)", this.#req.body === null);
      }
      if (id === undefined || (last !== undefined && id > last)) {
        return new StreamNotProcessed("Stream not processed: the backend sent GOAWAY", this.#req.body === null);
      }
      const s = ctx.session.session;
      if ((s.closed || s.destroyed) && ctx.reused) {
        return new StreamNotProcessed("Stream not processed: the connection closed", this.#req.body === null, {
          cause: this.#error,
        });
      }
    }
    const detail = this.#error?.message ?? (code ? `stream reset (code ${code})` : "stream closed");
    return new UpstreamError("protocol", `Cannot ${what}: ${detail}`, sent, { cause: this.#error });
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#ctx.session.release();
  }
}

function ignore(): void {}
