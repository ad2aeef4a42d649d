/**
 * One request/response exchange on one HTTP/1.1 connection: writes the prepared request, pumps the rest of the
 * body concurrently, reads the response head (skipping 1xx other than 101), and hands out the body stream, which
 * gives the connection back when done.
 *
 * @module
 */

import { type BodyOwner, pumpRequestBody, ResponseBodySource } from "./body.ts";
import { oneChunk } from "../../http/one_chunk.ts";
import type { Http1Conn } from "./conn.ts";
import { copyBytes, HeadSyntaxError, parseResponseHead, type ResponseHead } from "./head.ts";
import type { PreparedRequest } from "./request.ts";
import { type Http1Upgrade, upgradeConnection } from "./upgrade.ts";
import { type UpstreamAnswer, UpstreamError } from "../types.ts";
import type { HttpRequest, RawResponseHead } from "../../http/message.ts";

/** The upstream's answer, with what HTTP/1.1 adds to {@linkcode UpstreamAnswer}. */
export interface Http1Response extends UpstreamAnswer {
  /**
   * Trailer fields of a chunked response; resolves once the body has been read to its end (with empty Headers when
   * there were none, or when the body failed or was cancelled). Absent for other framings.
   */
  readonly trailers?: Promise<Headers>;
  /** For a 101 Switching Protocols: the raw connection in both directions (see {@linkcode Http1Upgrade}). */
  readonly upgrade?: Http1Upgrade;
}

/** What an exchange needs from its client. */
export interface ExchangeHost {
  readonly readTimeout: number | undefined;
  readonly writeTimeout: number | undefined;
  /** Gives a connection back: pooled when `reusable`, else closed. */
  release(conn: Http1Conn, reusable: boolean): void;
}

/** Thrown when a reused connection turned out dead before any response byte: the request may be sent again. */
export class StaleConnectionError extends Error {
  /** Creates the error. */
  constructor(options?: ErrorOptions) {
    super("Pooled connection was closed by the server", options);
    this.name = "StaleConnectionError";
  }
}

const PUMP_NONE = 0;
const PUMP_RUNNING = 1;
const PUMP_DONE = 2;
const PUMP_FAILED = 3;

/** One exchange. Create, then `run()` once. */
export class Http1Exchange implements BodyOwner {
  /** The connection. */
  readonly conn: Http1Conn;
  /** Read time limit in ms. */
  readonly readTimeout: number | undefined;
  readonly #host: ExchangeHost;
  readonly #writeTimeout: number | undefined;
  readonly #req: HttpRequest;
  readonly #prep: PreparedRequest;
  readonly #reused: boolean;
  readonly #started: number;
  readonly #connectTime: number;
  readonly #tlsTime: number;
  readonly #onAbort: () => void;
  #pump = PUMP_NONE;
  #pumpError: UpstreamError | null = null;
  #headSeen = false;
  #keepAlive = false;
  #source: ResponseBodySource | null = null;
  #done = false;

  /**
   * Creates the exchange.
   *
   * @param host The client.
   * @param conn The connection to use.
   * @param req The request.
   * @param options `prep` the prepared request, `reused` whether `conn` came from the pool, `started` the request
   *   start time and `connectTime` in ms.
   */
  constructor(
    host: ExchangeHost,
    conn: Http1Conn,
    req: HttpRequest,
    options: { prep: PreparedRequest; reused: boolean; started: number; connectTime: number; tlsTime?: number },
  ) {
    this.#host = host;
    this.conn = conn;
    this.readTimeout = req.timeouts?.readTimeout ?? host.readTimeout;
    this.#writeTimeout = req.timeouts?.writeTimeout ?? host.writeTimeout;
    this.#req = req;
    this.#prep = options.prep;
    this.#reused = options.reused;
    this.#started = options.started;
    this.#connectTime = options.connectTime;
    this.#tlsTime = options.tlsTime ?? 0;
    this.#onAbort = req.watch === undefined ? ignore : this.#abort.bind(this);
  }

