/**
 * One exchange of the h2 upstream client: a stream on an {@linkcode H2Session}, the request body pumped into it
 * within the backend's windows, the response head, a Web `ReadableStream` over the response body (its window given
 * back as the consumer reads), the trailers, time limits and abort.
 *
 * @module
 */

import { NULL_BODY_STATUS, type StreamHandler, StreamNotProcessed } from "./stream_handler.ts";
import { streamFailure } from "./failure.ts";
import { type AnswerFacts, joinChunks, streamAnswer, WholeAnswer } from "./answer.ts";
import { requestHeaders, responseHeaders } from "./fields.ts";
import { type UpstreamAnswer, UpstreamError } from "../types.ts";
import type { H2ExchangeContext } from "./exchange_context.ts";
import type { HttpRequest } from "../../http/message.ts";
import { CANCEL, NO_ERROR } from "../../listen/h2/frames.ts";
import { ReadLimit } from "./read_limit.ts";

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

/** One exchange; its read time limit is {@linkcode ReadLimit}'s. */
class H2Exchange extends ReadLimit implements StreamHandler {
  readonly promise: Promise<UpstreamAnswer>;
  id = 0;
  sendWindow = 0;
  recvWindow = 0;
  recvUnacked = 0;
  wake: (() => void) | undefined = undefined;
  readonly #ctx: H2ExchangeContext;
  readonly #req: HttpRequest;
  readonly #session: H2ExchangeContext["session"];
  readonly #head = Promise.withResolvers<UpstreamAnswer>();
  #trailers: PromiseWithResolvers<Headers> | undefined;
  #phase: Phase = "head";
  #reason: "timeout" | "aborted" | undefined;
  /** Why the stream failed: its reset code and a word. */
  #code = NO_ERROR;
  #detail = "";
  #trailerHeaders: Headers | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** The answer's head and timings, once the head came. */
  #facts: AnswerFacts | undefined;
  /** Body chunks that came in the read that brought the head (undefined once the answer was made). */
  #early: Uint8Array<ArrayBuffer>[] | undefined;
  /** Response bytes received and not yet counted as read (given back to the windows as the consumer reads). */
  #unacked = 0;
  /** Our side ended (END_STREAM sent, or reset). */
  #sent = false;
  /** The backend's side ended whole (END_STREAM received). */
  #ended = false;
  #released = false;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Why the request body failed, if it did. */
  #bodyError: UpstreamError | undefined;

  constructor(ctx: H2ExchangeContext, req: HttpRequest) {
    super(ctx.options.readTimeout);
    this.#ctx = ctx;
    this.#req = req;
    this.#session = ctx.session;
    this.promise = this.#head.promise;
    this.onAbort = this.onAbort.bind(this);
    this.settle = this.settle.bind(this);
    this.#start();
  }

  #start(): void {
    const req = this.#req;
    let fields: string[];
    try {
      fields = requestHeaders(req, this.#ctx.backend, this.#ctx.options.tls, this.#ctx.headerPolicy);
    } catch (error) {
      // A request refused before sending (a client error): the session is fine.
      this.#phase = "done";
      this.#release();
      this.#head.reject(error);
      return;
    }
    if (req.watch) {
      if (req.watch.aborted) return this.onAbort();
      req.watch.addEventListener("abort", this.onAbort);
    }
    // The read limit runs from here, a wait for the backend's stream limit included.
    this.armRead();
    this.#open(fields);
  }

  /** Opens the stream once the backend's stream limit lets it (the HTTP/2 stack of a client queues them so). */
  #open(fields: string[]): void {
    if (this.#phase === "done") return;
    const session = this.#session;
    if (!session.openable) {
      void session.slot().then(() => this.#open(fields));
      return;
    }
    const req = this.#req;
    try {
      session.open(this, fields, req.body === null);
    } catch (error) {
      // The session closed between picking and sending: nothing went out.
      session.close();
      this.#phase = "done";
      this.clearRead();
      req.watch?.removeEventListener("abort", this.onAbort);
      this.#release();
      this.#head.reject(
        new StreamNotProcessed(`Cannot open stream: ${(error as Error).message}`, true, { cause: error }),
      );
      return;
    }
    this.#sent = req.body === null;
    if (req.body !== null) void this.#pump(req.body);
  }

