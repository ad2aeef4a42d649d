/**
 * A connection's output: frames are put into a buffer as they are made and go out together, one write for all that
 * was made in a turn (a small response's HEADERS and DATA, the answers of the streams that finished meanwhile). While a
 * write is in flight, new frames go into a second buffer, written next.
 *
 * @module
 */
import type { ByteStream } from "../byte_stream.ts";
import { FRAME_HEADER, writeFrameHeader } from "./frames.ts";

/** The buffer a connection starts with and shrinks back to. */
const START = 16 * 1024;
/** Past this many bytes waiting, producers of DATA wait ({@linkcode FrameWriter.drained}). */
const HIGH = 256 * 1024;

/** A connection's output buffer and write loop. */
export class FrameWriter {
  readonly #stream: ByteStream;
  readonly #onError: (error: unknown) => void;
  #buf: Uint8Array = new Uint8Array(START);
  #len = 0;
  #spare: Uint8Array | undefined;
  #scheduled = false;
  #writing = false;
  /** Bytes of the write in flight. */
  #inflight = 0;
  #closed = false;
  #waiters: (() => void)[] = [];
  /** `Date.now()` when the write in flight began, -1 when none is (the write time limit). */
  writingSince = -1;
  /** Acknowledgements (SETTINGS, PING) made and not yet written: a peer that sends many and reads none is cut. */
  acks = 0;
  #acksInflight = 0;

  /**
   * @param stream The connection.
   * @param onError Called once when a write fails (the connection is gone).
   */
  constructor(stream: ByteStream, onError: (error: unknown) => void) {
    this.#stream = stream;
    this.#onError = onError;
  }

  /** Bytes waiting and in flight. */
  get pending(): number {
    return this.#len + this.#inflight;
  }

  /** Whether the writer failed or was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Room for `n` more bytes at the end of the buffer; returns the buffer (write at {@linkcode length}). */
  #room(n: number): Uint8Array {
    const need = this.#len + n;
    if (need > this.#buf.byteLength) {
      let size = this.#buf.byteLength * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    return this.#buf;
  }

  /** Adds a frame with `payload` (or `length` bytes of it from `offset`). */
  frame(type: number, flags: number, stream: number, payload?: Uint8Array, offset = 0, length = -1): void {
    if (this.#closed) return;
    const n = payload === undefined ? 0 : length < 0 ? payload.byteLength - offset : length;
    const buf = this.#room(FRAME_HEADER + n);
    const at = writeFrameHeader(buf, this.#len, n, type, flags, stream);
    if (n > 0) {
      buf.set(offset === 0 && n === payload!.byteLength ? payload! : payload!.subarray(offset, offset + n), at);
    }
    this.#len = at + n;
    this.#schedule();
  }

  /** Adds a frame whose payload is written by `put` into `buf` at `at` (`n` bytes); see {@linkcode frame}. */
  frameWith(type: number, flags: number, stream: number, n: number, put: (buf: Uint8Array, at: number) => void): void {
    if (this.#closed) return;
    const buf = this.#room(FRAME_HEADER + n);
    const at = writeFrameHeader(buf, this.#len, n, type, flags, stream);
    put(buf, at);
    this.#len = at + n;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    queueMicrotask(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#len > 0 && !this.#closed) {
        const out = this.#buf;
        const n = this.#len;
        this.#buf = this.#spare ?? new Uint8Array(START);
        this.#spare = undefined;
        this.#len = 0;
        this.#inflight = n;
        this.#acksInflight = this.acks;
        this.acks = 0;
        this.writingSince = Date.now();
        let w = 0;
        while (w < n) w += await this.#stream.write(w === 0 ? out.subarray(0, n) : out.subarray(w, n));
        this.#inflight = 0;
        this.#acksInflight = 0;
        this.writingSince = -1;
        // A grown buffer is kept while more waits (a large body goes on), dropped once the output is idle.
        if (out.byteLength <= START * 4 || this.#len > 0) this.#spare = out;
        this.#wake();
      }
      if (this.#len === 0) {
        if (this.#buf.byteLength > START * 4) this.#buf = new Uint8Array(START);
        if ((this.#spare?.byteLength ?? 0) > START * 4) this.#spare = undefined;
      }
    } catch (error) {
      this.#closed = true;
      this.#len = 0;
      this.#inflight = 0;
      this.writingSince = -1;
      this.#wake();
      this.#onError(error);
    } finally {
      this.#writing = false;
    }
  }

  /** Acknowledgements waiting (made and not yet written). */
  get acksWaiting(): number {
    return this.acks + this.#acksInflight;
  }

  #wake(): void {
    if (this.#waiters.length === 0 || (this.pending >= HIGH && !this.#closed)) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Whether producers should wait ({@linkcode drained}) before adding more DATA. */
  get full(): boolean {
    return this.pending >= HIGH;
  }

  /** Settles once less than the high mark waits (or the writer closed). */
  drained(): Promise<void> {
    if (!this.full || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Settles once everything added so far went out (or the writer failed). */
  async flushed(): Promise<void> {
    while (this.pending > 0 && !this.#closed) {
      if (!this.#writing && !this.#scheduled) await this.#flush();
      else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Settles once everything added so far went out, or `ms` passed. */
  async flushedWithin(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.flushed(), new Promise<void>((resolve) => timer = setTimeout(resolve, ms))]);
    clearTimeout(timer);
  }

  /** Drops what waits; later frames are ignored. */
  close(): void {
    this.#closed = true;
    this.#len = 0;
    this.#wake();
  }
}
