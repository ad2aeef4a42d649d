/**
 * One client connection of the HTTP/1.1 front end: reads request heads, hands each request to the handler, writes
 * its response, and keeps the connection alive. Pipelined requests are answered in order (they wait their turn) when
 * the server allows it (`h1_pipelining`); otherwise a request that came with bytes of the next one behind it is the
 * connection's last (answered with `connection: close`; the rest is dropped, as Pingora does).
 * A request still in flight at the listener's next sweep (once a second) gets the read for the next one started
 * early: when it sees the client close, the request's signal aborts (as `Deno.serve` does, there at once). A request
 * the strict parser does not take ({@linkcode SCREEN}) is screened (screen.ts) and served here from the head the screen
 * rebuilt (HTTP/1.0, chunked bodies decoded through the read buffer, `Expect: 100-continue` answered when the body is
 * first read). An `Upgrade` is served here too: after the upstream's 101 the two connections are spliced byte for byte
 * (upgrade.ts), and on an `enabled_h2` server `Upgrade: h2c` and the h2c preface hand the connection to the HTTP/2
 * engine; on a server without `enabled_h2` the h2c preface is answered 400 and the connection closed (as nginx and
 * Pingora answer `PRI * HTTP/2.0` on an HTTP/1 port).
 * A head larger than `maxHeadSize` is answered 414 or 431. A response sent before its request's body was read to its end closes the
 * connection the way nginx does (a lingering close): the write side first, then the rest of the body is read and
 * dropped until the client closes too, so that the client reads the response instead of a reset.
 *
 * Over 400 lines because it is one state machine per connection (head, body, keep-alive, timeouts, hand-off to an upgrade or to HTTP/2) whose states share one read buffer.
 *
 * @module
 */
import { INCOMPLETE, parseHead, parseScreenedHead, type RequestHead, SCREEN } from "./head.ts";
import {
  CHUNK_DATA,
  CHUNK_END,
  CHUNK_ERROR,
  CHUNK_TOTAL_LIMIT,
  CHUNK_TRAILER,
  ChunkedDecoder,
} from "../../http/h1_chunked.ts";
import { Output, writeResponse } from "./response.ts";
import { ClientWatch, UpgradeRequest, WireRequest } from "./request.ts";
import { spliceUpgrade, switchingHead } from "./upgrade.ts";
import { fieldValue } from "../../http/headers_copy.ts";
import type { ByteStream } from "../byte_stream.ts";
import type { ConnectionFacts, HttpResponse, TlsFacts } from "../../http/message.ts";
import { BufferPool } from "../../http/buffer_pool.ts";
import { type Answer, screen, WAIT } from "./screen.ts";
import { parseProxyHeader, PROXY_INCOMPLETE } from "./proxy_header.ts";
import { log } from "../../observe/log/app_log.ts";
import { type H2cUpgrade, h2cUpgrade } from "../h2/upgrade.ts";

/**
 * Answers one request with a response (runtime/http/message.ts), an upstream's answer perhaps as it came. Its `completed`
 * settles once the response went out.
 */
export type WireHandler = (req: WireRequest, remote: Deno.NetAddr) => Promise<HttpResponse>;

/** What a connection needs from its listener. */
export interface ConnectionHost {
  readonly handler: WireHandler;
  /**
   * Serves the rest of an h2c connection (prior knowledge): `initial` holds the preface and what came after it;
   * `remote` is the client (the one a PROXY header named). Given (`enabled_h2`), the HTTP/2 engine takes the
   * connection in process; absent, the preface is answered 400 and the connection closed.
   */
  readonly h2?: (conn: ByteStream, initial: Uint8Array, remote: Deno.NetAddr) => Promise<void>;
  /**
   * Serves the rest of a cleartext connection upgraded to h2c (`Upgrade: h2c`, RFC 7540 §3.2) once its 101 went out:
   * `initial` holds what the client sent after the upgrade request (its preface, perhaps). Given with
   * {@linkcode h2} (`enabled_h2`, a plain listener); absent, `Upgrade: h2c` is served as HTTP/1.1 without it.
   */
  readonly h2Upgrade?: (conn: ByteStream, initial: Uint8Array, remote: Deno.NetAddr, up: H2cUpgrade) => Promise<void>;
  /**
   * Must a connection from this peer IP start with a PROXY protocol header (`proxy_protocol`, from a peer in
   * `basic.trusted_proxies`)? Asked once per connection; absent when no server of the listener reads one.
   */
  readonly proxyFrom?: (peer: string) => boolean;
  /** True once the listener stops: idle connections close, busy ones after their response. */
  readonly closing: boolean;
  /** Largest request head (bytes, request line included): a larger one is answered 431 (or 414). */
  readonly maxHeadSize: number;
  /**
   * `h1_pipelining`: are requests pipelined behind another served, in order? Asked only when a request came with bytes
   * behind it; false makes that request the connection's last. Absent: served.
   */
  readonly pipelining?: () => boolean;
  /** A coarse clock (the listener's idle sweeps so far), cheaper than reading the time per request. */
  readonly tick: number;
}

