/**
 * One HTTP/1.1 connection to a backend: its transport, its read buffer, read/write deadlines, and the pending read
 * kept on it while it idles in the pool (so a close by the server is noticed at once).
 *
 * @module
 */

import type { Http1Transport } from "./transport.ts";
import { MAX_HEAD_SIZE } from "./head.ts";
import { UpstreamError, type UpstreamErrorKind } from "../types.ts";

/** Read buffer size for heads and small bodies. */
const SMALL_BUFFER = 16 * 1024;
/**
 * The largest read buffer while streaming a body: fewer, larger reads and stream chunks (1 MB responses: 0.7× the
 * CPU of 64 KiB reads). A body of known length gets no more than it still needs.
 */
const LARGE_BUFFER = 256 * 1024;
/** The largest buffer: a head or a chunk-size/trailer line longer than this is refused. */
const MAX_BUFFER = MAX_HEAD_SIZE + SMALL_BUFFER;

/**
 * A connection and its read buffer. Unread bytes are `buf[start, end)`. When part of `buf` was handed to a body
 * consumer (`lend()`), the next read goes into a fresh buffer so the consumer's bytes are never overwritten.
 */
export class Http1Conn {
  /** Pool key (`Backend.addr`). */
  readonly addr: string;
  /** Read buffer. */
  buf: Uint8Array = new Uint8Array(SMALL_BUFFER);
  /** First unread byte in `buf`. */
  start = 0;
  /** End of the bytes read into `buf`. */
  end = 0;
  /** Since when the connection idles in the pool (Date.now(): a pool needs no finer clock, and it costs less). */
  idleSince = 0;
  readonly #transport: Http1Transport;
  #lent = false;
  /** How many times bytes of a buffer were lent (see {@linkcode giveBack}). */
  #lends = 0;
  #pending: Promise<number | null> | null = null;
  #idle = false;
  #onIdleEnd: ((conn: Http1Conn) => void) | null = null;
  #closed = false;
  #reason: UpstreamErrorKind | null = null;
  #readDeadline = 0;
  #writeDeadline = 0;
  #reading = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = 0;
  #bytesWritten = 0;
  readonly #fire: () => void;
  readonly #idleReadEnded: () => void;

  /** When it was opened (`performance.now()`), for `{:upstream_connection_time}`. */
  readonly openedAt = performance.now();

  /** Wraps an open transport. */
  constructor(addr: string, transport: Http1Transport) {
    this.addr = addr;
    this.#transport = transport;
    this.#fire = this.#onTimer.bind(this);
    this.#idleReadEnded = this.#idleEnded.bind(this);
  }

  /** The transport is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the client closed the connection ("timeout" or "aborted"), or null. */
  get reason(): UpstreamErrorKind | null {
    return this.#reason;
  }

  /** Bytes written since the last {@linkcode Http1Conn.beginExchange}. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** The underlying transport (handed over on an upgrade). */
  get transport(): Http1Transport {
    return this.#transport;
  }

  /** Starts a new exchange on this connection. */
  beginExchange(): void {
    this.#bytesWritten = 0;
  }

  /** Marks `buf[start, end)` as handed out: later reads must not reuse `buf`. */
  lend(): void {
    this.#lent = true;
    this.#lends++;
  }

  /** Counts {@linkcode lend} calls: what a later {@linkcode giveBack} names. */
  get lends(): number {
    return this.#lends;
  }

  /**
   * The bytes handed out by the {@linkcode lend} call that made {@linkcode lends} equal `lends` are used up (written
   * to the client and dropped): when nothing was lent since, the next read may go into the same buffer again instead
   * of a new one. No new buffer per body piece means no external memory for the garbage collector to chase.
   */
  giveBack(lends: number): void {
    if (this.#lent && lends === this.#lends) {
      this.#lent = false;
      // Parked while the last piece was out: the idle read starts now, in the buffer just given back.
      if (this.#idle) this.watch();
    }
  }

  /**
   * Reads more bytes into `buf` at `end`.
   *
   * @param timeout Read time limit in ms (none when undefined or 0).
   * @param large Prefer a large buffer (streaming a big body): true, or the bytes still expected.
   * @returns False at end of stream.
   * @throws The transport's error; {@linkcode Http1Conn.reason} tells whether the client closed it on purpose.
   */
  async fill(timeout: number | undefined, large: boolean | number): Promise<boolean> {
    let p = this.#pending;
    if (p === null) {
      if (this.#closed) throw new Deno.errors.BadResource("Connection closed");
      this.#makeRoom(large);
      p = this.#transport.read(this.buf.subarray(this.end));
    } else {
      this.#pending = null;
    }
    if (timeout) this.#readDeadline = this.#schedule(timeout);
    this.#reading = true;
    let n: number | null;
    try {
      n = await p;
    } finally {
      this.#reading = false;
      this.#readDeadline = 0;
    }
    if (n === null) return false;
    this.end += n;
    return true;
  }

  #makeRoom(large: boolean | number): void {
    const unread = this.end - this.start;
    const want = large === false
      ? SMALL_BUFFER
      : large === true
      ? LARGE_BUFFER
      : Math.max(SMALL_BUFFER, Math.min(LARGE_BUFFER, large));
    if (this.#lent || (unread === 0 && this.buf.length < want)) {
      const next = new Uint8Array(Math.max(want, unread * 2));
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
      this.start = 0;
      this.end = unread;
      this.#lent = false;
      return;
    }
    if (unread === 0) {
      this.start = 0;
      this.end = 0;
      return;
    }
    if (this.end < this.buf.length) return;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      if (this.buf.length >= MAX_BUFFER) throw new RangeError("Cannot read: line or head too long");
      const next = new Uint8Array(Math.min(MAX_BUFFER, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.end));
      this.buf = next;
    }
    this.start = 0;
    this.end = unread;
  }