  /**
   * Sends the request and reads the response head.
   *
   * @returns The response; its body stream owns the connection from then on.
   * @throws {StaleConnectionError} When a reused connection died before any response byte and the request can be
   *   replayed: its body is in memory, and its method is idempotent or no byte of it was written.
   * @throws {UpstreamError} Otherwise.
   */
  async run(): Promise<Http1Response> {
    const conn = this.conn;
    const prep = this.#prep;
    const signal = this.#req.watch;
    conn.beginExchange();
    signal?.addEventListener("abort", this.#onAbort);
    if (signal?.aborted) this.#abort();
    const writeTimeout = this.#writeTimeout;
    try {
      await conn.write(prep.first, writeTimeout);
      if (prep.second !== null) await conn.write(prep.second, writeTimeout);
    } catch (error) {
      throw this.#fail(error, "send request");
    }
    if (prep.pump !== null) this.#startPump();
    let head: ResponseHead | null = null;
    let informational = false;
    try {
      for (;;) {
        if (conn.start < conn.end) {
          head = parseResponseHead(conn.buf, conn.start, conn.end);
          if (head !== null) {
            if (head.status >= 200 || head.status === 101) break;
            conn.start = head.end;
            informational = true;
            continue;
          }
        }
        // While the request body is still going out, the backend may rightly wait for all of it: the head read is
        // timed from the end of the body on (see #pumpDone).
        const timeout = this.#pump === PUMP_RUNNING ? undefined : this.readTimeout;
        if (!await conn.fill(timeout, false)) {
          throw new Deno.errors.UnexpectedEof("upstream closed the connection before the response head");
        }
      }
    } catch (error) {
      throw this.#fail(error, "read response head", informational);
    }
    this.#headSeen = true;
    return this.#respond(head);
  }

  #respond(head: ResponseHead): Http1Response {
    const conn = this.conn;
    conn.start = head.end;
    const status = head.status;
    const now = this.#started === 0 ? 0 : performance.now();
    const responseTime = now - this.#started;
    // How long the connection has been open (0 untimed).
    const connectionTime = now === 0 ? 0 : now - conn.openedAt;
    const reused = this.#reused;
    const connectTime = this.#connectTime;
    const tlsTime = this.#tlsTime;
    if (status === 101) {
      this.#done = true;
      this.#req.watch?.removeEventListener("abort", this.#onAbort);
      const host = this.#host;
      const upgrade = upgradeConnection(conn, function upgradedClosed() {
        host.release(conn, false);
      }, this.#writeTimeout);
      return new Answer(head, null, { reused, connectTime, tlsTime, connectionTime, responseTime, upgrade });
    }
    this.#keepAlive = !head.close;
    if (
      this.#req.method === "HEAD" || status === 204 || status === 304 ||
      (head.contentLength === 0 && !head.chunked && !head.closeDelimited)
    ) {
      this.bodyDone(true);
      return new Answer(head, null, { reused, connectTime, tlsTime, connectionTime, responseTime });
    }
    if (head.chunked) {
      let resolveTrailers: (trailers: Headers) => void = ignore;
      const trailers = new Promise<Headers>(function trailersExecutor(resolve) {
        resolveTrailers = resolve;
      });
      const source = new ResponseBodySource(this, "chunked", { onTrailers: resolveTrailers });
      this.#source = source;
      const body = new ReadableStream(source, NO_READ_AHEAD);
      return new Answer(head, body, { reused, connectTime, tlsTime, connectionTime, responseTime, trailers, source });
    }
    const length = head.contentLength;
    if (length >= 0 && conn.end - conn.start >= length) {
      // The whole body is already here: give the connection back before the consumer even reads.
      const whole = copyBytes(conn.buf, conn.start, conn.start + length);
      conn.start += length;
      this.bodyDone(true);
      return new WholeResponse(head, whole, { reused, connectTime, tlsTime, connectionTime, responseTime });
    }
    if (length < 0) this.#keepAlive = false;
    const source = new ResponseBodySource(this, length >= 0 ? "length" : "close", { length });
    this.#source = source;
    const body = new ReadableStream(source, NO_READ_AHEAD);
    return new Answer(head, body, { reused, connectTime, tlsTime, connectionTime, responseTime, source });
  }

  /** Called by the body stream (or for a bodiless response) when the body ended. */
  bodyDone(complete: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#req.watch?.removeEventListener("abort", this.#onAbort);
    const conn = this.conn;
    const pumpDone = this.#pump === PUMP_NONE || this.#pump === PUMP_DONE;
    if (this.#pump === PUMP_RUNNING) this.#prep.pump!.reader.cancel().catch(ignore);
    this.#host.release(conn, complete && this.#keepAlive && pumpDone && conn.start === conn.end && !conn.closed);
  }

  #startPump(): void {
    this.#pump = PUMP_RUNNING;
    pumpRequestBody(this.conn, this.#prep.pump!, this.#writeTimeout).then(
      this.#pumpDone.bind(this),
      this.#pumpFailed.bind(this),
    );
  }

  #pumpDone(): void {
    if (this.#pump !== PUMP_RUNNING) return;
    this.#pump = PUMP_DONE;
    if (!this.#headSeen && !this.#done && this.readTimeout) this.conn.timeRead(this.readTimeout);
  }

  #pumpFailed(error: unknown): void {
    this.#pump = PUMP_FAILED;
    if (this.#done) return;
    this.#pumpError = this.conn.failure(error, "send request body");
    // Before the head: stop waiting for an answer to a request that could not be sent. After it: the response can
    // still be read, but the connection will not be reused.
    if (!this.#headSeen) this.conn.close();
  }

  #abort(): void {
    const conn = this.conn;
    conn.close("aborted");
    if (this.#pump === PUMP_RUNNING) this.#prep.pump!.reader.cancel().catch(ignore);
    this.#source?.abort(new UpstreamError("aborted", "Cannot read response body: aborted", conn.bytesWritten > 0));
  }

  #fail(error: unknown, what: string, responseStarted = false): Error {
    const conn = this.conn;
    this.#done = true;
    this.#req.watch?.removeEventListener("abort", this.#onAbort);
    // A request the server may have read and acted on is not sent again unless its method is idempotent: for any
    // other (POST, PATCH…) only a connection that took no byte of it is stale (RFC 9110 §9.2.2, as nginx does).
    const stale = this.#reused && this.#prep.replayable && conn.reason === null && this.#pumpError === null &&
      !responseStarted && conn.end === conn.start && !(error instanceof HeadSyntaxError) &&
      (conn.bytesWritten === 0 || isIdempotent(this.#req.method));
    this.#host.release(conn, false);
    if (stale) return new StaleConnectionError({ cause: error });
    if (this.#pumpError !== null) return this.#pumpError;
    if (error instanceof HeadSyntaxError) {
      return new UpstreamError("protocol", `Cannot ${what}: ${error.message}`, conn.bytesWritten > 0, { cause: error });
    }
    return conn.failure(error, what);
  }
}

function ignore(): void {}

/** Methods a request may be sent again with after it was (maybe) received (RFC 9110 §9.2.2). */
function isIdempotent(method: string): boolean {
  switch (method) {
    case "GET":
    case "HEAD":
    case "OPTIONS":
    case "PUT":
    case "DELETE":
    case "TRACE":
      return true;
    default:
      return false;
  }
}

/** Timing and reuse facts of an exchange, and its trailers. */
interface AnswerFacts {
  readonly reused: boolean;
  readonly connectTime: number;
  readonly tlsTime: number;
  readonly connectionTime: number;
  readonly responseTime: number;
  readonly trailers?: Promise<Headers>;
  readonly upgrade?: Http1Upgrade;
  /** The body's source, for {@linkcode Answer.recycle}. */
  readonly source?: ResponseBodySource;
}

/**
 * A body stream reads the upstream only when its consumer asks: a piece lent from the connection's buffer is then
 * written before the next read, so the buffer can be given back (see {@linkcode ResponseBodySource.recycle}).
 */
const NO_READ_AHEAD = { highWaterMark: 0 };

/**
 * An answer over its head: status and timing facts; reason phrase, raw head, fields and `Headers` made only if read.
 * A class, not an object literal: a literal with getters costs about 1 µs per object (measured: 0.9–2 µs with one to
 * four getters, 30 ns for this class).
 */
abstract class HeadAnswer implements Http1Response {
  readonly status: number;
  readonly reused: boolean;
  readonly connectTime: number;
  readonly tlsTime: number;
  readonly connectionTime: number;
  readonly responseTime: number;
  /** The head may be kept as bytes: a change to `headers` would not go out (see `editable()`). */
  readonly editable = false;
  readonly #head: ResponseHead;
  abstract readonly body: ReadableStream<Uint8Array> | null;

  constructor(head: ResponseHead, facts: AnswerFacts) {
    this.status = head.status;
    this.#head = head;
    this.reused = facts.reused;
    this.connectTime = facts.connectTime;
    this.tlsTime = facts.tlsTime;
    this.connectionTime = facts.connectionTime;
    this.responseTime = facts.responseTime;
  }

  get statusText(): string {
    return this.#head.statusText;
  }

  get headers(): Headers {
    return this.#head.headers;
  }

  get fields(): readonly string[] {
    return this.#head.fields;
  }

  get rawHead(): RawResponseHead | undefined {
    return this.#head.raw;
  }
}

/** The response for `head` with `body` (streamed, or none), its trailers and upgrade. */
class Answer extends HeadAnswer {
  readonly body: ReadableStream<Uint8Array> | null;
  readonly trailers?: Promise<Headers>;
  readonly upgrade?: Http1Upgrade;
  readonly #source: ResponseBodySource | undefined;

  constructor(head: ResponseHead, body: ReadableStream<Uint8Array> | null, facts: AnswerFacts) {
    super(head, facts);
    this.body = body;
    this.#source = facts.source;
    if (facts.trailers !== undefined) this.trailers = facts.trailers;
    if (facts.upgrade !== undefined) this.upgrade = facts.upgrade;
  }

  recycle(chunk: Uint8Array): void {
    this.#source?.recycle(chunk);
  }
}

/**
 * A response whose body came with its head; the stream is made only if asked for. Exported for
 * `bench/response_head_bench.ts`.
 */
export class WholeResponse extends HeadAnswer {
  readonly whole: Uint8Array<ArrayBuffer>;
  #stream: ReadableStream<Uint8Array> | null = null;

  constructor(head: ResponseHead, whole: Uint8Array<ArrayBuffer>, facts: AnswerFacts) {
    super(head, facts);
    this.whole = whole;
  }

  get body(): ReadableStream<Uint8Array> {
    return this.#stream ??= oneChunk(this.whole);
  }
}
