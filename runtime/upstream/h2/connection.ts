/**
 * The protocol half of an h2 upstream connection, on our own frame and HPACK layer (the one the HTTP/2 engine serves
 * with, runtime/listen/h2/): the preface and SETTINGS both ways, header blocks out (HPACK, split by the backend's
 * SETTINGS_MAX_FRAME_SIZE) and in (HEADERS + CONTINUATION, bounded), DATA within both directions' windows (ours given
 * back as the consumer reads: DATA beyond a stream's window resets it, beyond the connection's ends the connection,
 * RFC 9113 §6.9), PING answered (acknowledgements capped as the server does), RST_STREAM, GOAWAY. session.ts adds the pool's side (connect, stream count, idle timer).
 *
 * Nothing the backend sends can throw out of it: a protocol error ends the connection (GOAWAY) and fails its streams;
 * a GOAWAY stops new streams, fails those above its last stream id as not processed, and the connection closes once
 * the others ended; a connection that closes fails its streams.
 *
 * @module
 */

import type { ByteStream } from "../../listen/byte_stream.ts";
import * as F from "../../listen/h2/frames.ts";
import { readFrames } from "../../listen/h2/reader.ts";
import { readSettings } from "../../listen/h2/settings.ts";
import { FrameWriter } from "../../listen/h2/writer.ts";
import { HpackDecoder, HpackEncoder } from "../../listen/h2/hpack.ts";
import { BlockReader } from "../../listen/h2/header_blocks.ts";
import { Defences } from "../../listen/h2/defences.ts";
import { type InboundHandler, onFrame, writeHeaderBlock } from "./inbound.ts";
import { RecvWindow } from "./recv_window.ts";
import { SendWindows } from "./send_windows.ts";
import { ABOVE_GOAWAY, CONNECTION_LOST, type StreamHandler } from "./stream_handler.ts";

/** Bytes a response header block may take (compressed and decoded). */
const MAX_HEADER_LIST = 256 * 1024;

/** Our windows (`h2_stream_window_size`, `h2_connection_window_size`; the HTTP/2 default when undefined). */
export interface H2Windows {
  readonly streamWindow?: number | undefined;
  readonly connectionWindow?: number | undefined;
}

/** One HTTP/2 client connection's protocol state. */
export class H2ClientConnection {
  /** No new streams: GOAWAY received, closing, closed or failed. */
  gone = false;
  /** True once the connection closed. */
  closed = false;
  /** Highest stream id the backend said it processed, from its GOAWAY (undefined: no GOAWAY yet). */
  goawayLastStreamId: number | undefined;
  /** The backend's SETTINGS_MAX_CONCURRENT_STREAMS (undefined: not said). */
  remoteMaxStreams: number | undefined;
  /** The stream window we announce, bytes. */
  readonly streamWindow: number;
  #announcedStreamWindow: number | undefined;
  #io: ByteStream | undefined;
  #out: FrameWriter | undefined;
  readonly #enc = new HpackEncoder();
  readonly #dec = new HpackDecoder(4096, MAX_HEADER_LIST);
  readonly #blocks = new BlockReader(MAX_HEADER_LIST);
  readonly #streams = new Map<number, StreamHandler>();
  #nextId = 1;
  /** What the backend lets us send: its windows and frame size, the streams waiting for its connection window. */
  readonly #tx = new SendWindows();
  /** Our connection window and its credit. */
  readonly #rx: RecvWindow;
  /** The acknowledgement cap (a SETTINGS or PING flood from a backend that does not read is cut). */
  readonly #calm = new Defences(0);
  /** Settled by the backend's first SETTINGS (the connect waits for it), rejected when the connection ends first. */
  #settingsSeen: PromiseWithResolvers<void> | undefined;
  /** Graceful close asked: the connection ends once no stream is left. */
  #closing = false;

  constructor(windows: H2Windows) {
    this.#announcedStreamWindow = windows.streamWindow;
    this.streamWindow = windows.streamWindow ?? F.DEFAULT_WINDOW;
    this.#rx = new RecvWindow(windows.connectionWindow);
  }