/** First size of a connection's read buffer (most heads are far smaller; an idle connection holds it). */
const BUFFER_START = 2048;
/** Default largest request head: one that does not fit is answered 431 (nginx allows 32 KiB, 8 KiB a line). */
export const MAX_HEAD_SIZE = 65536;
/**
 * Read buffer while a chunked request body is read (the head's buffer grows to it). The chunked decoder keeps an
 * unfinished trailer line unread; its strict level refuses one before it fills this ({@linkcode CHUNK_TOTAL_LIMIT}).
 */
const CHUNKED_READ = CHUNK_TOTAL_LIMIT;
/**
 * Room the close watch reads into behind a bodiless request's head, so that the head stays in the buffer, intact, for
 * the upstream while the request is in flight (a view instead of a copy). With less room, the head is copied.
 */
const WATCH_ROOM = 1024;
/** Largest read of a request body at once. */
const BODY_READ = 65536;
/**
 * A body with a content-length up to this size is read into one buffer of its size and handed on as one chunk once
 * whole (the upstream client sends such a body with the head in one write anyway): one allocation instead of one per
 * read. Larger bodies stream in reads of at most {@linkcode BODY_READ}.
 */
const WHOLE_BODY = 65536;

/**
 * Buffers for whole bodies, up to 16 KiB and up to {@linkcode WHOLE_BODY}, that their consumer gives back (the
 * upstream client, once it copied one behind the head; see {@linkcode WireRequest.recycleBody}).
 */
const bodyBuffers = new BufferPool([16384, WHOLE_BODY], 32);

const CLIENT_GONE = "client closed the connection";
/** Connections made so far in this isolate (their ids). */
let connections = 0;

/** A new connection number, unique in this isolate (the HTTP/2 engine's connections take theirs here too). */
export function nextConnectionId(): number {
  return ++connections;
}
const BAD_FRAMING = "bad chunked framing in the request body";
/** The interim answer to `Expect: 100-continue`, written when the body is first read (as hyper does). */
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
/** The start of the HTTP/2 preface (h2c with prior knowledge), which goes to the HTTP/2 engine (`enabled_h2`). */
const H2_PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n");
/** The answer to an `Upgrade: h2c` taken (RFC 7540 §3.2). */
const SWITCHING_H2C = new TextEncoder().encode(
  "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
);
/** The answer to a 101 the front end cannot splice. */
const BAD_GATEWAY = new TextEncoder().encode(
  "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: 12\r\nconnection: close\r\n\r\nBad Gateway\n",
);

/** A request body being read from the connection. */
interface BodyState {
  /** Bytes not read from the connection yet. */
  unread: number;
  /** The body's read in flight. */
  reading: Promise<number | null> | undefined;
  /** Set once the connection closes under it: the body ends with an error. */
  dropped: boolean;
  /** `100 Continue` is still to be written before the first read (`Expect: 100-continue`). */
  expect: boolean;
  /** The request it is the body of (counts the bytes read: `bodyRead`). */
  req: WireRequest | undefined;
}

