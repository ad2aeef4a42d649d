/**
 * One HTTP/2 connection to a backend for the h2 upstream client, on our own frame and HPACK layer (the one the
 * HTTP/2 engine serves with, runtime/listen/h2/): h2c over `Deno.connect`, or TLS with ALPN `h2` over `node:tls`
 * (Deno's TLS API cannot skip certificate checks, `verify_cert = false`). It holds the connect time limits, the
 * stream count and idle timer the client pools by, both directions' flow-control windows, and the streams' handlers.
 *
 * Nothing the backend sends can throw out of it: a protocol error ends the connection (GOAWAY) and fails its streams;
 * a GOAWAY stops new streams, fails those above its last stream id as not processed, and the connection closes once
 * the others ended; a connection that closes fails its streams.
 *
 * @module
 */

import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { isIP } from "node:net";
import { type Backend, type ConnectOptions, UpstreamError } from "../types.ts";
import { setBackendSocketOptions, setNodeSocketOptions } from "../socket_options.ts";
import { type ByteStream, NodeSocketStream } from "../../listen/byte_stream.ts";
import {
  ACK,
  ConnectionError,
  CONTINUATION,
  DATA,
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  END_HEADERS,
  END_STREAM,
  FLOW_CONTROL_ERROR,
  FRAME_HEADER,
  type FrameHeader,
  GOAWAY,
  goawayPayload,
  HEADERS,
  MAX_MAX_FRAME,
  MAX_WINDOW,
  NO_ERROR,
  PING,
  PREFACE,
  PROTOCOL_ERROR,
  PUSH_PROMISE,
  readUint31,
  readUint32,
  RST_STREAM,
  SETTINGS,
  SETTINGS_ENABLE_PUSH,
  SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_FRAME_SIZE,
  settingsPayload,
  uint32Payload,
  unpaddedEnd,
  WINDOW_UPDATE,
  writeUint32,
} from "../../listen/h2/frames.ts";
import { readFrames } from "../../listen/h2/reader.ts";
import { FrameWriter } from "../../listen/h2/writer.ts";
import { HpackDecoder, HpackEncoder } from "../../listen/h2/hpack.ts";
import { BlockReader } from "../../listen/h2/header_blocks.ts";

/** Bytes a response header block may take (compressed and decoded). */
const MAX_HEADER_LIST = 256 * 1024;

/** How long a new connection waits for the backend's SETTINGS at most, ms (the connect limits may be shorter). */
const SETTINGS_WAIT = 10_000;

/** A stream's code when its connection ended under it (not an HTTP/2 code). */
export const CONNECTION_LOST = -1;
/** A stream's code when the backend's GOAWAY left it unprocessed (not an HTTP/2 code). */
export const ABOVE_GOAWAY = -2;

/** What a stream of the session tells its exchange. */
export interface StreamHandler {
  /** Stream id (set by {@linkcode H2Session.open}). */
  id: number;
  /** What it may still send (the backend's window for it), bytes. */
  sendWindow: number;
  /** Called when a window opened or the stream closed, while the stream waits to send. */
  wake: (() => void) | undefined;
  /** A whole header block (a response head, an interim head, or trailers with `end`). */
  onHeaders(fields: string[], end: boolean): void;
  /** DATA: `bytes` is a view valid only during the call; `flow` counts toward the windows. */
  onData(bytes: Uint8Array, end: boolean, flow: number): void;
  /** The stream ended abnormally: RST_STREAM's code, {@linkcode CONNECTION_LOST} or {@linkcode ABOVE_GOAWAY}. */
  onReset(code: number, detail: string): void;
}

/** What a session needs beyond {@linkcode ConnectOptions}. */
export interface H2SessionOptions {
  readonly options: ConnectOptions;
  /** Streams this client puts on one session at most (`max_h2_streams`). */
  readonly maxStreams: number;
  /** PEM certificates trusted instead of the system roots (tests, private CAs). */
  readonly caCerts?: readonly string[] | undefined;
  /** Initial window of each stream, bytes (sent in SETTINGS); the HTTP/2 default when undefined. */
  readonly streamWindow?: number | undefined;
  /** Window of the whole session, bytes (raised by a WINDOW_UPDATE once connected); the default when undefined. */
  readonly connectionWindow?: number | undefined;
  /** Certificate presented to the backend (mutual TLS). */
  readonly clientCert?: { readonly cert: string; readonly key: string } | undefined;
  /** Called once when the session is gone (closed, failed, GOAWAY received). */
  readonly onGone: (session: H2Session) => void;
  /** Called once when the connection closed. */
  readonly onClosed?: ((session: H2Session) => void) | undefined;
}

