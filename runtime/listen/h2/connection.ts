/**
 * One HTTP/2 connection served (RFC 9113): the client preface, SETTINGS and their acknowledgement, PING,
 * WINDOW_UPDATE both ways, GOAWAY, RST_STREAM, header blocks (HEADERS and CONTINUATION, HPACK), DATA with padding,
 * PRIORITY read and ignored, stream states. A fault of the client is a stream error (RST_STREAM) or a connection error
 * (GOAWAY, then the connection closes); nothing a client sends can throw out of it.
 *
 * Defences (defences.ts, header_blocks.ts): rapid reset, CONTINUATION, SETTINGS and PING floods end the connection
 * with ENHANCE_YOUR_CALM. Frames are read by reader.ts, windows kept by flow.ts, requests made by request_open.ts,
 * answers sent through send.ts. The engine's sweep ({@linkcode H2Connection.sweep}) applies the time limits: a write that does not
 * go out, a response held by a closed window, a request body that stalls, a connection idle too long.
 *
 * @module
 */
import type { ByteStream } from "../byte_stream.ts";
import type { ConnectionFacts, TlsFacts } from "../../http/message.ts";
import { ClientWatch } from "../h1/request.ts";
import { nextConnectionId } from "../h1/connection.ts";
import { HpackDecoder } from "./hpack.ts";
import {
  ACK,
  CANCEL,
  checkFrame,
  COMPRESSION_ERROR,
  ConnectionError,
  CONTINUATION,
  DATA,
  DEFAULT_WINDOW,
  END_STREAM,
  FRAME_SIZE_ERROR,
  type FrameHeader,
  GOAWAY,
  goawayPayload,
  HEADERS,
  NO_ERROR,
  PADDED,
  PING,
  PRIORITY,
  PROTOCOL_ERROR,
  readUint31,
  readUint32,
  REFUSED_STREAM,
  RST_STREAM,
  SETTINGS,
  STREAM_CLOSED,
  StreamError,
  uint32Payload,
  unpaddedEnd,
  WINDOW_UPDATE,
} from "./frames.ts";
import { H2Stream, type StreamHost } from "./stream.ts";
import { FrameWriter } from "./writer.ts";
import { Flow } from "./flow.ts";
import { type Block, BlockReader } from "./header_blocks.ts";
import { lingerClose, readFrames } from "./reader.ts";
import { checkTrailers, openRequest } from "./request_open.ts";
import { type H2Limits, type H2Settings, ourSettings, type PeerSettings, readSettings } from "./settings.ts";
import { Sender } from "./send.ts";
import { Defences } from "./defences.ts";
import type { ConnectionHost } from "./host.ts";

