/**
 * One HTTP/2 connection served (RFC 9113): the client preface, SETTINGS and their acknowledgement, PING,
 * WINDOW_UPDATE both ways, GOAWAY, RST_STREAM, header blocks (HEADERS and CONTINUATION, HPACK), DATA with padding,
 * PRIORITY read and ignored, stream states. A fault of the client is a stream error (RST_STREAM) or a connection error
 * (GOAWAY, then the connection closes); nothing a client sends can throw out of it.
 *
 * Defences: a client that resets streams faster than {@linkcode RESETS_PER_SECOND} allows (rapid reset,
 * CVE-2023-44487), a header block larger than the header list allows (CONTINUATION flood) and more acknowledgements
 * waiting than {@linkcode MAX_ACKS} (SETTINGS and PING floods of a client that does not read) end the connection with
 * ENHANCE_YOUR_CALM. The engine's sweep ({@linkcode H2Connection.sweep}) applies the time limits: a write that does not
 * go out, a response held by a closed window, a request body that stalls, a connection idle too long.
 *
 * @module
 */
import type { ByteStream } from "../byte_stream.ts";
import type { ConnectionFacts, TlsFacts } from "../../http/message.ts";
import { ClientWatch, WireRequest } from "../h1/request.ts";
import { nextConnectionId } from "../h1/connection.ts";
import { HpackDecoder, HpackEncoder } from "./hpack.ts";
import {
  ACK,
  CANCEL,
  COMPRESSION_ERROR,
  ConnectionError,
  CONTINUATION,
  DATA,
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  END_HEADERS,
  END_STREAM,
  ENHANCE_YOUR_CALM,
  FLOW_CONTROL_ERROR,
  FRAME_HEADER,
  FRAME_SIZE_ERROR,
  type FrameHeader,
  GOAWAY,
  goawayPayload,
  HEADERS,
  MAX_MAX_FRAME,
  MAX_WINDOW,
  NO_ERROR,
  PADDED,
  PING,
  PREFACE,
  PRIORITY,
  PRIORITY_FLAG,
  PROTOCOL_ERROR,
  PUSH_PROMISE,
  readFrameHeader,
  readUint31,
  readUint32,
  REFUSED_STREAM,
  RST_STREAM,
  SETTINGS,
  SETTINGS_ENABLE_PUSH,
  SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_FRAME_SIZE,
  SETTINGS_MAX_HEADER_LIST_SIZE,
  settingsPayload,
  STREAM_CLOSED,
  StreamError,
  uint32Payload,
  WINDOW_UPDATE,
} from "./frames.ts";
import { H2Stream, type StreamHost } from "./stream.ts";
import { FrameWriter } from "./writer.ts";
import { requestHead } from "./request_head.ts";

/** What a connection announces and enforces (the server's `h2_*` keys). */
export interface H2Settings {
  /** SETTINGS_MAX_CONCURRENT_STREAMS (`h2_max_concurrent_streams`, default 100). */
  readonly maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE (`h2_max_header_list_size`, default 64 KiB): larger heads get 431. */
  readonly maxHeaderListSize: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE (`h2_initial_window_size`): what a client may send on a stream unread. */
  readonly initialWindowSize: number;
  /** The connection's window (`h2_initial_connection_window_size`). */
  readonly connectionWindowSize: number;
}

/** The time limits the sweep applies (ms; 0: none). */
export interface H2Limits {
  /** A connection with no stream open this long gets GOAWAY and closes. */
  readonly idle: number;
  /** A request body the handler waits for that long is reset (CANCEL). */
  readonly read: number;
  /** A write that does not go out, or a response that waits for window, this long: cut or reset. */
  readonly write: number;
}

/** What a connection asks of the engine. */
export interface ConnectionHost {
  readonly settings: H2Settings;
  /** A request's head came (its body may follow): answer it with {@linkcode H2Connection.respond}. */
  serve(conn: H2Connection, stream: H2Stream): void;
  /** An answer the connection makes itself (431, 400, 405): the engine writes it. */
  answer(conn: H2Connection, stream: H2Stream, status: number): void;
  /** The URL authority of a request that names none. */
  authority(): string;
  /** A connection error of a client (its GOAWAY code and why), for the log. */
  log?(conn: H2Connection, code: number, message: string): void;
}