/** A session to one backend. */
export class H2Session {
  readonly addr: string;
  /** Settles when the session is connected; rejects with an {@linkcode UpstreamError} ("connect" / "timeout"). */
  readonly ready: Promise<void>;
  /** Time from opening to connected, ms (0 until then). */
  connectTime = 0;
  /** When it was opened (`performance.now()`), for `{:upstream_connection_time}`. */
  readonly openedAt = performance.now();
  /** The TLS handshake's part of the connect, ms (0 without TLS or until done). */
  tlsTime = 0;
  /** Streams reserved or open on this session. */
  active = 0;
  /** True once connected. */
  connected = false;
  /** No new streams: GOAWAY received, closing, closed or failed. */
  gone = false;
  /** True once the connection closed. */
  closed = false;
  /** Highest stream id the backend said it processed, from its GOAWAY (undefined: no GOAWAY yet). */
  goawayLastStreamId: number | undefined;
  /** The backend's SETTINGS_MAX_CONCURRENT_STREAMS (undefined: not said). */
  remoteMaxStreams: number | undefined;
  readonly #how: H2SessionOptions;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #io: ByteStream | undefined;
  #out: FrameWriter | undefined;
  readonly #enc = new HpackEncoder();
  readonly #dec = new HpackDecoder(4096, MAX_HEADER_LIST);
  readonly #blocks = new BlockReader(MAX_HEADER_LIST);
  readonly #streams = new Map<number, StreamHandler>();
  #nextId = 1;
  /** The largest frame the backend takes. */
  #maxFrame = DEFAULT_MAX_FRAME;
  /** The backend's initial stream window. */
  #peerInitialWindow = DEFAULT_WINDOW;
  /** What we may still send on the connection. */
  #connSend = DEFAULT_WINDOW;
  /** Our connection window, and the bytes received and not yet given back. */
  readonly #connWindow: number;
  #connUnacked = 0;
  /** Streams waiting for the connection window. */
  #blocked = new Set<StreamHandler>();
  /** Settled by the backend's first SETTINGS (the connect waits for it), rejected when the connection ends first. */
  #settingsSeen: PromiseWithResolvers<void> | undefined;
  /** Graceful close asked: the connection ends once no stream is left. */
  #closing = false;

  constructor(backend: Backend, how: H2SessionOptions) {
    this.addr = backend.addr;
    this.#how = how;
    this.#connWindow = Math.max(DEFAULT_WINDOW, how.connectionWindow ?? DEFAULT_WINDOW);
    this.ready = this.#connect(backend);
    // A session that nobody awaits any more must not turn its failure into an unhandled rejection.
    this.ready.catch(ignore);
  }

  /** The stream window we announce, bytes. */
  get streamWindow(): number {
    return this.#how.streamWindow ?? DEFAULT_WINDOW;
  }

