/**
 * One HTTP/2 stream of a connection (RFC 9113 §5.1), as a server sees it: open once its request head came, half
 * closed (remote) once the client's END_STREAM came, closed once ours went too, or on a reset. It holds the request
 * body's chunks until the handler reads them (the client can send no more than the window we gave: bounded), and the
 * send window of the response.
 *
 * @module
 */
import type { ClientWatch, WireRequest } from "../h1/request.ts";
import { PROTOCOL_ERROR, StreamError } from "./frames.ts";

/** What the stream asks of its connection. */
export interface StreamHost {
  /** `n` bytes of the body were handed to the handler: the windows may be opened again. */
  consumed(stream: H2Stream, n: number): void;
  /** The handler cancelled the body before its end: the stream is reset (CANCEL). */
  cancelled(stream: H2Stream): void;
  /** The handler reads the body first of a request that asked for `100-continue`: the interim answer goes. */
  continued(stream: H2Stream): void;
}

/** A stream. */
export class H2Stream {
  /** The client's END_STREAM came. */
  remoteEnded = false;
  /** Our END_STREAM (or trailers) went out. */
  localEnded = false;
  /** Closed: both ends ended, or reset. */
  closed = false;
  /** The request, once its head came. */
  req: WireRequest | undefined;
  /** What the client may still send on it (the window we gave minus what came). */
  recvWindow: number;
  /** Bytes the handler read that no WINDOW_UPDATE gave back yet. */
  unacked = 0;
  /** What we may still send on it. */
  sendWindow: number;
  /** The request's content-length, or -1. */
  contentLength = -1;
  /** Body bytes received. */
  received = 0;
  /** `Date.now()` since when the handler waits for body bytes that do not come, -1 when it does not wait. */
  bodyWaitingSince = -1;
  /** `Date.now()` since when the response waits for window, -1 when it does not wait. */
  blockedSince = -1;
  /** Wakes the response when a window opens or the stream closes. */
  windowWake: (() => void) | undefined;
  /** The request method was HEAD. */
  head = false;
  /** The request asked for `100-continue` and it did not go yet. */
  expectContinue = false;
  /** The response's head went out. */
  headSent = false;
  #queue: Uint8Array[] = [];
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #wake: (() => void) | undefined;
  #error: unknown;
  #body: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;

  /**
   * @param id The stream identifier.
   * @param host Its connection.
   * @param watch Tells the handler when the client went away.
   * @param recvWindow The window the client starts with.
   * @param sendWindow Ours, as the client's settings say.
   */
  constructor(
    readonly id: number,
    readonly host: StreamHost,
    readonly watch: ClientWatch,
    recvWindow: number,
    sendWindow: number,
  ) {
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  /** The request body as a stream (made once). */
  body(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return this.#body ??= new ReadableStream<Uint8Array<ArrayBuffer>>({
      start: (c) => {
        this.#controller = c as ReadableStreamDefaultController<Uint8Array>;
      },
      pull: (c) => {
        const next = this.#queue.shift();
        if (next !== undefined) {
          c.enqueue(next as Uint8Array<ArrayBuffer>);
          this.host.consumed(this, next.byteLength);
          return;
        }
        if (this.#error !== undefined) return void c.error(this.#error);
        if (this.remoteEnded) return void c.close();
        if (this.expectContinue) {
          this.expectContinue = false;
          this.host.continued(this);
        }
        this.bodyWaitingSince = Date.now();
        return new Promise<void>((resolve) => this.#wake = resolve);
      },
      cancel: () => {
        this.#queue.length = 0;
        if (!this.remoteEnded && !this.closed) this.host.cancelled(this);
      },
    }, { highWaterMark: 0 });
  }

  /** Would `size` more body bytes go past the request's content-length (then {@linkcode receive} throws)? */
  beyondLength(size: number): boolean {
    return this.contentLength >= 0 && this.received + size > this.contentLength;
  }

  /**
   * `size` bytes of body came at `off` of `b` (copied), with the client's END_STREAM when `end`.
   *
   * @throws {StreamError} PROTOCOL_ERROR when the body runs past or ends short of its content-length.
   */
  receive(b: Uint8Array, off: number, size: number, end: boolean): void {
    this.received += size;
    if (this.req !== undefined) this.req.bodyRead = this.received;
    if (this.contentLength >= 0 && this.received > this.contentLength) {
      throw new StreamError(this.id, PROTOCOL_ERROR, "more DATA than the content-length");
    }
    if (size > 0) this.push(b.slice(off, off + size));
    if (end) this.end();
  }

  /** The client's END_STREAM came. @throws {StreamError} when the body ended short of its content-length. */
  end(): void {
    if (this.contentLength >= 0 && this.received !== this.contentLength) {
      throw new StreamError(this.id, PROTOCOL_ERROR, "DATA shorter than the content-length");
    }
    this.remoteEnded = true;
    this.endBody();
  }

  /** Bytes of the body came (a copy the stream keeps). */
  push(chunk: Uint8Array): void {
    const wake = this.#wake;
    if (wake !== undefined && this.#queue.length === 0) {
      this.#wake = undefined;
      this.bodyWaitingSince = -1;
      this.#controller!.enqueue(chunk);
      this.host.consumed(this, chunk.byteLength);
      wake();
      return;
    }
    this.#queue.push(chunk);
  }

  /** The body ended (after {@linkcode remoteEnded} was set). */
  endBody(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    this.bodyWaitingSince = -1;
    if (this.#queue.length === 0) this.#controller!.close();
    wake();
  }

  /** The body failed (reset, connection gone): the handler's read rejects. */
  failBody(error: unknown): void {
    if (this.remoteEnded && this.#queue.length === 0) return;
    this.#error = error;
    this.#queue.length = 0;
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      this.bodyWaitingSince = -1;
      try {
        this.#controller!.error(error);
      } catch { /* closed */ }
      wake();
    }
  }

  /**
   * The stream closed: on `error` its handler is told the client went (body read fails, watch aborted, `completed`
   * rejects), else its response went out whole (a body the client had not ended is ended for the handler).
   */
  finish(error: unknown): void {
    this.closed = true;
    if (error !== undefined || !this.localEnded) {
      const e = error ?? new Deno.errors.Interrupted("The stream closed");
      this.failBody(e);
      this.watch.abort(e);
      this.req?.settle(e);
      return;
    }
    if (!this.remoteEnded) this.failBody(new Deno.errors.Interrupted("The response ended before the request body"));
    this.req?.settle(undefined);
  }

  /** Whether it waited too long: on body bytes for `read`, or on a window for `write` (ms; 0: no limit). */
  stalled(now: number, limits: { readonly read: number; readonly write: number }): boolean {
    if (limits.read > 0 && this.bodyWaitingSince >= 0 && now - this.bodyWaitingSince > limits.read) return true;
    return limits.write > 0 && this.blockedSince >= 0 && now - this.blockedSince > limits.write;
  }

  /** Bytes queued and not yet read by the handler. */
  get queued(): number {
    let n = 0;
    for (const c of this.#queue) n += c.byteLength;
    return n;
  }
}