/** A connection. */
export class H2Connection implements StreamHost, ConnectionFacts {
  readonly id: number = nextConnectionId();
  readonly since: number = Date.now();
  readonly #io: ByteStream;
  readonly #host: ConnectionHost;
  readonly #out: FrameWriter;
  readonly #flow: Flow;
  readonly #blocks: BlockReader;
  readonly #calm: Defences;
  readonly #dec: HpackDecoder;
  /** The sending side (response.ts writes answers through it). */
  readonly send: Sender;
  /** What the client's SETTINGS change. */
  readonly #peer: PeerSettings = {
    tableSize: (v) => this.send.enc.setPeerMaxTableSize(v),
    initialWindow: (v) => this.#flow.initialWindow(v, this.#streams.values()),
    maxFrame: (v) => this.send.maxFrame = v,
  };
  readonly #streams = new Map<number, H2Stream>();
  readonly #settings: H2Settings;
  /** The highest stream a client opened. */
  #highest = 0;
  /** The client acknowledged our SETTINGS. */
  #acked = false;
  #gotSettings = false;
  /** GOAWAY went out (with {@linkcode #highest}): streams above it are ignored. */
  #goaway = false;
  #peerGoaway = false;
  #ended = false;
  readonly #done = Promise.withResolvers<void>();
  /** `Date.now()` since when no stream is open. */
  idleSince = Date.now();
  /** Streams served on it so far. */
  served = 0;

  /**
   * @param io The connection's bytes.
   * @param host The engine.
   * @param tls Its TLS facts, over TLS.
   */
  constructor(io: ByteStream, host: ConnectionHost, readonly tls: TlsFacts | undefined) {
    this.#io = io;
    this.#host = host;
    const s = this.#settings = host.settings;
    this.#dec = new HpackDecoder(4096, s.maxHeaderListSize);
    this.#out = new FrameWriter(io, () => this.#teardown(new Deno.errors.ConnectionReset("the write failed")));
    this.#flow = new Flow(this.#out, s.connectionWindowSize, s.initialWindowSize);
    this.send = new Sender(this.#out, this.#flow, (stream) => this.#localEnd(stream));
    // A block takes no more bytes than its header list may (HPACK never makes it larger); 16 MiB at most.
    this.#calm = new Defences(s.maxConcurrentStreams);
    this.#blocks = new BlockReader(Math.min(s.maxHeaderListSize, 1 << 24) + 1024);
  }

  /** Streams open. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Settles once the connection is closed. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Serves the connection: our SETTINGS, `upgrade`'s (h2c, upgrade.ts), what the client sends (`initial` first). */
  async run(initial: Uint8Array, upgrade?: (peer: PeerSettings) => Uint8Array): Promise<void> {
    this.#out.frame(SETTINGS, 0, 0, ourSettings(this.#settings));
    this.#flow.start();
    try {
      if (upgrade !== undefined) this.#block({ id: 1, flags: END_STREAM, block: upgrade(this.#peer) });
      await readFrames(this.#io, initial, (h, b, p) => this.#frame(h, b, p), () => this.#ended);
      this.#teardown(new Deno.errors.ConnectionReset("the client closed the connection"));
    } catch (error) {
      if (error instanceof ConnectionError) await this.#terminate(error.code, error.message);
      else await this.#terminate(PROTOCOL_ERROR, "internal fault");
    } finally {
      await this.#done.promise;
    }
  }

  /** One frame, its payload at `p` of `b` (valid only during the call). */
  #frame(h: FrameHeader, b: Uint8Array, p: number): void {
    const pending = this.#blocks.pendingId;
    if (pending !== 0 && (h.type !== CONTINUATION || h.stream !== pending)) {
      throw new ConnectionError(PROTOCOL_ERROR, "a frame inside a header block");
    }
    if (!this.#gotSettings) {
      if (h.type !== SETTINGS || (h.flags & ACK) !== 0) {
        throw new ConnectionError(PROTOCOL_ERROR, "the preface's SETTINGS missing");
      }
      this.#gotSettings = true;
    }
    checkFrame(h);
    if ((h.type === DATA || h.type === RST_STREAM || h.type === WINDOW_UPDATE) && h.stream > this.#highest) {
      throw new ConnectionError(PROTOCOL_ERROR, `a frame of type ${h.type} on an idle stream`);
    }
    try {
      switch (h.type) {
        case DATA:
          return this.#data(h, b, p);
        case HEADERS:
          return this.#block(this.#blocks.headers(h, b, p));
        case CONTINUATION:
          return this.#block(this.#blocks.continuation(h, b, p));
        case PRIORITY:
          if (h.length !== 5) throw new StreamError(h.stream, FRAME_SIZE_ERROR, "PRIORITY not of 5 bytes");
          return;
        case RST_STREAM:
          return this.#rstStream(h, b, p);
        case SETTINGS:
          return this.#settingsFrame(h, b, p);
        case PING:
          if ((h.flags & ACK) !== 0) return;
          this.#out.frame(PING, ACK, 0, b, p, 8);
          return this.#calm.ack(this.#out);
        case GOAWAY:
          this.#peerGoaway = true;
          if (this.#streams.size === 0) void this.#finish();
          return;
        case WINDOW_UPDATE:
          return this.#windowUpdate(h, b, p);
        default:
          // Unknown frame types are ignored (§4.1).
          return;
      }
    } catch (error) {
      if (!(error instanceof StreamError)) throw error;
      const s = this.#streams.get(error.id);
      this.#calm.reset();
      this.#out.frame(RST_STREAM, 0, error.id, uint32Payload(error.code));
      if (s !== undefined) this.#close(s, new Deno.errors.InvalidData(error.message));
    }
  }

  #data(h: FrameHeader, b: Uint8Array, p: number): void {
    const id = h.stream;
    const end = unpaddedEnd(h, b, p);
    const off = (h.flags & PADDED) !== 0 ? p + 1 : p;
    const len = h.length;
    this.#flow.receive(len);
    const s = this.#streams.get(id);
    if (s === undefined) {
      // A stream closed here (reset, answered): its bytes are dropped, the connection's window given back.
      return this.#flow.credit(len);
    }
    if (s.remoteEnded) {
      this.#flow.credit(len);
      throw new StreamError(id, STREAM_CLOSED, "DATA after END_STREAM");
    }
    this.#flow.receiveOn(s, len);
    // Padding counts against the windows; it is given back at once.
    if (len > end - off) this.consumed(s, len - (end - off));
    // Past the content-length the stream is reset and these bytes never queue: the connection's window gets them back.
    if (s.beyondLength(end - off)) this.#flow.credit(end - off);
    s.receive(b, off, end - off, (h.flags & END_STREAM) !== 0);
  }

  /** A whole header block (or none yet): a request head, or trailers. */
  #block(whole: Block | undefined): void {
    if (whole === undefined) return;
    const { id, flags } = whole;
    let list: string[] | undefined;
    try {
      list = this.#dec.decode(whole.block);
    } catch (error) {
      // A header list too large was decoded whole (the table stays in step): the request gets 431.
      if ((error as { tooLarge?: boolean }).tooLarge !== true) {
        throw new ConnectionError(COMPRESSION_ERROR, `HPACK: ${(error as Error).message}`);
      }
    }
    const known = this.#streams.get(id);
    if (known !== undefined) {
      checkTrailers(known, flags, list);
      return known.end();
    }
    if (id % 2 === 0) throw new ConnectionError(PROTOCOL_ERROR, "a stream of even number from the client");
    // A stream closed already (reset, answered): its late trailers are dropped.
    if (id <= this.#highest) return;
    this.#highest = id;
    if (this.#goaway || this.#peerGoaway) return;
    if (this.#streams.size >= this.#settings.maxConcurrentStreams) {
      this.#calm.reset();
      return this.#out.frame(RST_STREAM, 0, id, uint32Payload(REFUSED_STREAM));
    }
    const initial = this.#settings.initialWindowSize;
    // Before the client acknowledged our SETTINGS it may still use the default window.
    const s = new H2Stream(
      id,
      this,
      new ClientWatch(),
      this.#acked ? initial : Math.max(initial, DEFAULT_WINDOW),
      this.#flow.peerInitial,
    );
    s.remoteEnded = (flags & END_STREAM) !== 0;
    const status = openRequest(s, list, this, this.served, this.#host.authority);
    this.#streams.set(id, s);
    this.served++;
    if (status === 0) this.#host.serve(this, s);
    else this.#host.answer(this, s, status);
  }

  #rstStream(h: FrameHeader, b: Uint8Array, p: number): void {
    const s = this.#streams.get(h.stream);
    if (s === undefined) return;
    this.#close(s, new Deno.errors.Interrupted(`The client reset the stream (${readUint32(b, p)})`));
    this.#calm.reset();
  }

  #settingsFrame(h: FrameHeader, b: Uint8Array, p: number): void {
    if (readSettings(h, b, p, this.#peer)) return void (this.#acked = true);
    this.#out.frame(SETTINGS, ACK, 0);
    this.#calm.ack(this.#out);
  }

  #windowUpdate(h: FrameHeader, b: Uint8Array, p: number): void {
    const inc = readUint31(b, p);
    if (h.stream === 0) return this.#flow.openConnection(inc);
    const s = this.#streams.get(h.stream);
    if (s !== undefined) this.#flow.openStream(s, inc);
  }

  /** See {@linkcode StreamHost.consumed}. */
  consumed(s: H2Stream, n: number): void {
    if (!this.#ended) this.#flow.consumed(s, n);
  }

  /** See {@linkcode StreamHost.continued}: `100` as an interim HEADERS frame, while no answer began. */
  continued(s: H2Stream): void {
    this.send.continue100(s);
  }

  /** See {@linkcode StreamHost.cancelled}. */
  cancelled(s: H2Stream): void {
    this.reset(s, CANCEL);
  }

  /** Resets `s` with `code` (our decision: its handler is told the client went). */
  reset(s: H2Stream, code: number): void {
    if (s.closed) return;
    this.#out.frame(RST_STREAM, 0, s.id, uint32Payload(code));
    this.#close(s, new Deno.errors.Interrupted(`The stream was reset (${code})`));
  }

  /**
   * Closes `s`: on `error` its handler is told the client went (watch aborted, body failed, `completed` rejects),
   * else its response went out whole.
   */
  #close(s: H2Stream, error: unknown): void {
    if (s.closed) return;
    this.#streams.delete(s.id);
    if (this.#streams.size === 0) this.idleSince = Date.now();
    // What the handler did not read is given back to the connection's window.
    const left = s.queued;
    if (left > 0 && !this.#ended) this.#flow.credit(left);
    s.finish(error);
    this.#flow.forget(s);
    if ((this.#goaway || this.#peerGoaway) && this.#streams.size === 0) void this.#finish();
  }

  /** Our END_STREAM went: the stream closes, at once if the client's came, else with RST_STREAM NO_ERROR (§8.1). */
  #localEnd(s: H2Stream): void {
    s.localEnded = true;
    // The answer is whole before the request: the client need not send the rest.
    if (!s.remoteEnded) this.#out.frame(RST_STREAM, 0, s.id, uint32Payload(NO_ERROR));
    this.#close(s, undefined);
  }

  /** Graceful end: GOAWAY (NO_ERROR) with the last stream taken; open streams finish, then the connection closes. */
  goaway(): void {
    if (this.#goaway || this.#ended) return;
    this.#goaway = true;
    this.#out.frame(GOAWAY, 0, 0, goawayPayload(this.#highest, NO_ERROR));
    if (this.#streams.size === 0) void this.#finish();
  }

  /** No stream is left after a GOAWAY: what waits goes out, then the connection closes. */
  async #finish(): Promise<void> {
    if (this.#ended) return;
    await this.#out.flushed();
    if (this.#ended || (this.#streams.size > 0 && !this.#out.closed)) return;
    // Our side ends; the client's end (read by the loop) closes the connection, or a second passes.
    this.#out.close();
    const timer = setTimeout(() => this.#teardown(undefined), 1000);
    this.#io.closeWrite().catch(() => {});
    await this.#done.promise;
    clearTimeout(timer);
  }

  /** A connection error: GOAWAY with `code`, what waits goes out (at most 1 s), then the connection closes. */
  async #terminate(code: number, message: string): Promise<void> {
    if (this.#ended) return;
    this.#host.log?.(this, code, message);
    if (!this.#goaway) {
      this.#goaway = true;
      this.#out.frame(GOAWAY, 0, 0, goawayPayload(this.#highest, code, message));
    }
    // Streams in flight end now.
    for (const s of [...this.#streams.values()]) this.#close(s, new Deno.errors.ConnectionReset(message));
    await this.#out.flushedWithin(1000);
    // The client's bytes still in flight are read and dropped for a moment: the GOAWAY is not lost to a TCP reset.
    await lingerClose(this.#io, 1000);
    this.#teardown(new Deno.errors.ConnectionReset(message));
  }

  /** Cuts the connection now (a stalled write, a shutdown past its grace). */
  cut(): void {
    this.#teardown(new Deno.errors.ConnectionReset("the connection was cut"));
  }

  #teardown(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#out.close();
    for (const s of [...this.#streams.values()]) {
      this.#close(s, error ?? new Deno.errors.ConnectionReset("the connection closed"));
    }
    try {
      this.#io.close();
    } catch { /* closed */ }
    this.#done.resolve();
  }

  /** Applies the time limits (called by the engine's sweep with `Date.now()`). */
  sweep(now: number, limits: H2Limits): void {
    if (this.#ended) return;
    const w = this.#out.writingSince;
    if (limits.write > 0 && w >= 0 && now - w > limits.write) return this.cut();
    if (this.#streams.size === 0) {
      if (limits.idle > 0 && now - this.idleSince > limits.idle) {
        if (this.#goaway) this.cut();
        else {
          this.goaway();
          this.idleSince = now;
        }
      }
      return;
    }
    for (const s of [...this.#streams.values()]) if (s.stalled(now, limits)) this.reset(s, CANCEL);
  }
}