/** A connection being served. */
export class Connection implements ConnectionFacts {
  /** A byte stream: a TCP connection, or a TLS one (decrypted bytes; `Deno.listenTls`). */
  readonly #conn: ByteStream;
  readonly #host: ConnectionHost;
  /** The client: the peer, or the source a PROXY header named. */
  #remote: Deno.NetAddr;
  readonly #out: Output;
  #buf = new Uint8Array(BUFFER_START);
  #start = 0;
  #end = 0;
  /** A read into `#buf[#end..]` in flight. */
  #pending: Promise<number | null> | undefined;
  /** The request in flight, to abort when the client leaves. */
  #inflight: ClientWatch | undefined;
  /** The request in flight holds a view of its head in `#buf`: the close watch must read behind it. */
  #headInBuffer = false;
  /** The request in flight was read whole (its body too): a read now can only see the next request or the end. */
  #watchable = false;
  /** The host's tick when the connection last became idle, -1 while a request is in flight. */
  idleTick: number;
  /** Requests answered on it so far. */
  served = 0;
  /** A number per connection (see {@linkcode ConnectionFacts}). */
  readonly id: number = ++connections;
  /** When it was accepted. */
  readonly since: number = Date.now();
  /** The host's tick when the lingering close began, -1 while not lingering (the sweep bounds it). */
  lingerTick = -1;
  /** The host's tick when a read of a request body began, -1 when none is in flight (the sweep bounds it). */
  readTick = -1;
  /** The body of the request just answered, when the connection must close before it was read to its end. */
  #unreadBody: BodyState | undefined;
  /** The request body in flight had bad chunked framing: it is answered 400 (or cut, once its answer began). */
  #badFraming = false;
  /** The response of the request in flight is being written (no `100 Continue` may go out now). */
  #responding = false;
  /** Requests pipelined behind the one just answered are dropped (`h1_pipelining` off): the close lingers. */
  #dropPipelined = false;

  constructor(conn: ByteStream, host: ConnectionHost) {
    this.#conn = conn;
    this.#host = host;
    this.#remote = conn.remoteAddr as Deno.NetAddr;
    this.#out = new Output(conn, host);
    this.idleTick = host.tick;
  }

  /** The tick when the write in progress began, -1 when none is. */
  get writeTick(): number {
    return this.#out.writeTick;
  }

  /** The connection's TLS facts, when it came over TLS (see {@linkcode ByteStream.tls}). */
  get tls(): TlsFacts | undefined {
    return this.#conn.tls;
  }