/** Client resets a second past which the connection is cut (rapid reset). */
const RESETS_PER_SECOND = 200;
/** Acknowledgements (SETTINGS, PING) waiting to be written past which the connection is cut. */
export const MAX_ACKS = 1000;
/** CONTINUATION frames one header block may take. */
const MAX_CONTINUATIONS = 128;
/** The interim answer to `expect: 100-continue`. */
const CONTINUE = [":status", "100"];
/** The read buffer. */
const READ_SIZE = 64 * 1024;

/** A header block being read: HEADERS, then CONTINUATION until END_HEADERS. */
interface Pending {
  readonly id: number;
  readonly flags: number;
  readonly parts: Uint8Array[];
  bytes: number;
  frames: number;
}

/** A connection. */
export class H2Connection implements StreamHost, ConnectionFacts {
  readonly id: number = nextConnectionId();
  readonly since: number = Date.now();
  readonly #io: ByteStream;
  readonly #host: ConnectionHost;
  readonly #out: FrameWriter;
  readonly #dec: HpackDecoder;
  readonly #enc = new HpackEncoder();
  readonly #streams = new Map<number, H2Stream>();
  readonly #settings: H2Settings;
  readonly #header: FrameHeader = { length: 0, type: 0, flags: 0, stream: 0 };
  /** The highest stream a client opened. */
  #highest = 0;
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  #peerInitialWindow = DEFAULT_WINDOW;
  /** What we may still send on the connection. */
  #sendWindow = DEFAULT_WINDOW;
  /** What the client may still send on the connection. */
  #recvWindow: number;
  #recvUnacked = 0;
  /** The client acknowledged our SETTINGS. */
  #acked = false;
  #gotSettings = false;
  #pending: Pending | undefined;
  /** GOAWAY went out: streams above {@linkcode #lastStream} are ignored. */
  #goaway = false;
  #lastStream = 0;
  #peerGoaway = false;
  #ended = false;
  #resets = 0;
  #resetWindow = 0;
  /** Streams waiting for the connection window. */
  readonly #blocked = new Set<H2Stream>();
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
    this.#settings = host.settings;
    this.#dec = new HpackDecoder(4096, host.settings.maxHeaderListSize);
    this.#recvWindow = DEFAULT_WINDOW;
    this.#out = new FrameWriter(io, () => this.#teardown(new Deno.errors.ConnectionReset("the write failed")));
  }

  /** Streams open. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Settles once the connection is closed. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /**
   * Serves the connection: our SETTINGS first, then what the client sends, `initial` (read already) first.
   * Settles once it is closed.
   */
  async run(initial: Uint8Array): Promise<void> {
    const s = this.#settings;
    this.#out.frame(
      SETTINGS,
      0,
      0,
      settingsPayload([
        SETTINGS_MAX_CONCURRENT_STREAMS,
        s.maxConcurrentStreams,
        SETTINGS_INITIAL_WINDOW_SIZE,
        s.initialWindowSize,
        SETTINGS_MAX_HEADER_LIST_SIZE,
        s.maxHeaderListSize,
        SETTINGS_ENABLE_PUSH,
        0,
      ]),
    );
    if (s.connectionWindowSize > DEFAULT_WINDOW) {
      const more = s.connectionWindowSize - DEFAULT_WINDOW;
      this.#out.frame(WINDOW_UPDATE, 0, 0, uint32Payload(more));
      this.#recvWindow += more;
    }
    let buf = new Uint8Array(Math.max(READ_SIZE, initial.byteLength * 2));
    buf.set(initial);
    let start = 0;
    let end = initial.byteLength;
    let preface = false;
    try {
      for (;;) {
        // Every whole frame in the buffer.
        for (;;) {
          if (this.#ended) return;
          if (!preface) {
            const n = Math.min(end - start, PREFACE.byteLength);
            for (let i = 0; i < n; i++) {
              if (buf[start + i] !== PREFACE[i]) throw new ConnectionError(PROTOCOL_ERROR, "bad connection preface");
            }
            if (n < PREFACE.byteLength) break;
            start += n;
            preface = true;
          }
          if (end - start < FRAME_HEADER) break;
          const h = this.#header;
          readFrameHeader(buf, start, h);
          if (h.length > DEFAULT_MAX_FRAME) {
            throw new ConnectionError(FRAME_SIZE_ERROR, `a frame of ${h.length} bytes`);
          }
          if (end - start < FRAME_HEADER + h.length) break;
          const at = start + FRAME_HEADER;
          start = at + h.length;
          this.#frame(h, buf, at);
        }
        if (start === end) start = end = 0;
        else if (buf.byteLength - end < FRAME_HEADER + DEFAULT_MAX_FRAME) {
          if (start > 0) {
            buf.copyWithin(0, start, end);
            end -= start;
            start = 0;
          } else {
            const next = new Uint8Array(buf.byteLength * 2);
            next.set(buf.subarray(0, end));
            buf = next;
          }
        }
        if (this.#ended) return;
        let n: number | null;
        try {
          n = await this.#io.read(buf.subarray(end));
        } catch {
          n = null;
        }
        if (n === null) {
          // The client went; a half-read frame or a missing preface is dropped with it.
          this.#teardown(new Deno.errors.ConnectionReset("the client closed the connection"));
          return;
        }
        end += n;
      }
    } catch (error) {
      if (error instanceof ConnectionError) await this.#terminate(error.code, error.message);
      else await this.#terminate(PROTOCOL_ERROR, "internal fault");
    } finally {
      await this.#done.promise;
    }
  }

  /** One frame, its payload at `p` of `b` (valid only during the call). */
  #frame(h: FrameHeader, b: Uint8Array, p: number): void {
    if (this.#pending !== undefined && (h.type !== CONTINUATION || h.stream !== this.#pending.id)) {
      throw new ConnectionError(PROTOCOL_ERROR, "a frame inside a header block");
    }
    if (!this.#gotSettings) {
      if (h.type !== SETTINGS || (h.flags & ACK) !== 0) {
        throw new ConnectionError(PROTOCOL_ERROR, "the preface's SETTINGS missing");
      }
      this.#gotSettings = true;
    }
    try {
      switch (h.type) {
        case DATA:
          return this.#data(h, b, p);
        case HEADERS:
          return this.#headers(h, b, p);
        case CONTINUATION:
          return this.#continuation(h, b, p);
        case PRIORITY:
          if (h.stream === 0) throw new ConnectionError(PROTOCOL_ERROR, "PRIORITY on stream 0");
          if (h.length !== 5) throw new StreamError(h.stream, FRAME_SIZE_ERROR, "PRIORITY not of 5 bytes");
          return;
        case RST_STREAM:
          return this.#rstStream(h, b, p);
        case SETTINGS:
          return this.#settingsFrame(h, b, p);
        case PUSH_PROMISE:
          throw new ConnectionError(PROTOCOL_ERROR, "PUSH_PROMISE from a client");
        case PING:
          if (h.stream !== 0) throw new ConnectionError(PROTOCOL_ERROR, "PING on a stream");
          if (h.length !== 8) throw new ConnectionError(FRAME_SIZE_ERROR, "PING not of 8 bytes");
          if ((h.flags & ACK) !== 0) return;
          this.#out.frame(PING, ACK, 0, b, p, 8);
          this.#ack();
          return;
        case GOAWAY:
          if (h.stream !== 0) throw new ConnectionError(PROTOCOL_ERROR, "GOAWAY on a stream");
          if (h.length < 8) throw new ConnectionError(FRAME_SIZE_ERROR, "GOAWAY shorter than 8 bytes");
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
      this.#countReset();
      this.#out.frame(RST_STREAM, 0, error.id, uint32Payload(error.code));
      if (s !== undefined) this.#close(s, new Deno.errors.InvalidData(error.message));
    }
  }

  /** One more acknowledgement waits: a client that makes them faster than it reads them is cut. */
  #ack(): void {
    this.#out.acks++;
    if (this.#out.acksWaiting > MAX_ACKS) {
      throw new ConnectionError(ENHANCE_YOUR_CALM, "too many acknowledgements waiting (SETTINGS or PING flood)");
    }
  }

  /** A stream reset by the client or for its fault: too many a second cut the connection (rapid reset). */
  #countReset(): void {
    const now = Date.now();
    if (now - this.#resetWindow > 1000) {
      this.#resetWindow = now;
      this.#resets = 0;
    }
    if (++this.#resets > Math.max(RESETS_PER_SECOND, 2 * this.#settings.maxConcurrentStreams)) {
      throw new ConnectionError(ENHANCE_YOUR_CALM, "too many streams reset (rapid reset)");
    }
  }

  #data(h: FrameHeader, b: Uint8Array, p: number): void {
    const id = h.stream;
    if (id === 0) throw new ConnectionError(PROTOCOL_ERROR, "DATA on stream 0");
    const len = h.length;
    let off = p;
    let size = len;
    if ((h.flags & PADDED) !== 0) {
      if (len < 1) throw new ConnectionError(FRAME_SIZE_ERROR, "a padded DATA without its pad length");
      const pad = b[p]!;
      if (pad >= len) throw new ConnectionError(PROTOCOL_ERROR, "DATA padding longer than the frame");
      off = p + 1;
      size = len - 1 - pad;
    }
    if (len > this.#recvWindow) throw new ConnectionError(FLOW_CONTROL_ERROR, "DATA beyond the connection window");
    this.#recvWindow -= len;
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (id > this.#highest) throw new ConnectionError(PROTOCOL_ERROR, "DATA on an idle stream");
      // A stream closed here (reset, answered): its bytes are dropped, the connection's window given back.
      this.#credit(len);
      return;
    }
    if (s.remoteEnded) {
      this.#credit(len);
      throw new StreamError(id, STREAM_CLOSED, "DATA after END_STREAM");
    }
    if (len > s.recvWindow) {
      this.#credit(len);
      throw new StreamError(id, FLOW_CONTROL_ERROR, "DATA beyond the stream window");
    }
    s.recvWindow -= len;
    if (len > size) this.consumed(s, len - size);
    s.received += size;
    if (s.req !== undefined) s.req.bodyRead = s.received;
    if (s.contentLength >= 0 && s.received > s.contentLength) {
      throw new StreamError(id, PROTOCOL_ERROR, "more DATA than the content-length");
    }
    if (size > 0) s.push(b.slice(off, off + size));
    if ((h.flags & END_STREAM) !== 0) this.#remoteEnd(s);
  }

  /** The client's END_STREAM came on `s`. */
  #remoteEnd(s: H2Stream): void {
    if (s.contentLength >= 0 && s.received !== s.contentLength) {
      throw new StreamError(s.id, PROTOCOL_ERROR, "DATA shorter than the content-length");
    }
    s.remoteEnded = true;
    s.endBody();
    if (s.localEnded) this.#close(s, undefined);
  }

  #headers(h: FrameHeader, b: Uint8Array, p: number): void {
    const id = h.stream;
    if (id === 0) throw new ConnectionError(PROTOCOL_ERROR, "HEADERS on stream 0");
    let off = p;
    let end = p + h.length;
    if ((h.flags & PADDED) !== 0) {
      if (h.length < 1) throw new ConnectionError(FRAME_SIZE_ERROR, "a padded HEADERS without its pad length");
      const pad = b[p]!;
      off++;
      end -= pad;
    }
    if ((h.flags & PRIORITY_FLAG) !== 0) off += 5;
    if (end < off) throw new ConnectionError(PROTOCOL_ERROR, "HEADERS padding longer than the frame");
    const fragment = b.subarray(off, end);
    if ((h.flags & END_HEADERS) === 0) {
      this.#pending = { id, flags: h.flags, parts: [fragment.slice()], bytes: fragment.byteLength, frames: 1 };
      this.#boundBlock(this.#pending);
      return;
    }
    this.#block(id, h.flags, fragment);
  }

  #continuation(h: FrameHeader, b: Uint8Array, p: number): void {
    const pending = this.#pending;
    if (pending === undefined) throw new ConnectionError(PROTOCOL_ERROR, "CONTINUATION outside a header block");
    pending.parts.push(b.slice(p, p + h.length));
    pending.bytes += h.length;
    pending.frames++;
    this.#boundBlock(pending);
    if ((h.flags & END_HEADERS) === 0) return;
    this.#pending = undefined;
    const block = new Uint8Array(pending.bytes);
    let at = 0;
    for (const part of pending.parts) {
      block.set(part, at);
      at += part.byteLength;
    }
    this.#block(pending.id, pending.flags, block);
  }

  /** A header block may take no more bytes than the header list may (compressed is no larger), nor many frames. */
  #boundBlock(pending: Pending): void {
    if (
      pending.bytes > Math.min(this.#settings.maxHeaderListSize, 1 << 24) + 1024 || pending.frames > MAX_CONTINUATIONS
    ) {
      throw new ConnectionError(ENHANCE_YOUR_CALM, "a header block too large (CONTINUATION flood)");
    }
  }

  /** A whole header block on stream `id`: a request head, or trailers. */
  #block(id: number, flags: number, block: Uint8Array): void {
    let list: string[] | undefined;
    try {
      list = this.#dec.decode(block);
    } catch (error) {
      // A header list too large was decoded whole (the table stays in step): the request gets 431.
      if ((error as { tooLarge?: boolean }).tooLarge !== true) {
        throw new ConnectionError(COMPRESSION_ERROR, `HPACK: ${(error as Error).message}`);
      }
    }
    const known = this.#streams.get(id);
    if (known !== undefined) {
      // Trailers: they end the stream and hold no pseudo-header field.
      if (known.remoteEnded) throw new StreamError(id, STREAM_CLOSED, "HEADERS after END_STREAM");
      if ((flags & END_STREAM) === 0) throw new StreamError(id, PROTOCOL_ERROR, "trailers without END_STREAM");
      if (list === undefined) throw new StreamError(id, PROTOCOL_ERROR, "trailers too large");
      for (let i = 0; i < list.length; i += 2) {
        if (list[i]!.charCodeAt(0) === 58) throw new StreamError(id, PROTOCOL_ERROR, "a pseudo-header in trailers");
      }
      this.#remoteEnd(known);
      return;
    }
    if (id % 2 === 0) throw new ConnectionError(PROTOCOL_ERROR, "a stream of even number from the client");
    // A stream closed already (reset, answered): its late trailers are dropped.
    if (id <= this.#highest) return;
    this.#highest = id;
    if (this.#goaway || this.#peerGoaway) return;
    if (this.#streams.size >= this.#settings.maxConcurrentStreams) {
      this.#countReset();
      this.#out.frame(RST_STREAM, 0, id, uint32Payload(REFUSED_STREAM));
      return;
    }
    const s = new H2Stream(
      id,
      this,
      new ClientWatch(),
      this.#acked ? this.#settings.initialWindowSize : Math.max(this.#settings.initialWindowSize, DEFAULT_WINDOW),
      this.#peerInitialWindow,
    );
    s.remoteEnded = (flags & END_STREAM) !== 0;
    if (list === undefined) {
      this.#open(s);
      this.#host.answer(this, s, 431);
      return;
    }
    const head = requestHead(list);
    if (typeof head === "string") {
      if (head === "CONNECT") {
        this.#open(s);
        this.#host.answer(this, s, 405);
        return;
      }
      throw new StreamError(id, PROTOCOL_ERROR, `malformed request: ${head}`);
    }
    s.contentLength = head.contentLength;
    s.expectContinue = head.expectContinue && !s.remoteEnded;
    if (s.remoteEnded && head.contentLength > 0) {
      throw new StreamError(id, PROTOCOL_ERROR, "END_STREAM before the content-length");
    }
    const method = head.method;
    s.head = method === "HEAD";
    const authority = head.authority === "" ? this.#host.authority() : head.authority;
    const req = new WireRequest(
      method,
      head.path,
      authority,
      head.fields,
      s.remoteEnded ? null : s.body(),
      s.watch,
      undefined,
      undefined,
      this,
      "HTTP/2.0",
    );
    req.served = this.served;
    s.req = req;
    this.#open(s);
    if (!hostOk(authority) || ((method === "GET" || method === "HEAD") && head.contentLength > 0)) {
      // As on HTTP/1.1: an authority that would change the URL's path, a GET body announced, are refused.
      this.#host.answer(this, s, 400);
      return;
    }
    this.#host.serve(this, s);
  }

  #open(s: H2Stream): void {
    this.#streams.set(s.id, s);
    this.served++;
  }

  #rstStream(h: FrameHeader, b: Uint8Array, p: number): void {
    if (h.stream === 0) throw new ConnectionError(PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (h.length !== 4) throw new ConnectionError(FRAME_SIZE_ERROR, "RST_STREAM not of 4 bytes");
    if (h.stream > this.#highest) throw new ConnectionError(PROTOCOL_ERROR, "RST_STREAM on an idle stream");
    const s = this.#streams.get(h.stream);
    if (s === undefined) return;
    const code = readUint32(b, p);
    this.#close(s, new Deno.errors.Interrupted(`The client reset the stream (${code})`));
    this.#countReset();
  }

  #settingsFrame(h: FrameHeader, b: Uint8Array, p: number): void {
    if (h.stream !== 0) throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS on a stream");
    if ((h.flags & ACK) !== 0) {
      if (h.length !== 0) throw new ConnectionError(FRAME_SIZE_ERROR, "a SETTINGS ACK with a payload");
      this.#acked = true;
      return;
    }
    if (h.length % 6 !== 0) throw new ConnectionError(FRAME_SIZE_ERROR, "SETTINGS not a multiple of 6 bytes");
    for (let i = p; i < p + h.length; i += 6) {
      const id = (b[i]! << 8) | b[i + 1]!;
      const v = readUint32(b, i + 2);
      switch (id) {
        case SETTINGS_HEADER_TABLE_SIZE:
          this.#enc.setPeerMaxTableSize(v);
          break;
        case SETTINGS_ENABLE_PUSH:
          if (v > 1) throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH not 0 or 1");
          break;
        case SETTINGS_INITIAL_WINDOW_SIZE: {
          if (v > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE too large");
          const delta = v - this.#peerInitialWindow;
          this.#peerInitialWindow = v;
          for (const s of this.#streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, "a stream window overflows");
            if (delta > 0) this.#wakeStream(s);
          }
          break;
        }
        case SETTINGS_MAX_FRAME_SIZE:
          if (v < DEFAULT_MAX_FRAME || v > MAX_MAX_FRAME) {
            throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range");
          }
          this.#peerMaxFrame = v;
          break;
      }
    }
    this.#out.frame(SETTINGS, ACK, 0);
    this.#ack();
  }

  #windowUpdate(h: FrameHeader, b: Uint8Array, p: number): void {
    if (h.length !== 4) throw new ConnectionError(FRAME_SIZE_ERROR, "WINDOW_UPDATE not of 4 bytes");
    const inc = readUint31(b, p);
    if (h.stream === 0) {
      if (inc === 0) throw new ConnectionError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
      this.#sendWindow += inc;
      if (this.#sendWindow > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, "the window overflows");
      if (this.#blocked.size > 0) {
        const blocked = [...this.#blocked];
        this.#blocked.clear();
        for (const s of blocked) this.#wakeStream(s);
      }
      return;
    }
    if (h.stream > this.#highest) throw new ConnectionError(PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
    const s = this.#streams.get(h.stream);
    if (s === undefined) return;
    if (inc === 0) throw new StreamError(s.id, PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) throw new StreamError(s.id, FLOW_CONTROL_ERROR, "the stream window overflows");
    this.#wakeStream(s);
  }

  #wakeStream(s: H2Stream): void {
    const wake = s.windowWake;
    if (wake === undefined) return;
    s.windowWake = undefined;
    wake();
  }

  /** Gives `n` bytes of the connection's window back (dropped or padding bytes). */
  #credit(n: number): void {
    this.#recvUnacked += n;
    this.#recvWindow += n;
    if (this.#recvUnacked >= this.#settings.connectionWindowSize / 2 || this.#recvUnacked >= DEFAULT_WINDOW / 2) {
      this.#out.frame(WINDOW_UPDATE, 0, 0, uint32Payload(this.#recvUnacked));
      this.#recvUnacked = 0;
    }
  }

  /** See {@linkcode StreamHost.consumed}: both windows opened again once half of them was read. */
  consumed(s: H2Stream, n: number): void {
    if (this.#ended) return;
    this.#credit(n);
    if (s.remoteEnded || s.closed) return;
    s.unacked += n;
    if (s.unacked >= this.#settings.initialWindowSize / 2) {
      this.#out.frame(WINDOW_UPDATE, 0, s.id, uint32Payload(s.unacked));
      s.recvWindow += s.unacked;
      s.unacked = 0;
    }
  }

  /** See {@linkcode StreamHost.continued}: `100` as an interim HEADERS frame, while no answer began. */
  continued(s: H2Stream): void {
    if (s.closed || s.headSent) return;
    this.#out.frame(HEADERS, END_HEADERS, s.id, this.#enc.encode(CONTINUE));
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
    s.closed = true;
    this.#streams.delete(s.id);
    this.#blocked.delete(s);
    if (this.#streams.size === 0) this.idleSince = Date.now();
    // What the handler did not read is given back to the connection's window.
    const left = s.queued;
    if (left > 0 && !this.#ended) this.#credit(left);
    if (error !== undefined || !s.localEnded) {
      const e = error ?? new Deno.errors.Interrupted("The stream closed");
      s.failBody(e);
      s.watch.abort(e);
      s.req?.settle(e);
    } else {
      // The answer went whole before the request body ended (the client was told to stop): a read of it ends.
      if (!s.remoteEnded) s.failBody(new Deno.errors.Interrupted("The response ended before the request body"));
      s.req?.settle(undefined);
    }
    this.#wakeStream(s);
    if ((this.#goaway || this.#peerGoaway) && this.#streams.size === 0) void this.#finish();
  }

  // ---- sending ------------------------------------------------------------------------------------------------

  /** Whether the connection can take no more frames. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The largest DATA frame the client takes. */
  get maxFrame(): number {
    return this.#peerMaxFrame;
  }

  /** Whether producers should wait for the output to drain ({@linkcode drained}). */
  get full(): boolean {
    return this.#out.full;
  }

  /** Settles once the output drained below its high mark. */
  drained(): Promise<void> {
    return this.#out.drained();
  }

  /** Sends a header block (a response head, or trailers with `end`); `end` closes our side. */
  sendHeaders(s: H2Stream, fields: readonly string[], end: boolean): void {
    if (s.closed) return;
    s.headSent = true;
    const block = this.#enc.encode(fields);
    const max = this.#peerMaxFrame;
    const flags = end ? END_STREAM : 0;
    if (block.byteLength <= max) this.#out.frame(HEADERS, flags | END_HEADERS, s.id, block);
    else {
      this.#out.frame(HEADERS, flags, s.id, block, 0, max);
      let off = max;
      while (off < block.byteLength) {
        const n = Math.min(max, block.byteLength - off);
        this.#out.frame(CONTINUATION, off + n === block.byteLength ? END_HEADERS : 0, s.id, block, off, n);
        off += n;
      }
    }
    if (end) this.#localEnd(s);
  }

  /**
   * Sends as much of `bytes` from `off` as the windows allow now, in frames the client takes; `end` sets END_STREAM
   * on the last one once all went. Returns the offset reached.
   */
  sendSome(s: H2Stream, bytes: Uint8Array, off: number, end: boolean): number {
    if (s.closed) return off;
    const total = bytes.byteLength;
    if (off === total) {
      if (end) {
        this.#out.frame(DATA, END_STREAM, s.id);
        this.#localEnd(s);
      }
      return off;
    }
    while (off < total) {
      const n = Math.min(total - off, this.#sendWindow, s.sendWindow, this.#peerMaxFrame);
      if (n <= 0) break;
      this.#sendWindow -= n;
      s.sendWindow -= n;
      const last = end && off + n === total;
      this.#out.frame(DATA, last ? END_STREAM : 0, s.id, bytes, off, n);
      off += n;
      if (last) this.#localEnd(s);
    }
    return off;
  }

  /** Settles once `s` may send again (a window opened) or it closed; the sweep bounds the wait. */
  waitWindow(s: H2Stream): Promise<void> {
    if (s.closed) return Promise.resolve();
    s.blockedSince = Date.now();
    if (this.#sendWindow <= 0) this.#blocked.add(s);
    return new Promise<void>((resolve) => {
      s.windowWake = () => {
        s.blockedSince = -1;
        resolve();
      };
    });
  }

  /** Our END_STREAM went: the stream closes, at once if the client's came, else with RST_STREAM NO_ERROR (§8.1). */
  #localEnd(s: H2Stream): void {
    s.localEnded = true;
    if (s.remoteEnded) return this.#close(s, undefined);
    // The answer is whole before the request: the client need not send the rest.
    this.#out.frame(RST_STREAM, 0, s.id, uint32Payload(NO_ERROR));
    this.#close(s, undefined);
  }

  // ---- ending -------------------------------------------------------------------------------------------------

  /** Graceful end: GOAWAY (NO_ERROR) with the last stream taken; open streams finish, then the connection closes. */
  goaway(): void {
    if (this.#goaway || this.#ended) return;
    this.#goaway = true;
    this.#lastStream = this.#highest;
    this.#out.frame(GOAWAY, 0, 0, goawayPayload(this.#lastStream, NO_ERROR));
    if (this.#streams.size === 0) void this.#finish();
  }

  /** No stream is left after a GOAWAY: what waits goes out, then the connection closes. */
  async #finish(): Promise<void> {
    if (this.#ended) return;
    await this.#out.flushed();
    if (this.#ended || (this.#streams.size > 0 && !this.#out.closed)) return;
    // Our side ends; the client's end (read by the loop) closes the connection, or a second passes.
    this.#out.close();
    try {
      await this.#io.closeWrite();
    } catch { /* gone */ }
    const timer = setTimeout(() => this.#teardown(undefined), 1000);
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
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#out.flushed(),
      new Promise<void>((resolve) => timer = setTimeout(resolve, 1000)),
    ]);
    clearTimeout(timer);
    // The client's bytes still in flight are read and dropped for a moment, so that the close does not become a
    // TCP reset that would lose the GOAWAY.
    try {
      await this.#io.closeWrite();
      const sink = new Uint8Array(16384);
      const until = Date.now() + 1000;
      while (Date.now() < until) {
        let t: ReturnType<typeof setTimeout> | undefined;
        const n = await Promise.race([
          this.#io.read(sink),
          new Promise<null>((resolve) => t = setTimeout(() => resolve(null), until - Date.now())),
        ]);
        clearTimeout(t);
        if (n === null) break;
      }
    } catch { /* gone */ }
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
    for (const s of [...this.#streams.values()]) {
      if (limits.read > 0 && s.bodyWaitingSince >= 0 && now - s.bodyWaitingSince > limits.read) this.reset(s, CANCEL);
      else if (limits.write > 0 && s.blockedSince >= 0 && now - s.blockedSince > limits.write) this.reset(s, CANCEL);
    }
  }
}

/** Is `host` a host (and port) only: nothing that would end the authority of `http://${host}/…` early? */
export function hostOk(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    // "/", "?", "#", "@", "\\", space and controls.
    if (c === 47 || c === 63 || c === 35 || c === 64 || c === 92 || c <= 32 || c === 127) return false;
  }
  return true;
}