  async #connect(backend: Backend): Promise<void> {
    const o = this.#how.options;
    const where = backend.addr;
    const started = performance.now();
    const timers: ReturnType<typeof setTimeout>[] = [];
    const ac = new AbortController();
    let timedOut = false;
    let tlsSocket: TLSSocket | undefined;
    const limit = (ms: number | undefined) => {
      if (ms === undefined || ms <= 0) return;
      timers.push(setTimeout(() => {
        timedOut = true;
        ac.abort();
        tlsSocket?.destroy(new Error("timed out"));
        if (this.#io !== undefined) this.#lost("timed out");
      }, ms));
    };
    limit(o.connectionTimeout);
    limit(o.totalConnectionTimeout);
    let io: ByteStream;
    try {
      if (o.tls) {
        io = await this.#connectTls(backend, (s) => tlsSocket = s, () => {
          // The TCP part is done: only the total limit holds the handshake.
          if (timers.length > 1) clearTimeout(timers.shift());
          else if (o.totalConnectionTimeout === undefined || o.totalConnectionTimeout <= 0) clearTimeout(timers[0]);
        });
      } else {
        const tcp = await Deno.connect({ hostname: backend.host, port: backend.port, signal: ac.signal });
        tcp.setNoDelay(true);
        if (o.socket !== undefined) {
          setBackendSocketOptions(
            { localPort: tcp.localAddr.port, remoteHost: tcp.remoteAddr.hostname, remotePort: tcp.remoteAddr.port },
            o.socket,
          );
        }
        io = tcp;
      }
    } catch (error) {
      for (const t of timers) clearTimeout(t);
      this.#markGone();
      this.#finish();
      if (timedOut) throw new UpstreamError("timeout", `Cannot connect to ${where}: timed out`, false);
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError("connect", `Cannot connect to ${where}: ${(error as Error).message}`, false, {
        cause: error,
      });
    }
    if (this.closed) {
      for (const t of timers) clearTimeout(t);
      // Destroyed while connecting.
      io.close();
      throw new UpstreamError("connect", `Cannot connect to ${where}: connection closed`, false);
    }
    this.#io = io;
    const real = new FrameWriter(io, () => this.#lost("connection write failed"));
    this.#out = real;
    const settings = [SETTINGS_ENABLE_PUSH, 0];
    if (this.#how.streamWindow !== undefined) settings.push(SETTINGS_INITIAL_WINDOW_SIZE, this.#how.streamWindow);
    this.#raw(real, PREFACE);
    real.frame(SETTINGS, 0, 0, settingsPayload(settings));
    if (this.#connWindow > DEFAULT_WINDOW) {
      real.frame(WINDOW_UPDATE, 0, 0, uint32Payload(this.#connWindow - DEFAULT_WINDOW));
    }
    // The backend's SETTINGS (its windows, frame size and stream limit) are known before the first stream.
    const settled = Promise.withResolvers<void>();
    this.#settingsSeen = settled;
    void this.#read(io);
    const cap = setTimeout(() => this.#lost("no SETTINGS from the backend"), SETTINGS_WAIT);
    try {
      await settled.promise;
    } catch (error) {
      if (timedOut) throw new UpstreamError("timeout", `Cannot connect to ${where}: timed out`, false);
      throw new UpstreamError("connect", `Cannot connect to ${where}: ${(error as Error).message}`, false);
    } finally {
      clearTimeout(cap);
      for (const t of timers) clearTimeout(t);
    }
    this.connected = true;
    this.connectTime = performance.now() - started;
    if (this.#closing && this.active === 0) this.#shutdown();
  }

  /** Puts raw bytes (the preface) into the output, as a frame header would go. */
  #raw(out: FrameWriter, bytes: Uint8Array): void {
    // The preface is 24 bytes: written as a frame "header" of 9 then the rest, byte for byte.
    out.frameWith(0, 0, 0, bytes.byteLength - FRAME_HEADER, (buf, at) => {
      buf.set(bytes, at - FRAME_HEADER);
    });
  }

  #connectTls(backend: Backend, started: (s: TLSSocket) => void, tcpDone: () => void): Promise<ByteStream> {
    const o = this.#how.options;
    const how = this.#how;
    const where = backend.addr;
    const servername = o.sni && o.sni !== "$host" ? o.sni : backend.host;
    return new Promise<ByteStream>((resolve, reject) => {
      let tcpAt = 0;
      const tls: TLSSocket = tlsConnect({
        host: backend.host,
        port: backend.port,
        ...(isIP(servername) ? {} : { servername }),
        rejectUnauthorized: o.verifyCert,
        ALPNProtocols: ["h2"],
        ...(how.caCerts === undefined ? {} : { ca: [...how.caCerts] }),
        ...(how.clientCert === undefined ? {} : { cert: how.clientCert.cert, key: how.clientCert.key }),
      });
      started(tls);
      tls.setNoDelay(true);
      tls.once("connect", () => {
        tcpAt = performance.now();
        tcpDone();
        if (o.socket !== undefined) setNodeSocketOptions(tls, o.socket);
      });
      tls.once("secureConnect", () => {
        tls.removeListener("error", reject);
        if (tcpAt > 0) this.tlsTime = performance.now() - tcpAt;
        if (tls.alpnProtocol !== "h2") {
          tls.destroy();
          reject(
            new UpstreamError(
              "connect",
              `Cannot connect to ${where}: the backend did not choose h2 in ALPN (got ${tls.alpnProtocol || "none"})`,
              false,
            ),
          );
          return;
        }
        resolve(new NodeSocketStream(tls));
      });
      tls.once("error", reject);
    });
  }

  async #read(io: ByteStream): Promise<void> {
    try {
      // The preface given as read already: the reader checks it against itself and goes on to frames.
      await readFrames(io, PREFACE, (h, b, p) => this.#onFrame(h, b, p), () => this.closed);
      this.#lost("connection closed");
    } catch (error) {
      if (error instanceof ConnectionError) {
        this.#out?.frame(GOAWAY, 0, 0, goawayPayload(0, error.code, error.message));
        this.#lost(`protocol error: ${error.message}`);
      } else {
        this.#lost(`connection failed: ${(error as Error).message}`);
      }
    }
  }

  #onFrame(h: FrameHeader, b: Uint8Array, p: number): void {
    if (this.#blocks.pendingId !== 0 && h.type !== CONTINUATION) {
      throw new ConnectionError(PROTOCOL_ERROR, "a frame inside a header block");
    }
    switch (h.type) {
      case DATA:
        return this.#onData(h, b, p);
      case HEADERS: {
        if (h.stream === 0) throw new ConnectionError(PROTOCOL_ERROR, "HEADERS on stream 0");
        const block = this.#blocks.headers(h, b, p);
        if (block !== undefined) this.#onBlock(block.id, block.flags, block.block);
        return;
      }
      case CONTINUATION: {
        const block = this.#blocks.continuation(h, b, p);
        if (block !== undefined) this.#onBlock(block.id, block.flags, block.block);
        return;
      }
      case RST_STREAM: {
        if (h.length !== 4 || h.stream === 0) throw new ConnectionError(PROTOCOL_ERROR, "a malformed RST_STREAM");
        const s = this.#streams.get(h.stream);
        if (s === undefined) return;
        this.#drop(s);
        s.onReset(readUint32(b, p), "");
        return;
      }
      case SETTINGS:
        return this.#onSettings(h, b, p);
      case PUSH_PROMISE:
        throw new ConnectionError(PROTOCOL_ERROR, "PUSH_PROMISE with push disabled");
      case PING:
        if (h.length !== 8 || h.stream !== 0) throw new ConnectionError(PROTOCOL_ERROR, "a malformed PING");
        if ((h.flags & ACK) === 0) this.#out?.frame(PING, ACK, 0, b.slice(p, p + 8));
        return;
      case GOAWAY: {
        if (h.length < 8 || h.stream !== 0) throw new ConnectionError(PROTOCOL_ERROR, "a malformed GOAWAY");
        return this.#onGoaway(readUint31(b, p), readUint32(b, p + 4));
      }
      case WINDOW_UPDATE: {
        if (h.length !== 4) throw new ConnectionError(PROTOCOL_ERROR, "a malformed WINDOW_UPDATE");
        const inc = readUint31(b, p);
        if (h.stream === 0) {
          if (inc === 0) throw new ConnectionError(PROTOCOL_ERROR, "a WINDOW_UPDATE of 0");
          this.#connSend += inc;
          if (this.#connSend > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, "connection window overflow");
          const blocked = this.#blocked;
          this.#blocked = new Set();
          for (const s of blocked) s.wake?.();
          return;
        }
        const s = this.#streams.get(h.stream);
        if (s === undefined) return;
        if (inc === 0 || s.sendWindow + inc > MAX_WINDOW) {
          this.reset(s, inc === 0 ? PROTOCOL_ERROR : FLOW_CONTROL_ERROR);
          s.onReset(PROTOCOL_ERROR, "a bad WINDOW_UPDATE from the backend");
          return;
        }
        s.sendWindow += inc;
        s.wake?.();
        return;
      }
      default:
        // PRIORITY and unknown types are ignored.
        return;
    }
  }

  #onData(h: FrameHeader, b: Uint8Array, p: number): void {
    if (h.stream === 0) throw new ConnectionError(PROTOCOL_ERROR, "DATA on stream 0");
    this.#connUnacked += h.length;
    if (this.#connUnacked > this.#connWindow) throw new ConnectionError(FLOW_CONTROL_ERROR, "connection window");
    if (this.#connUnacked >= this.#connWindow >>> 1) {
      this.#out?.frame(WINDOW_UPDATE, 0, 0, uint32Payload(this.#connUnacked));
      this.#connUnacked = 0;
    }
    const s = this.#streams.get(h.stream);
    if (s === undefined) return;
    const end = unpaddedEnd(h, b, p);
    const start = (h.flags & 0x8) !== 0 ? p + 1 : p;
    if (end < start) throw new ConnectionError(PROTOCOL_ERROR, "DATA padding longer than the frame");
    const last = (h.flags & END_STREAM) !== 0;
    s.onData(b.subarray(start, end), last, h.length);
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
          this.reset(s, PROTOCOL_ERROR);
          s.onReset(PROTOCOL_ERROR, "the response head is too large");
        }
        return;
      }
      throw new ConnectionError(0x9, `HPACK: ${(error as Error).message}`);
    }
    const s = this.#streams.get(id);
    if (s === undefined) return;
    s.onHeaders(fields, (flags & END_STREAM) !== 0);
  }

  #onSettings(h: FrameHeader, b: Uint8Array, p: number): void {
    if (h.stream !== 0) throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS on a stream");
    if ((h.flags & ACK) !== 0) return;
    const seen = this.#settingsSeen;
    this.#settingsSeen = undefined;
    if (h.length % 6 !== 0) throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS not a multiple of 6 bytes");
    for (let i = p; i < p + h.length; i += 6) {
      const v = readUint32(b, i + 2);
      switch ((b[i]! << 8) | b[i + 1]!) {
        case SETTINGS_HEADER_TABLE_SIZE:
          this.#enc.setPeerMaxTableSize(v);
          break;
        case SETTINGS_MAX_CONCURRENT_STREAMS:
          this.remoteMaxStreams = v;
          break;
        case SETTINGS_INITIAL_WINDOW_SIZE: {
          if (v > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE too large");
          const delta = v - this.#peerInitialWindow;
          this.#peerInitialWindow = v;
          for (const s of this.#streams.values()) {
            s.sendWindow += delta;
            if (delta > 0) s.wake?.();
          }
          break;
        }
        case SETTINGS_MAX_FRAME_SIZE:
          if (v < DEFAULT_MAX_FRAME || v > MAX_MAX_FRAME) {
            throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range");
          }
          this.#maxFrame = v;
          break;
      }
    }
    this.#out?.frame(SETTINGS, ACK, 0);
    seen?.resolve();
  }

  #onGoaway(last: number, code: number): void {
    this.goawayLastStreamId = last;
    this.#markGone();
    this.#closing = true;
    for (const s of [...this.#streams.values()]) {
      if (s.id <= last) continue;
      this.#drop(s);
      s.onReset(ABOVE_GOAWAY, `the backend sent GOAWAY (code ${code})`);
    }
    // Let the streams the backend still serves finish; a session with none left closes now.
    if (this.#streams.size === 0) this.#shutdown();
  }

  /** Streams allowed on this session now: ours, capped by the backend's SETTINGS_MAX_CONCURRENT_STREAMS. */
  get limit(): number {
    const remote = this.remoteMaxStreams;
    return remote === undefined || remote <= 0 ? this.#how.maxStreams : Math.min(this.#how.maxStreams, remote);
  }

  /** Can take one more stream without exceeding its limit. */
  get hasRoom(): boolean {
    return !this.gone && this.active < this.limit;
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
    if (this.#nextId > MAX_WINDOW) {
      this.#markGone();
      throw new Error("stream ids exhausted");
    }
    const id = this.#nextId;
    this.#nextId += 2;
    s.id = id;
    s.sendWindow = this.#peerInitialWindow;
    this.#streams.set(id, s);
    const block = this.#enc.encode(fields);
    const max = this.#maxFrame;
    const flags = end ? END_STREAM : 0;
    if (block.byteLength <= max) {
      out.frame(HEADERS, flags | END_HEADERS, id, block);
      return;
    }
    out.frame(HEADERS, flags, id, block, 0, max);
    for (let off = max; off < block.byteLength; off += max) {
      const n = Math.min(max, block.byteLength - off);
      out.frame(CONTINUATION, off + n === block.byteLength ? END_HEADERS : 0, id, block, off, n);
    }
  }

  /**
   * Sends as much of `bytes` from `off` as the windows allow; `end` sets END_STREAM once all went. Returns the offset
   * reached (below the length: wait with {@linkcode waitWindow}).
   */
  send(s: StreamHandler, bytes: Uint8Array, off: number, end: boolean): number {
    const out = this.#out;
    if (out === undefined || !this.#streams.has(s.id)) return bytes.byteLength;
    const total = bytes.byteLength;
    if (off === total) {
      if (end) out.frame(DATA, END_STREAM, s.id);
      return off;
    }
    while (off < total) {
      const n = Math.min(total - off, s.sendWindow, this.#connSend, this.#maxFrame);
      if (n <= 0) {
        if (this.#connSend <= 0) this.#blocked.add(s);
        break;
      }
      s.sendWindow -= n;
      this.#connSend -= n;
      const last = end && off + n === total;
      out.frame(DATA, last ? END_STREAM : 0, s.id, bytes, off, n);
      off += n;
    }
    return off;
  }

  /** Whether the output holds much unwritten (producers wait with {@linkcode drained}). */
  get full(): boolean {
    return this.#out?.full ?? false;
  }

  /** Settles once the output drained below its high mark. */
  drained(): Promise<void> {
    return this.#out?.drained() ?? Promise.resolve();
  }

  /** Gives `n` bytes of the stream's window back (its consumer took them). */
  credit(s: StreamHandler, n: number): void {
    if (n > 0 && this.#streams.has(s.id)) this.#out?.frame(WINDOW_UPDATE, 0, s.id, uint32Payload(n));
  }

  /** Resets the stream (RST_STREAM `code`); its handler hears nothing more. */
  reset(s: StreamHandler, code: number): void {
    if (!this.#streams.has(s.id)) return;
    this.#out?.frameWith(RST_STREAM, 0, s.id, 4, (buf, at) => writeUint32(buf, at, code));
    this.#drop(s);
  }

  /** Forgets the stream (the backend's side ended, or it was reset); its exchange calls it once done. */
  finish(s: StreamHandler): void {
    this.#drop(s);
  }

  #drop(s: StreamHandler): void {
    if (!this.#streams.delete(s.id)) return;
    this.#blocked.delete(s);
    const wake = s.wake;
    s.wake = undefined;
    wake?.();
    if (this.#closing && this.#streams.size === 0) this.#shutdown();
  }

  /** Reserves a stream slot. */
  reserve(): void {
    this.active++;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** Frees a stream slot; an idle session closes after `idleTimeout` (at once when it is 0 or the session is gone). */
  release(): void {
    this.active--;
    if (this.active > 0) return;
    if (this.gone) {
      this.close();
      return;
    }
    const idle = this.#how.options.idleTimeout;
    if (idle <= 0) {
      this.close();
      return;
    }
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.active > 0) return;
      this.close();
    }, idle);
  }

  /** Graceful close: no new streams, open ones finish. */
  close(): void {
    this.#markGone();
    clearTimeout(this.#idleTimer);
    this.#closing = true;
    if (this.#streams.size === 0) this.#shutdown();
  }

  /** Closes at once; open streams fail. */
  destroy(): void {
    this.#markGone();
    clearTimeout(this.#idleTimer);
    this.#lost("connection closed");
  }

  /** Ends a connection with no stream left: GOAWAY, then the socket closes once it went out. */
  #shutdown(): void {
    if (this.closed) return;
    const out = this.#out;
    const io = this.#io;
    // Not connected yet: the connect shuts it down once it is.
    if (out === undefined || io === undefined) return;
    this.#finish();
    out.frame(GOAWAY, 0, 0, goawayPayload(0, NO_ERROR));
    void out.flushedWithin(1000).then(() => {
      out.close();
      try {
        io.close();
      } catch { /* closed */ }
    });
  }

  /** The connection is gone: every stream fails. */
  #lost(detail: string): void {
    if (this.closed) return;
    this.#settingsSeen?.reject(new Error(detail));
    this.#settingsSeen = undefined;
    this.#markGone();
    this.#finish();
    this.#out?.close();
    try {
      this.#io?.close();
    } catch { /* closed */ }
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#blocked.clear();
    for (const s of streams) {
      const wake = s.wake;
      s.wake = undefined;
      wake?.();
      s.onReset(CONNECTION_LOST, detail);
    }
  }

  /** Marks the connection closed (once) and tells the client. */
  #finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.#idleTimer);
    this.#how.onClosed?.(this);
  }

  #markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.#how.onGone(this);
  }
}

function ignore(): void {}