  /** `hostname:port` of the address the client reached (the URL of a request without Host). */
  #localHost(): string {
    const a = this.#conn.localAddr as Deno.NetAddr;
    return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
  }

  /** Closes the connection (an idle one; or to cut it). */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }

  /** Serves requests until the connection ends. */
  async serve(): Promise<void> {
    /** The connection went to the HTTP/2 engine, which closes it. */
    let handedOff = false;
    try {
      this.#conn.setNoDelay?.(true);
      if (this.#host.proxyFrom?.(this.#remote.hostname) && !await this.#proxyHeader()) return;
      for (;;) {
        let head = parseHead(this.#buf, this.#start, this.#end);
        while (head === INCOMPLETE) {
          // Stopping: a kept-alive connection ends here; a fresh one may still bring its first request (see shutdown).
          if (this.#host.closing && this.#start === this.#end && this.served > 0) return;
          const more = await this.#fill();
          if (more === null) return;
          if (more === false) return await this.#answer(this.#tooLarge());
          head = parseHead(this.#buf, this.#start, this.#end);
        }
        if (head === SCREEN) {
          // Read on to the head's end (within the idle timeout, as any head), then answer it or hand it over.
          let checked = screen(this.#buf, this.#start, this.#end);
          while (checked === WAIT) {
            const more = await this.#fill();
            if (more === null) return;
            if (more === false) return await this.#answer(this.#tooLarge());
            checked = screen(this.#buf, this.#start, this.#end);
          }
          if (checked !== undefined && "status" in checked) {
            await this.#answer(checked);
            return;
          }
          if (checked === undefined && (this.#host.h2 === undefined || !this.#h2Preface())) {
            // Malformed (hyper's 400 before), or the h2c preface on a server without `enabled_h2` (nginx's and
            // Pingora's 400 to `PRI * HTTP/2.0` on an HTTP/1 port): answered here.
            return await this.#answer({ status: 400, reason: "Bad Request", size: this.#end - this.#start });
          }
          if (checked !== undefined) {
            const screened = parseScreenedHead(checked.initial, 0, checked.initial.byteLength);
            if (screened === SCREEN) {
              return await this.#answer({ status: 400, reason: "Bad Request", size: checked.consumed });
            }
            // `Upgrade: h2c` on an `enabled_h2` server, over cleartext, asked as RFC 7540 §3.2 says: the 101, then the
            // connection is the HTTP/2 engine's, the request its stream 1. Else it is served as HTTP/1.1 (below).
            const up = screened.h2c && this.#host.h2Upgrade !== undefined && this.#conn.tls === undefined
              ? h2cUpgrade(screened)
              : undefined;
            if (up !== undefined) {
              // The 101 first: a client gone before it is closed here (below), not handed over.
              await this.#switchH2(checked.consumed);
              handedOff = true;
              return await this.#host.h2Upgrade!(this.#conn, this.#buf.slice(this.#start, this.#end), this.#remote, up);
            }
            // HTTP/1.0, a chunked or `Expect` upload, an upgrade (WebSocket or another, spliced as bytes after the
            // upstream's 101), an absolute-form target, obs-text: served here, from the head the screen rebuilt; the
            // body follows in the buffer.
            this.idleTick = -1;
            const closing = this.#exchanged(await this.#exchange(screened, checked.consumed));
            if (closing !== undefined) return await closing;
            continue;
          }
          // The h2c preface on an `enabled_h2` server: the connection is the HTTP/2 engine's, in process, with the
          // bytes read so far (its own timeouts apply from here; shutdown's idle close leaves it alone).
          this.idleTick = -1;
          if (this.#pending) await this.#pending.then((n) => n !== null && (this.#end += n));
          handedOff = true;
          return await this.#host.h2!(this.#conn, this.#buf.slice(this.#start, this.#end), this.#remote);
        }
        this.idleTick = -1;
        const closing = this.#exchanged(await this.#exchange(head));
        if (closing !== undefined) return await closing;
      }
    } catch {
      // A read or write failed: the client is gone.
    } finally {
      if (!handedOff) this.close();
    }
  }

  /**
   * Reads the PROXY protocol header a trusted peer must send first (within the idle timeout, as a head); its source
   * becomes the client of every request on the connection. False (logged at WARN) when it is missing or malformed:
   * the connection closes.
   */
  async #proxyHeader(): Promise<boolean> {
    const peer = `${this.#remote.hostname}:${this.#remote.port}`;
    for (;;) {
      const h = parseProxyHeader(this.#buf, this.#start, this.#end);
      if (typeof h === "object") {
        this.#start += h.size;
        if (h.addr !== undefined) this.#remote = h.addr;
        return true;
      }
      if (h !== PROXY_INCOMPLETE) {
        log.warn(`connection from ${peer} closed: ${h} (proxy_protocol)`);
        return false;
      }
      if (await this.#fill() !== true) {
        log.warn(`connection from ${peer} closed: it ended before its PROXY protocol header (proxy_protocol)`);
        return false;
      }
    }
  }

  /**
   * Reads more into the buffer. True when bytes came, null at the end of the connection, false when the buffer is
   * full.
   */
  async #fill(): Promise<boolean | null> {
    let n: number | null;
    if (this.#pending) {
      n = await this.#pending;
      this.#pending = undefined;
    } else {
      this.#compact();
      if (this.#end === this.#buf.byteLength) {
        const max = this.#host.maxHeadSize;
        if (this.#buf.byteLength >= max) return false;
        const bigger = new Uint8Array(Math.min(this.#buf.byteLength * 2, max));
        bigger.set(this.#buf.subarray(0, this.#end));
        this.#buf = bigger;
      }
      n = await this.#conn.read(this.#buf.subarray(this.#end));
    }
    if (n === null) return null;
    this.#end += n;
    return true;
  }

  /** Moves unread bytes to the front (never while a read is in flight). */
  #compact(): void {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    else if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
  }

  /**
   * The answer to a head that does not fit the buffer: 414 while its request line has not ended (nginx's answer to a
   * long URI), else 431.
   */
  #tooLarge(): Answer {
    const size = this.#end - this.#start;
    // Empty lines before the request line do not end it.
    let i = this.#start;
    while (i < this.#end && (this.#buf[i] === 13 || this.#buf[i] === 10)) i++;
    return this.#buf.subarray(i, this.#end).indexOf(10) < 0
      ? { status: 414, reason: "URI Too Long", size }
      : { status: 431, reason: "Request Header Fields Too Large", size };
  }

  /**
   * Answers a head the front end refuses (or `OPTIONS *`) and closes: the write side first, then what the client
   * still sends is read and dropped (a lingering close; see {@linkcode #linger}).
   */
  async #answer(a: Answer): Promise<void> {
    const body = a.status === 200 ? "" : `${a.reason}\n`;
    const text = `HTTP/1.1 ${a.status} ${a.reason}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n` +
      `connection: close\r\n\r\n${body}`;
    const bytes = new TextEncoder().encode(text);
    let w = 0;
    while (w < bytes.byteLength) w += await this.#conn.write(bytes.subarray(w));
    this.idleTick = -1;
    await this.#linger(undefined);
  }

  /**
   * The upstream switched protocols: the 101 goes to the client, then the two connections are spliced byte for byte
   * until either ends (upgrade.ts). A 101 to a request that asked for no upgrade, or without the upstream's
   * connection, or with a request body not read to its end, is a 502.
   */
  async #switch(head: RequestHead, res: HttpResponse, state: BodyState | undefined): Promise<void> {
    this.#responding = true;
    const upgraded = res.upgrade;
    if (!head.upgrade || upgraded === undefined || (state !== undefined && state.unread > 0)) {
      res.body?.cancel().catch(() => {});
      upgraded?.readable.cancel().catch(() => {});
      await this.#out.write(BAD_GATEWAY);
      return;
    }
    const requested = fieldValue(head.fields, "upgrade") ?? "";
    await this.#out.write(switchingHead(res, requested));
    // A read watching for the client's close may hold the client's first bytes: they go first.
    if (this.#pending) {
      const n = await this.#pending.catch(() => null);
      this.#pending = undefined;
      if (n === null) {
        upgraded.readable.cancel().catch(() => {});
        upgraded.writable.abort().catch(() => {});
        return;
      }
      this.#end += n;
    }
    const rest = this.#buf.slice(this.#start, this.#end);
    this.#start = this.#end;
    this.idleTick = -1;
    // The splice reads the client now: no read for a next request may start beside it (the sweep's close watch).
    this.#watchable = false;
    // Its writes to the client are timed as a response's (the sweep cuts one past `downstream_write_timeout`).
    await spliceUpgrade(this.#conn, upgraded, rest, (bytes) => this.#out.write(bytes));
  }

  /**
   * Answers a request's `Upgrade: h2c` (its head `size` bytes in the buffer, no body) with the 101; the caller then
   * hands the connection to the HTTP/2 engine with what the client sent after the head.
   */
  async #switchH2(size: number): Promise<void> {
    this.#start += size;
    this.idleTick = -1;
    await this.#out.write(SWITCHING_H2C);
  }

  /** Does the buffer start with the HTTP/2 preface (h2c with prior knowledge)? */
  #h2Preface(): boolean {
    const n = H2_PREFACE.byteLength;
    if (this.#end - this.#start < n) return false;
    for (let i = 0; i < n; i++) if (this.#buf[this.#start + i] !== H2_PREFACE[i]) return false;
    return true;
  }

  /**
   * One request and its response; false when the connection must close. `advance` is the head's size in the buffer
   * when `head` was parsed from a rebuilt copy (a screened head).
   */
  async #exchange(head: RequestHead, advance = head.size): Promise<boolean> {
    const from = this.#start;
    this.#start += advance;
    let raw: Uint8Array | undefined;
    if (head.plain && head.contentLength <= 0) {
      this.#headInBuffer = this.#buf.byteLength - this.#start >= WATCH_ROOM;
      raw = this.#headInBuffer ? this.#buf.subarray(from, this.#start) : this.#buf.slice(from, this.#start);
    }
    const abort = new ClientWatch();
    let body: ReadableStream<Uint8Array<ArrayBuffer>> | null = null;
    let state: BodyState | undefined;
    let giveBack: ((chunk: Uint8Array) => void) | undefined;
    if (head.chunked) {
      // Its end is not known yet: `unread` stays 1 until the last chunk was read.
      state = { unread: 1, reading: undefined, dropped: false, expect: head.expectContinue, req: undefined };
      body = this.#chunkedBody(state);
      this.#watchable = false;
    } else if (head.contentLength > 0) {
      const length = head.contentLength;
      const inBuffer = Math.min(length, this.#end - this.#start);
      state = {
        unread: length - inBuffer,
        reading: undefined,
        dropped: false,
        expect: head.expectContinue,
        req: undefined,
      };
      if (length <= WHOLE_BODY) {
        let whole: Uint8Array<ArrayBuffer> | undefined = bodyBuffers.take(length)!.subarray(0, length);
        whole.set(this.#buf.subarray(this.#start, this.#start + inBuffer));
        body = this.#wholeBody(whole, state);
        // Only the one chunk the stream hands out, and only once.
        giveBack = (chunk) => {
          if (whole === undefined || chunk !== whole) return;
          bodyBuffers.give(whole);
          whole = undefined;
        };
      } else body = this.#body(this.#buf.slice(this.#start, this.#start + inBuffer), state);
      this.#start += inBuffer;
      this.#watchable = state.unread === 0;
    } else this.#watchable = true;
    // HTTP/1.0 without Host: the address it reached names the server (as Deno.serve's URL did).
    const host = head.host !== "" || !head.http10 ? head.host : this.#localHost();
    const version = head.http10 ? "HTTP/1.0" : "HTTP/1.1";
    const req = head.upgrade
      ? new UpgradeRequest(head.method, head.target, host, head.fields, body, abort, raw, giveBack, this, version)
      : new WireRequest(head.method, head.target, host, head.fields, body, abort, raw, giveBack, this, version);
    req.served = this.served;
    if (state !== undefined) {
      state.req = req;
      // A sized body's bytes that came with the head count as read.
      if (!head.chunked) req.bodyRead = head.contentLength - state.unread;
    }
    this.#inflight = abort;
    try {
      let res: HttpResponse;
      try {
        res = await this.#host.handler(req, this.#remote);
      } catch (e) {
        // The body's framing was bad, and the handler failed on it: the 400 goes out instead (see serve).
        if (!this.#badFraming) throw e;
        req.settle(e);
        return false;
      }
      if (this.#badFraming) {
        // Bad framing seen before the answer began: a 400 instead of it (what the upstream made of a cut body).
        res.body?.cancel().catch(() => {});
        req.settle(new Error(BAD_FRAMING));
        return false;
      }
      if (res.status === 101) {
        await this.#switch(head, res, state);
        req.settle(undefined);
        return false;
      }
      // A body not read to its end leaves the connection in the middle of it: close after the response. Bytes behind
      // the request already read are a pipelined request: served next only when the server allows pipelining.
      const close = head.close || (state !== undefined && state.unread > 0) || this.#host.closing ||
        (this.#start !== this.#end && this.#dropsPipelined());
      this.#responding = true;
      const sent = await writeResponse(this.#out, res, head.method === "HEAD", close, head.http10);
      req.settle(sent === "broken" ? new Error("the response body failed") : undefined);
      if (sent === "close" && state !== undefined && state.unread > 0 && !this.#badFraming) this.#unreadBody = state;
      return sent === "keep" && (state === undefined || state.unread === 0) && !this.#host.closing;
    } catch (e) {
      req.settle(e ?? new Error("the response failed"));
      throw e;
    } finally {
      this.#responding = false;
      this.#inflight = undefined;
      this.#watchable = false;
      this.#headInBuffer = false;
    }
  }

  /** Are the requests pipelined behind this one dropped (`h1_pipelining` off)? Then the close lingers. */
  #dropsPipelined(): boolean {
    const allowed = this.#host.pipelining;
    if (allowed === undefined || allowed()) return false;
    this.#dropPipelined = true;
    return true;
  }

  /**
   * Watches for the client closing while a request is in flight (called by the listener's sweep, once a second):
   * a read for the next request is kept pending, and when it sees the end of the connection the request's signal
   * aborts. A request answered within the second never pays for the read ahead.
   */
  watchBusy(): void {
    if (this.#watchable && this.#inflight !== undefined) this.#watch();
  }

  /** Starts the read for the next request now, so the client closing is seen while this one is in flight. */
  #watch(): void {
    if (this.#pending || this.#start !== this.#end) return;
    if (!this.#headInBuffer) this.#compact();
    const p = this.#conn.read(this.#buf.subarray(this.#end));
    this.#pending = p;
    // Bound once per connection: the request in flight when the read ends is the one it watches (a next request
    // starts only after this read was consumed).
    p.then(this.#watchRead, this.#watchFailed);
  }

  readonly #watchRead = (n: number | null): void => {
    if (n === null) this.#inflight?.abort(new DOMException(CLIENT_GONE, "AbortError"));
  };

  readonly #watchFailed = (): void => {
    this.#inflight?.abort(new DOMException(CLIENT_GONE, "AbortError"));
  };

  /**
   * The request body: what came with the head, then reads of at most what is left (never past the body). Once it
   * was read to its end, the client closing aborts the request in flight.
   */
  #body(first: Uint8Array<ArrayBuffer>, state: BodyState): ReadableStream<Uint8Array<ArrayBuffer>> {
    let head: Uint8Array<ArrayBuffer> | undefined = first.byteLength > 0 ? first : undefined;
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        if (state.expect) await this.#continue(state);
        if (head) {
          controller.enqueue(head);
          head = undefined;
          if (state.unread === 0) controller.close();
          return;
        }
        if (state.unread === 0) {
          controller.close();
          return;
        }
        const chunk = new Uint8Array(Math.min(state.unread, BODY_READ));
        const n = await this.#readBody(chunk, state);
        if (n === null) {
          controller.error(new DOMException(CLIENT_GONE, "AbortError"));
          return;
        }
        controller.enqueue(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
        if (state.unread === 0) controller.close();
      },
    }, { highWaterMark: 0 });
  }

  /**
   * One read of body bytes into `into`; null when the client left or the connection closed under the body. Once the
   * body was read to its end, a read for the next request may watch for the client closing.
   */
  async #readBody(into: Uint8Array, state: BodyState): Promise<number | null> {
    if (state.dropped) return null;
    const reading = this.#conn.read(into);
    state.reading = reading;
    this.readTick = this.#host.tick;
    const n = await reading;
    this.readTick = -1;
    state.reading = undefined;
    if (n === null || state.dropped) return null;
    state.unread -= n;
    state.req!.bodyRead += n;
    if (state.unread === 0) this.#watchable = true;
    return n;
  }

  /**
   * A small body as one chunk: `whole` holds what came with the head; the rest is read into it, then it is handed on
   * whole. Once it was read to its end, the client closing aborts the request in flight.
   */
  #wholeBody(whole: Uint8Array<ArrayBuffer>, state: BodyState): ReadableStream<Uint8Array<ArrayBuffer>> {
    let given = false;
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        if (given) {
          controller.close();
          return;
        }
        if (state.expect) await this.#continue(state);
        while (state.unread > 0) {
          if (await this.#readBody(whole.subarray(whole.byteLength - state.unread), state) === null) {
            controller.error(new DOMException(CLIENT_GONE, "AbortError"));
            return;
          }
        }
        given = true;
        controller.enqueue(whole);
      },
    }, { highWaterMark: 0 });
  }

  /**
   * Writes `100 Continue` (once) when the client waits for it: before the body is first read, while the body is not
   * already all in and no answer has begun.
   */
  async #continue(state: BodyState): Promise<void> {
    state.expect = false;
    if (this.#responding || state.unread === 0 || state.dropped) return;
    await this.#out.write(CONTINUE);
  }

  /**
   * A chunked body, decoded: its data handed on as it comes (copies; the framing stays behind), read through the
   * connection's buffer so that what follows the last chunk stays there for the next request. Bad framing ends the
   * body with an error and is answered 400, or cuts the connection once the answer began.
   */
  #chunkedBody(state: BodyState): ReadableStream<Uint8Array<ArrayBuffer>> {
    const decoder = new ChunkedDecoder(true);
    let pieces: Uint8Array<ArrayBuffer>[] = [];
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        if (state.expect) await this.#continue(state);
        for (;;) {
          if (this.#start < this.#end) {
            const buf = this.#buf;
            let event = decoder.next(buf, this.#start, this.#end);
            // Trailer lines are read and dropped.
            for (; event === CHUNK_DATA || event === CHUNK_TRAILER; event = decoder.next(buf, this.#start, this.#end)) {
              this.#start = decoder.pos;
              if (event === CHUNK_DATA) {
                pieces.push(buf.slice(decoder.from, decoder.to));
                state.req!.bodyRead += decoder.to - decoder.from;
              }
            }
            if (event === CHUNK_ERROR) {
              this.#badFraming = true;
              pieces = [];
              controller.error(new Error(BAD_FRAMING));
              if (this.#responding) this.close();
              return;
            }
            this.#start = decoder.pos;
            for (const p of pieces) controller.enqueue(p);
            const any = pieces.length > 0;
            pieces = [];
            if (event === CHUNK_END) {
              state.unread = 0;
              this.#watchable = true;
              controller.close();
              return;
            }
            if (any) return;
          }
          if (state.dropped) {
            controller.error(new DOMException(CLIENT_GONE, "AbortError"));
            return;
          }
          this.#compact();
          if (this.#buf.byteLength < CHUNKED_READ) {
            const bigger = new Uint8Array(CHUNKED_READ);
            bigger.set(this.#buf.subarray(0, this.#end));
            this.#buf = bigger;
          }
          const reading = this.#conn.read(this.#buf.subarray(this.#end));
          state.reading = reading;
          this.readTick = this.#host.tick;
          let n: number | null;
          try {
            n = await reading;
          } finally {
            this.readTick = -1;
            state.reading = undefined;
          }
          if (n === null || state.dropped) {
            controller.error(new DOMException(CLIENT_GONE, "AbortError"));
            return;
          }
          this.#end += n;
        }
      },
    }, { highWaterMark: 0 });
  }

  /**
   * The lingering close after a response sent before the request's body was read: the write side closes (the client
   * sees the response end), then what the client still sends is read and dropped until it closes too. Closing at once
   * with unread bytes would send a reset, and a client still sending may then lose the response. The listener's sweep
   * ends it when the client sends nothing for a while or takes too long in all (as nginx's `lingering_timeout` and
   * `lingering_time`).
   */
  /**
   * After an exchange: counts it, and either waits for the next request (undefined; no promise made) or ends the
   * connection (the promise: lingering on a body not read to its end, or the 400 to bad chunked framing).
   */
  #exchanged(keep: boolean): Promise<void> | undefined {
    this.served++;
    if (keep) {
      this.idleTick = this.#host.tick;
      return undefined;
    }
    if (this.#unreadBody) return this.#linger(this.#unreadBody);
    // Pipelined requests left unanswered: the client reads this answer and its end, not a reset.
    if (this.#dropPipelined) return this.#linger(undefined);
    if (this.#badFraming) return this.#answer({ status: 400, reason: "Bad Request", size: 0 });
    return Promise.resolve();
  }

  async #linger(body: BodyState | undefined): Promise<void> {
    this.#unreadBody = undefined;
    if (body) {
      body.dropped = true;
      // The body's own read in flight (a pump still sending it upstream) ends first: two reads at once are refused.
      if (body.reading) await body.reading.catch(() => null);
    }
    if (this.#pending) await this.#pending.catch(() => null);
    await this.#conn.closeWrite();
    this.lingerTick = this.idleTick = this.#host.tick;
    const sink = new Uint8Array(BODY_READ);
    while (await this.#conn.read(sink) !== null) this.idleTick = this.#host.tick;
  }
}