  /** The client went away. */
  onAbort(): void {
    this.#stop("aborted");
  }

  #stop(reason: "timeout" | "aborted"): void {
    if (this.#phase === "done" || this.#reason !== undefined) return;
    this.#reason = reason;
    this.#session.reset(this, CANCEL);
    this.#close(CANCEL, reason);
  }

  /** The read limit passed with no activity (a done exchange ignores it). */
  protected readTimedOut(): void {
    this.#stop("timeout");
  }

  async #pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    this.#reader = reader;
    const session = this.#session;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.#phase === "done" || this.#sent) {
          if (!done) reader.cancel().catch(ignore);
          return;
        }
        if (done) {
          this.#sent = true;
          session.send(this, EMPTY, 0, true);
          if (this.#ended) this.#close(NO_ERROR, "");
          return;
        }
        if (this.#phase === "head") this.armRead();
        let off = session.send(this, value, 0, false);
        while (off < value.byteLength) {
          await this.#waitWindow();
          if ((this.#phase as Phase) === "done") return;
          off = session.send(this, value, off, false);
        }
        if (session.full) await session.drained();
      }
    } catch (error) {
      if (this.#phase === "done") return;
      this.#bodyError = error instanceof UpstreamError
        ? error
        : new UpstreamError("aborted", "Cannot read request body: stream failed", true, { cause: error });
      this.#session.reset(this, CANCEL);
      this.#close(CANCEL, "request body failed");
    } finally {
      this.#reader = undefined;
    }
  }

  /** Waits for the backend's window to open, within the write time limit. */
  #waitWindow(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = this.#ctx.options.writeTimeout;
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      if (t !== undefined && t > 0) {
        timer = setTimeout(() => {
          this.wake = undefined;
          this.#stop("timeout");
          reject(new UpstreamError("timeout", "Cannot send request body: timed out", true));
        }, t);
      }
    });
  }

  onHeaders(fields: string[], end: boolean): void {
    if (this.#phase === "done") return;
    if (this.#phase === "body") {
      // Trailers.
      this.#trailerHeaders = responseHeaders(fields) ?? new Headers();
      if (end) this.#remoteEnd();
      return;
    }
    const status = fields[0] === ":status" ? Number(fields[1]) : NaN;
    if (!(status >= 100 && status <= 999) || (status >= 100 && status < 200 && end)) {
      this.#session.reset(this, 1);
      return this.#close(1, "a malformed response head");
    }
    // Interim answers (100 Continue, 103 Early Hints) are dropped.
    if (status < 200) return;
    const headers = responseHeaders(fields);
    if (headers === undefined) {
      this.#session.reset(this, 1);
      return this.#close(1, "an invalid response header");
    }
    const hasBody = this.#req.method !== "HEAD" && !NULL_BODY_STATUS.has(status);
    this.#phase = "body";
    this.disarmRead();
    const ctx = this.#ctx;
    const now = performance.now();
    this.#trailers = Promise.withResolvers<Headers>();
    this.#facts = {
      status,
      headers,
      reused: ctx.reused,
      connectTime: ctx.connectTime,
      tlsTime: ctx.tlsTime,
      connectionTime: now - ctx.session.openedAt,
      responseTime: now - ctx.started,
      trailers: this.#trailers.promise,
    };
    if (!hasBody) {
      this.armRead();
      this.#head.resolve(streamAnswer(this.#facts, null));
      if (end) this.#remoteEnd();
      return;
    }
    // The body often comes in the same read as the head: the frames of this read decide (whole bytes, or a stream).
    this.#early = [];
    // A head that ends the stream (a gRPC trailers-only answer) keeps its empty body stream: no bytes, no length.
    if (end) this.settle();
    else queueMicrotask(this.settle);
    if (end) this.#remoteEnd();
  }

  /** After the read that brought the head: the answer with a body stream, what came so far queued in it. */
  settle(): void {
    const early = this.#early;
    if (early === undefined) return;
    this.#early = undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => {
        // The queue is below its mark: what came is read, and goes back to the windows (the connection batches it).
        if (this.#unacked > 0) {
          this.#session.consumed(this, this.#unacked);
          this.#unacked = 0;
        }
        if (this.#phase !== "done") this.armRead();
      },
      cancel: () => {
        this.#controller = undefined;
        this.clearRead();
        if (this.#phase !== "done") {
          this.#session.reset(this, CANCEL);
          this.#close(CANCEL, "cancelled");
        }
      },
    }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
    for (const chunk of early) this.#controller!.enqueue(chunk);
    if ((this.#controller!.desiredSize ?? 0) > 0) this.armRead();
    this.#head.resolve(streamAnswer(this.#facts!, body));
  }

  onData(bytes: Uint8Array, end: boolean, flow: number): void {
    const early = this.#early;
    if (early !== undefined) {
      if (bytes.byteLength > 0) early.push(bytes.slice());
      // Given back once the body stream's consumer reads (its first pull).
      this.#unacked += flow;
      if (end) return this.#remoteEnd();
      return;
    }
    if (this.#phase !== "body") {
      if (this.#phase === "head") {
        this.#session.reset(this, 1);
        this.#close(1, "DATA before the response head");
      }
      return;
    }
    const c = this.#controller;
    if (c !== undefined && bytes.byteLength > 0) {
      try {
        c.enqueue(bytes.slice());
      } catch {
        // The consumer's stream failed under us: this stream ends, the connection goes on.
        this.#session.reset(this, CANCEL);
        return this.#close(CANCEL, "the response body's reader failed");
      }
      // Given back as the consumer reads (pull): the queue holds at most its mark and the stream's window.
      this.#unacked += flow;
      if ((c.desiredSize ?? 0) > 0) this.armRead();
      else this.disarmRead();
    } else if (flow > 0) {
      // Nobody reads (no body expected): the window goes back at once.
      this.#session.consumed(this, flow);
    }
    if (end) this.#remoteEnd();
  }

  onReset(code: number, detail: string): void {
    this.#close(code, detail);
  }

  /** The backend's END_STREAM came. */
  #remoteEnd(): void {
    this.#ended = true;
    if (!this.#sent) {
      // The answer is whole before the request body: the rest is not needed (RFC 9113 §8.1).
      this.#sent = true;
      this.#session.reset(this, NO_ERROR);
    }
    this.#close(NO_ERROR, "");
  }

  #close(code: number, detail: string): void {
    if (this.#phase === "done") return;
    const phase = this.#phase;
    this.#phase = "done";
    this.#code = code;
    this.#detail = detail;
    this.#session.finish(this);
    // What the consumer did not read yet goes back to the connection (the stream is gone).
    if (this.#unacked > 0) {
      this.#session.consumed(this, this.#unacked);
      this.#unacked = 0;
    }
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    this.clearRead();
    this.#req.watch?.removeEventListener("abort", this.onAbort);
    this.#reader?.cancel().catch(ignore);
    this.#release();
    const complete = this.#ended && !this.#ctx.closed() && code === NO_ERROR;
    this.#trailers?.resolve(complete ? this.#trailerHeaders ?? new Headers() : new Headers());
    const early = this.#early;
    if (early !== undefined) {
      // The body ended (or failed) in the read that brought the head.
      this.#early = undefined;
      if (complete) this.#head.resolve(new WholeAnswer(this.#facts!, joinChunks(early)));
      else this.#head.reject(this.#failure("read response body"));
      return;
    }
    if (phase === "head") {
      this.#head.reject(this.#failure("read response head"));
      return;
    }
    const c = this.#controller;
    this.#controller = undefined;
    if (c === undefined) return;
    if (complete) c.close();
    else c.error(this.#failure("read response body"));
  }

  #failure(what: "read response head" | "read response body"): Error {
    if (this.#bodyError !== undefined && this.#reason === undefined && !this.#ctx.closed()) return this.#bodyError;
    return streamFailure(what, {
      reason: this.#ctx.closed() ? "aborted" : this.#reason,
      code: this.#code,
      detail: this.#detail,
      // A body's reader was taken (and is cancelled with the stream): such a request is never sent again.
      untouched: this.#req.body === null,
      reused: this.#ctx.reused,
    });
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#session.release();
  }
}

const EMPTY = new Uint8Array(0);

function ignore(): void {}