  /**
   * Writes all of `data`.
   *
   * @param data Bytes to send.
   * @param timeout Time limit per write call in ms (none when undefined or 0).
   */
  async write(data: Uint8Array, timeout: number | undefined): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (timeout) this.#writeDeadline = this.#schedule(timeout);
      let n: number;
      try {
        n = await this.#transport.write(off === 0 ? data : data.subarray(off));
      } finally {
        this.#writeDeadline = 0;
      }
      off += n;
      this.#bytesWritten += n;
    }
  }

  /**
   * Starts timing the read in progress, if any (the response head, once the request body is sent).
   *
   * @param ms Time limit in ms.
   */
  timeRead(ms: number): void {
    if (this.#reading && this.#readDeadline === 0) this.#readDeadline = this.#schedule(ms);
  }

  /** Makes sure the timer fires by `now + ms`; returns that deadline. */
  #schedule(ms: number): number {
    const deadline = performance.now() + ms;
    if (this.#timer !== undefined) {
      if (this.#timerAt <= deadline) return deadline;
      clearTimeout(this.#timer);
    }
    this.#timerAt = deadline;
    this.#timer = setTimeout(this.#fire, ms);
    return deadline;
  }

  #onTimer(): void {
    // One lazy timer for both deadlines: it only re-arms when it fires, instead of on every read and write.
    this.#timer = undefined;
    if (this.#closed) return;
    const now = performance.now();
    let next = Infinity;
    for (const deadline of [this.#readDeadline, this.#writeDeadline]) {
      if (deadline === 0) continue;
      if (deadline - now <= 0.5) {
        this.close("timeout");
        return;
      }
      if (deadline < next) next = deadline;
    }
    if (next !== Infinity) {
      this.#timerAt = next;
      this.#timer = setTimeout(this.#fire, next - now);
    }
  }

  /** Stops the deadline timer (exchange finished). */
  quiet(): void {
    this.#readDeadline = 0;
    this.#writeDeadline = 0;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /**
   * Parks the connection in the pool and keeps a read pending on it: anything from the server while it idles (a
   * close, an error, or stray bytes: a body after a HEAD answer, more than a content-length, a second answer) ends
   * it and is reported through `onEnd`, so that no byte an upstream sent unasked is read as the next response (as
   * nginx closes a kept-alive connection that receives data). The pending read becomes the first read of the next
   * response when the connection is reused, so it costs no read op of its own. While the last body piece is still
   * lent to the client side, the read waits for {@linkcode giveBack} (or the pool's next sweep), so that it goes into
   * the same buffer instead of a new one per response.
   */
  park(onEnd: (conn: Http1Conn) => void): void {
    this.quiet();
    this.#idle = true;
    this.#onIdleEnd = onEnd;
    this.idleSince = Date.now();
    if (!this.#lent) this.watch();
  }

  /** Keeps a read pending on a parked connection (see {@linkcode park}). */
  watch(): void {
    if (!this.#idle || this.#pending !== null || this.#closed) return;
    this.#makeRoom(false);
    const p = this.#transport.read(this.buf.subarray(this.end));
    this.#pending = p;
    p.then(this.#idleReadEnded, this.#idleReadEnded);
  }

  #idleEnded(): void {
    if (!this.#idle) return;
    // Anything while idle (EOF, an error, unsolicited bytes) ends the connection.
    this.#pending = null;
    const onEnd = this.#onIdleEnd;
    this.unpark();
    this.close();
    onEnd?.(this);
  }

  /** Takes the connection out of the pool; its pending read becomes the first read of the next response. */
  unpark(): void {
    this.#idle = false;
    this.#onIdleEnd = null;
  }

  /**
   * Closes the transport.
   *
   * @param reason Why, when the client cuts the exchange short ("timeout" or "aborted").
   */
  close(reason?: UpstreamErrorKind): void {
    if (this.#closed) return;
    this.#closed = true;
    if (reason !== undefined) this.#reason = reason;
    this.quiet();
    try {
      this.#transport.close();
    } catch {
      // already closed
    }
  }

  /**
   * Names a failure of this connection as an {@linkcode UpstreamError}.
   *
   * @param error What was thrown.
   * @param what What was being done ("read response head", …).
   * @returns The error to report.
   */
  failure(error: unknown, what: string): UpstreamError {
    if (error instanceof UpstreamError) return error;
    const sent = this.#bytesWritten > 0;
    const reason = this.#reason;
    if (reason === "timeout") return new UpstreamError("timeout", `Cannot ${what}: timed out`, sent, { cause: error });
    if (reason === "aborted") return new UpstreamError("aborted", `Cannot ${what}: aborted`, sent, { cause: error });
    const message = error instanceof Error ? error.message : String(error);
    return new UpstreamError(reason ?? "protocol", `Cannot ${what}: ${message}`, sent, { cause: error });
  }
}