  /** Called once when the connection takes no new stream (override). */
  protected wentAway(): void {}

  /** Called once when the connection closed (override). */
  protected ended(): void {}

  /** Called when a stream ended, or all did (override). */
  protected streamEnded(): void {}

  /**
   * Starts HTTP/2 on `io`: the preface, our SETTINGS and connection window, then reading. Settles once the backend's
   * SETTINGS came (its windows, frame size and stream limit then hold from the first stream).
   */
  protected start(io: ByteStream): Promise<void> {
    this.#io = io;
    const out = new FrameWriter(io, () => this.lost("connection write failed"));
    this.#out = out;
    // The preface is 24 bytes: put as a frame "header" of 9 and a payload of 15, byte for byte.
    out.frameWith(0, 0, 0, F.PREFACE.byteLength - F.FRAME_HEADER, (buf, at) => buf.set(F.PREFACE, at - F.FRAME_HEADER));
    const settings = [F.SETTINGS_ENABLE_PUSH, 0];
    if (this.#announcedStreamWindow !== undefined) {
      settings.push(F.SETTINGS_INITIAL_WINDOW_SIZE, this.#announcedStreamWindow);
    }
    out.frame(F.SETTINGS, 0, 0, F.settingsPayload(settings));
    // Our connection window opens first, before any stream.
    this.#rx.open(out);
    const seen = Promise.withResolvers<void>();
    this.#settingsSeen = seen;
    void this.#read(io);
    return seen.promise;
  }

  async #read(io: ByteStream): Promise<void> {
    try {
      // The preface given as read already: the reader checks it against itself and goes on to frames.
      await readFrames(io, F.PREFACE, (h, b, p) => onFrame(this.#inbound, h, b, p), () => this.closed);
      this.lost("connection closed");
    } catch (error) {
      if (error instanceof F.ConnectionError) {
        this.#out?.frame(F.GOAWAY, 0, 0, F.goawayPayload(0, error.code, error.message));
        // The GOAWAY goes out before the socket closes (within a second).
        this.lost(`protocol error: ${error.message}`, true);
      } else {
        this.lost(`connection failed: ${(error as Error).message}`);
      }
    }
  }

  /** Frames as inbound.ts checked and dispatched them. */
  readonly #inbound: InboundHandler = {
    blocks: this.#blocks,
    data: (h, b, p) => this.#onData(h, b, p),
    block: (id, flags, block) => this.#onBlock(id, flags, block),
    reset: (id, code) => {
      const s = this.#streams.get(id);
      if (s === undefined) return;
      this.#drop(s);
      s.onReset(code, "");
    },
    settings: (h, b, p) => this.#onSettings(h, b, p),
    ping: (payload) => {
      const out = this.#out;
      if (out === undefined) return;
      out.frame(F.PING, F.ACK, 0, payload);
      this.#calm.ack(out);
    },
    goaway: (last, code) => this.#onGoaway(last, code),
    window: (id, inc) => this.#onWindow(id, inc),
  };

  #onWindow(id: number, inc: number): void {
    if (id === 0) return this.#tx.connectionUpdate(inc);
    const s = this.#streams.get(id);
    if (s === undefined) return;
    if (inc === 0 || s.sendWindow + inc > F.MAX_WINDOW) {
      this.reset(s, inc === 0 ? F.PROTOCOL_ERROR : F.FLOW_CONTROL_ERROR);
      s.onReset(F.PROTOCOL_ERROR, "a bad WINDOW_UPDATE from the backend");
      return;
    }
    s.sendWindow += inc;
    s.wake?.();
  }

  #onData(h: F.FrameHeader, b: Uint8Array, p: number): void {
    const len = h.length;
    this.#rx.take(len);
    const s = this.#streams.get(h.stream);
    if (s === undefined) {
      // A stream we reset or finished: its bytes are dropped, and given back to the connection at once.
      this.#rx.credit(len, this.#out);
      return;
    }
    if (len > s.recvWindow) {
      this.#rx.credit(len, this.#out);
      this.reset(s, F.FLOW_CONTROL_ERROR);
      s.onReset(F.FLOW_CONTROL_ERROR, "DATA beyond the stream window");
      return;
    }
    s.recvWindow -= len;
    const start = (h.flags & F.PADDED) !== 0 ? p + 1 : p;
    s.onData(b.subarray(start, F.unpaddedEnd(h, b, p)), (h.flags & F.END_STREAM) !== 0, h.length);
  }

  #onBlock(id: number, flags: number, block: Uint8Array): void {
    // The block is decoded whatever the stream, to keep the HPACK table in step.
    let fields: string[];
    try {
      fields = this.#dec.decode(block);
    } catch (error) {
      if ((error as Error).name === "HeaderListTooLarge") {
        const s = this.#streams.get(id);
        if (s !== undefined) {
          this.reset(s, F.PROTOCOL_ERROR);
          s.onReset(F.PROTOCOL_ERROR, "the response head is too large");
        }
        return;
      }
      throw new F.ConnectionError(F.COMPRESSION_ERROR, `HPACK: ${(error as Error).message}`);
    }
    const s = this.#streams.get(id);
    if (s === undefined) return;
    s.onHeaders(fields, (flags & F.END_STREAM) !== 0);
  }

  #onSettings(h: F.FrameHeader, b: Uint8Array, p: number): void {
    if (readSettings(h, b, p, this.#peer)) return;
    // readSettings checked the frame; the stream limit is the one setting a client needs that a server does not.
    for (let i = p; i < p + h.length; i += 6) {
      if (((b[i]! << 8) | b[i + 1]!) === F.SETTINGS_MAX_CONCURRENT_STREAMS) {
        this.remoteMaxStreams = F.readUint32(b, i + 2);
      }
    }
    const out = this.#out;
    if (out !== undefined) {
      out.frame(F.SETTINGS, F.ACK, 0);
      this.#calm.ack(out);
    }
    const seen = this.#settingsSeen;
    this.#settingsSeen = undefined;
    seen?.resolve();
  }

  /** What the backend's SETTINGS change here. */
  readonly #peer = {
    tableSize: (v: number) => this.#enc.setPeerMaxTableSize(v),
    initialWindow: (v: number) => this.#tx.initialWindow(v, this.#streams.values()),
    maxFrame: (v: number) => this.#tx.maxFrame = v,
  };

  #onGoaway(last: number, code: number): void {
    this.goawayLastStreamId = last;
    this.markGone();
    this.#closing = true;
    for (const s of [...this.#streams.values()]) {
      if (s.id <= last) continue;
      this.#drop(s);
      s.onReset(ABOVE_GOAWAY, `the backend sent F.GOAWAY (code ${code})`);
    }
    // Let the streams the backend still serves finish; a session with none left closes now.
    if (this.#streams.size === 0) this.#shutdown();
  }

  /**
   * Opens a stream for `s` with the header block `fields` (`end`: no body follows).
   *
   * @throws {Error} When the session can take no new stream (gone, closed).
   */
  open(s: StreamHandler, fields: readonly string[], end: boolean): void {
    const out = this.#out;
    if (out === undefined || out.closed || this.closed || (this.gone && this.goawayLastStreamId !== undefined)) {
      throw new Error("the session is closed");
    }
    if (this.#nextId > F.MAX_WINDOW) {
      this.markGone();
      throw new Error("stream ids exhausted");
    }
    const id = this.#nextId;
    this.#nextId += 2;
    s.id = id;
    s.sendWindow = this.#tx.peerInitialWindow;
    s.recvWindow = this.streamWindow;
    s.recvUnacked = 0;
    this.#streams.set(id, s);
    const block = this.#enc.encode(fields);
    writeHeaderBlock(out, id, block, this.#tx.maxFrame, end);
  }

  /** Streams open now. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /**
   * Sends as much of `bytes` from `off` as the windows allow; `end` sets END_STREAM once all went. Returns the offset
   * reached (below the length: wait for the stream's `wake`).
   */
  send(s: StreamHandler, bytes: Uint8Array, off: number, end: boolean): number {
    const out = this.#out;
    if (out === undefined || !this.#streams.has(s.id)) return bytes.byteLength;
    return this.#tx.send(out, s, bytes, off, end);
  }

  /** Whether the output holds much unwritten (producers wait with {@linkcode drained}). */
  get full(): boolean {
    return this.#out?.full ?? false;
  }

  /** Settles once the output drained below its high mark. */
  drained(): Promise<void> {
    return this.#out?.drained() ?? Promise.resolve();
  }

  /**
   * `n` bytes of `s` were read (or dropped): the connection's window gets them back, and the stream's while it is open,
   * each once half a window was read (the backend stalls only on a whole one).
   */
  consumed(s: StreamHandler, n: number): void {
    if (n <= 0) return;
    this.#rx.credit(n, this.#out);
    if (!this.#streams.has(s.id)) return;
    s.recvUnacked += n;
    if (s.recvUnacked >= this.streamWindow >>> 1) {
      this.#out?.frame(F.WINDOW_UPDATE, 0, s.id, F.uint32Payload(s.recvUnacked));
      s.recvWindow += s.recvUnacked;
      s.recvUnacked = 0;
    }
  }

  /** Resets the stream (RST_STREAM `code`); its handler hears nothing more. */
  reset(s: StreamHandler, code: number): void {
    if (!this.#streams.has(s.id)) return;
    this.#out?.frameWith(F.RST_STREAM, 0, s.id, 4, (buf, at) => F.writeUint32(buf, at, code));
    this.#drop(s);
  }

  /** Forgets the stream (the backend's side ended, or it was reset); its exchange calls it once done. */
  finish(s: StreamHandler): void {
    this.#drop(s);
  }

  #drop(s: StreamHandler): void {
    if (!this.#streams.delete(s.id)) return;
    this.#tx.forget(s);
    const wake = s.wake;
    s.wake = undefined;
    wake?.();
    this.streamEnded();
    if (this.#closing && this.#streams.size === 0) this.#shutdown();
  }

  /** Graceful close: no new streams, open ones finish. */
  close(): void {
    this.markGone();
    this.#closing = true;
    if (this.#streams.size === 0) this.#shutdown();
  }

  /** Closes at once; open streams fail. */
  destroy(): void {
    this.markGone();
    this.lost("connection closed");
  }

  /**
   * Ends a connection with no stream left: the socket closes once what waits went out. No GOAWAY (a SHOULD of RFC 9113
   * §6.8): Deno's nghttp2 as a backend aborts its process on some (denoland/deno#36788; seen with our test origins).
   */
  #shutdown(): void {
    if (this.closed) return;
    const out = this.#out;
    const io = this.#io;
    // Not connected yet: the connect shuts it down once it is.
    if (out === undefined || io === undefined) return;
    this.#finish();
    void out.flushedWithin(1000).then(() => {
      out.close();
      try {
        io.close();
      } catch { /* closed */ }
    });
  }

  /** The connection is gone: every stream fails (`flush`: what waits to be written goes first, within a second). */
  protected lost(detail: string, flush = false): void {
    if (this.closed) return;
    this.#settingsSeen?.reject(new Error(detail));
    this.#settingsSeen = undefined;
    this.markGone();
    this.#finish();
    const out = this.#out;
    const io = this.#io;
    const close = () => {
      out?.close();
      try {
        io?.close();
      } catch { /* closed */ }
    };
    if (flush && out !== undefined) void out.flushedWithin(1000).then(close);
    else close();
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#tx.clear();
    for (const s of streams) {
      const wake = s.wake;
      s.wake = undefined;
      wake?.();
      s.onReset(CONNECTION_LOST, detail);
    }
    this.streamEnded();
  }

  /** Marks the connection closed (once) and tells the client. */
  #finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.ended();
  }

  /** Takes no new stream from now on (once). */
  protected markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.wentAway();
  }
}
