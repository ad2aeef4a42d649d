/**
 * A plain (non-TLS) listener for servers with `enabled_h2 = true`: HTTP/1.1 and h2c with prior knowledge on the
 * same port, with response trailers on both (which `Deno.serve` cannot send, so gRPC needs this listener).
 *
 * How: a `node:net` server reads the first bytes of each connection. The HTTP/2 connection preface
 * (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) hands the socket, bytes put back with `unshift`, to a `node:http2` server;
 * anything else goes to a `node:http` server. Both adapt node's request to a Web `Request` and call a
 * `(req, info) => HttpResponse` handler (runtime/http/message.ts), stream bodies both ways with backpressure, and, once
 * the response body has ended, send the response's `trailers`: HTTP/2 with `waitForTrailers` + `sendTrailers`,
 * HTTP/1.1 with `addTrailers` when the response is chunked (no content-length).
 *
 * Limits: the HTTP/1.1 side runs on `node:http`'s classic (socket + JS parser) path, which is much slower than
 * `Deno.serve`: small responses over kept-alive connections reached about 4k req/s against 12–13k for `Deno.serve`
 * (loopback, 2 shared cores, 50 fetch clients in another process); h2c reached 3.6–7.9k. A WebSocket upgrade cannot be
 * bridged here (the WebSocket proxy needs `Deno.upgradeWebSocket`) and gets 501; other `Upgrade` headers (such as
 * `h2c`) are ignored and the request is served as HTTP/1.1. A GET or HEAD with a body gets 400 (a Web `Request` cannot
 * carry it), so do two `Host` fields, none on HTTP/1.1, and a `Host` with `/`, `?`, `#`, `@` or `\`; an absolute-form
 * target's authority is the host. Pipelined HTTP/1.1 requests reach the handler one at a time, in order. A response body that fails midway resets the HTTP/2 stream (RST_STREAM) or cuts the HTTP/1.1
 * connection, so the client sees the failure.
 *
 * @example Usage
 * ```ts ignore
 * import { listenH2c } from "./h2_listener.ts";
 * import { responseWith } from "../http/response_build.ts";
 *
 * const l = await listenH2c({ hostname: "127.0.0.1", port: 0 }, (req) => responseWith(`hello ${req.url}`, {}));
 * console.log(`listening on ${l.addr.port}`);
 * await l.shutdown();
 * ```
 *
 * Over 400 lines because one node:net server sniffs each connection, serves it as HTTP/1.1 or h2c, and sweeps idle and stalled ones across both; the writers and body streams are in h2_write.ts.
 *
 * @module
 */

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  constants,
  createServer as createH2Server,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { HttpResponse } from "../http/message.ts";
import { responseWith } from "../http/response_build.ts";
import { type BodyRead, hostOk, ignore, nodeBody, writeH1, writeH2 } from "./h2_write.ts";

/** The handler, as for `Deno.serve`, answering with a response of the message model (its trailers are sent). */
export type H2cHandler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => HttpResponse | Promise<HttpResponse>;

/** Where to listen. */
export interface H2cListenOptions {
  readonly hostname: string;
  readonly port: number;
  /** SO_REUSEPORT (several workers on one port). */
  readonly reusePort?: boolean;
  /** Called when the handler throws (default: logs); its answer is sent instead (default: 500). */
  readonly onError?: (error: unknown) => HttpResponse | Promise<HttpResponse>;
  /**
   * Time (ms) a connection may wait on the client (`downstream_read_timeout`, default 60 s): to send its first bytes,
   * its next HTTP/1.1 request head (keep-alive wait included), or, on h2c, its next stream while none is open; and
   * time one read of a request body may wait. Past it the connection is closed (an idle h2c session gets GOAWAY,
   * a stalled h2c body RST_STREAM). Never while a request waits on its response. Checked at most once a second.
   */
  readonly idleTimeout?: number;
}

/** A running listener. */
export interface H2cListener {
  /** The bound address (the real port when 0 was asked). */
  readonly addr: Deno.NetAddr;
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`, default 30 s), then closes every connection. */
  shutdown(graceMs?: number): Promise<void>;
}

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** The default of {@linkcode H2cListenOptions.idleTimeout} (as the HTTP/1.1 front end's). */
const IDLE_TIMEOUT = 60_000;

/**
 * Listens for HTTP/1.1 and h2c (prior knowledge) on one port.
 *
 * @param options Address, port and reusePort.
 * @param handler Answers each request.
 * @returns The listener once bound.
 */
export async function listenH2c(options: H2cListenOptions, handler: H2cHandler): Promise<H2cListener> {
  const listener = new H2cListenerImpl(options, handler);
  await listener.listen();
  return listener;
}

/** Per-connection state. */
interface Conn {
  readonly socket: Socket;
  /** HTTP/1.1 requests in flight on it. */
  busy: number;
  /** HTTP/1.1 requests received and not yet answered (pipelined ones included), or h2c streams open. */
  open: number;
  /** Since when it waits on the client with nothing open (its accept, or the end of its last exchange). */
  idleSince: number;
  /** Request bodies being read on it. */
  readonly bodies: Set<BodyRead>;
  /** Its h2c session, once it is one. */
  session?: Http2Session;
  /** Settles once the last HTTP/1.1 request began so far has been answered: pipelined ones are served in turn. */
  turn: Promise<void>;
  kind: "sniff" | "h1" | "h2";
}

class H2cListenerImpl implements H2cListener {
  readonly #options: H2cListenOptions;
  readonly #handler: H2cHandler;
  readonly #net: NetServer;
  readonly #h1 = createHttpServer();
  readonly #h2: Http2Server = createH2Server();
  readonly #conns = new Map<Socket, Conn>();
  readonly #sessions = new Set<ServerHttp2Session>();
  #addr: Deno.NetAddr | undefined;
  #closing = false;
  readonly #idleTimeout: number;
  #sweep: ReturnType<typeof setInterval> | undefined;
  /** The connection being handed to the h2 server (its `session` event comes synchronously). */
  #handing: Conn | undefined;

  constructor(options: H2cListenOptions, handler: H2cHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#idleTimeout = options.idleTimeout ?? IDLE_TIMEOUT;
    // node:http's own keep-alive timer (default 5 s) would cut an idle connection before downstream_read_timeout;
    // its headersTimeout and requestTimeout do nothing in Deno 2.9.6 for a server fed through emit("connection").
    this.#h1.keepAliveTimeout = this.#idleTimeout;
    this.#net = createNetServer((socket) => this.#accept(socket));
    this.#net.on("error", ignore);
    // Deno 2.9.6's node:http destroys a kept-alive socket after each response when `server.listening` is false
    // (its resOnFinish reads that as "closing"), and a server fed through emit("connection") never listens itself:
    // report it listening until shutdown, so keep-alive works and sockets close after their last response then.
    Object.defineProperty(this.#h1, "listening", { configurable: true, get: () => !this.#closing });
    this.#h1.on("request", (req: IncomingMessage, res: ServerResponse) => void this.#serveH1(req, res));
    this.#h1.on("clientError", (_error: Error, socket: Socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      else socket.destroy();
    });
    this.#h2.on("session", (session: ServerHttp2Session) => {
      session.on("error", ignore);
      const conn = this.#handing;
      if (conn) conn.session = session;
      this.#sessions.add(session);
      session.once("close", () => this.#sessions.delete(session));
      if (this.#closing) session.close();
    });
    this.#h2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      stream.on("error", ignore);
      const conn = this.#sessionConn(stream.session);
      if (conn) {
        conn.open++;
        stream.once("close", () => {
          if (--conn.open === 0) conn.idleSince = Date.now();
        });
      }
      void this.#serveH2(stream, headers, conn);
    });
    this.#h2.on("sessionError", ignore);
  }

  get addr(): Deno.NetAddr {
    return this.#addr!;
  }

  listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#net.once("error", reject);
      this.#net.listen({
        host: this.#options.hostname,
        port: this.#options.port,
        ...(this.#options.reusePort ? { reusePort: true } : {}),
      }, () => {
        this.#net.off("error", reject);
        const a = this.#net.address();
        if (a === null || typeof a === "string") {
          reject(new Error(`Cannot listen on ${this.#options.hostname}:${this.#options.port}: no address`));
          return;
        }
        this.#addr = { transport: "tcp", hostname: a.address, port: a.port };
        const every = Math.min(1000, Math.max(50, this.#idleTimeout / 2));
        this.#sweep = setInterval(() => this.#cutIdle(), every);
        Deno.unrefTimer(this.#sweep);
        resolve();
      });
    });
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const conn: Conn = {
      socket,
      busy: 0,
      open: 0,
      idleSince: Date.now(),
      bodies: new Set(),
      turn: Promise.resolve(),
      kind: "sniff",
    };
    this.#conns.set(socket, conn);
    socket.once("close", () => this.#conns.delete(socket));
    socket.on("error", ignore);
    socket.setNoDelay(true);
    let seen: Uint8Array = new Uint8Array(0);
    const onData = (chunk: Uint8Array) => {
      const next = new Uint8Array(seen.byteLength + chunk.byteLength);
      next.set(seen);
      next.set(chunk, seen.byteLength);
      seen = next;
      const n = Math.min(seen.byteLength, PREFACE.byteLength);
      let h2 = true;
      for (let i = 0; i < n; i++) {
        if (seen[i] !== PREFACE[i]) {
          h2 = false;
          break;
        }
      }
      if (h2 && seen.byteLength < PREFACE.byteLength) return;
      socket.off("data", onData);
      socket.pause();
      socket.unshift(seen);
      conn.kind = h2 ? "h2" : "h1";
      this.#handing = conn;
      try {
        (h2 ? this.#h2 : this.#h1).emit("connection", socket);
      } finally {
        this.#handing = undefined;
      }
      socket.resume();
    };
    socket.on("data", onData);
  }

  /** The connection of an h2c session. */
  #sessionConn(session: Http2Session | undefined): Conn | undefined {
    if (session === undefined) return undefined;
    for (const c of this.#conns.values()) if (c.session === session) return c;
    return undefined;
  }

  /**
   * The read timeout: closes each connection that waited on the client longer than `idleTimeout` (see
   * {@linkcode H2cListenOptions.idleTimeout}).
   */
  #cutIdle(): void {
    const now = Date.now();
    const limit = this.#idleTimeout;
    for (const conn of this.#conns.values()) {
      if (conn.open === 0 && now - conn.idleSince > limit) {
        if (conn.session !== undefined && !conn.session.closed) {
          // GOAWAY, then the connection ends; destroyed at the next sweep if the client holds it.
          conn.session.close();
          conn.idleSince = now - limit + 1000;
        } else conn.socket.destroy();
        continue;
      }
      for (const body of conn.bodies) {
        if (body.waiting && now - body.last > limit) {
          conn.bodies.delete(body);
          body.cut();
        }
      }
    }
  }

  /** A body read to track on `conn` until it ends, for the sweep ({@linkcode nodeBody} keeps it current). */
  #watchBody(
    conn: Conn | undefined,
    source: IncomingMessage | ServerHttp2Stream,
    cut: () => void,
  ): BodyRead | undefined {
    if (conn === undefined) return undefined;
    const body: BodyRead = { last: Date.now(), waiting: true, cut };
    conn.bodies.add(body);
    const done = () => conn.bodies.delete(body);
    source.once("end", done);
    source.once("close", done);
    return body;
  }

  #info(remoteAddress: string | undefined, remotePort: number | undefined, completed: Promise<void>) {
    return {
      remoteAddr: { transport: "tcp" as const, hostname: remoteAddress ?? "", port: remotePort ?? 0 },
      completed,
    };
  }

  async #respond(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<HttpResponse> {
    try {
      return await this.#handler(req, info);
    } catch (error) {
      if (this.#options.onError) {
        try {
          return await this.#options.onError(error);
        } catch {
          // fall through
        }
      } else console.error("h2c listener: handler failed", error);
      return responseWith("Internal Server Error", { status: 500 });
    }
  }

  async #serveH1(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as Socket;
    const conn = this.#conns.get(socket);
    // node:http emits pipelined requests at once: each waits for the one before it, so they reach the upstream in
    // the order they came (node writes the answers in that order anyway).
    const mine = Promise.withResolvers<void>();
    const before = conn?.turn;
    if (conn) {
      conn.turn = mine.promise;
      conn.open++;
      res.once("close", () => {
        if (--conn.open === 0) conn.idleSince = Date.now();
      });
    }
    try {
      if (before) await before;
      await this.#serveH1InTurn(req, res, socket, conn);
    } finally {
      mine.resolve();
    }
  }

  async #serveH1InTurn(
    req: IncomingMessage,
    res: ServerResponse,
    socket: Socket,
    conn: Conn | undefined,
  ): Promise<void> {
    if (conn) conn.busy++;
    const completed = Promise.withResolvers<void>();
    completed.promise.catch(ignore);
    const ac = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) {
        ac.abort();
        completed.reject(new Deno.errors.Interrupted("The client closed the connection"));
      } else completed.resolve();
      if (conn) {
        conn.busy--;
        if (this.#closing && conn.busy === 0) socket.end();
      }
    });
    if (this.#closing) res.setHeader("connection", "close");
    const method = req.method ?? "GET";
    if ((req.headers.upgrade ?? "").toLowerCase() === "websocket") {
      res.writeHead(501, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end("WebSocket is not supported on enabled_h2 plain listeners");
      return;
    }
    let request: Request;
    try {
      const headers = new Headers();
      const raw = req.rawHeaders;
      let hosts = 0;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === "host") hosts++;
        headers.append(raw[i]!, raw[i + 1]!);
      }
      const target = req.url ?? "/";
      const absolute = /^https?:\/\/([^/?#]*)/i.exec(target);
      // An absolute-form target's user info is dropped (as on the other listeners).
      const host = absolute ? absolute[1]!.slice(absolute[1]!.lastIndexOf("@") + 1) : req.headers.host;
      const framed = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
      // Refused (as the HTTP/1.1 front end does): two Hosts (node keeps one), none on HTTP/1.1, a Host that would
      // change the URL's path (`a.test/admin?`), a target that is not a path or a URL, and a body on GET or HEAD, which
      // a Web Request cannot carry (forwarded without it, its Content-Length would make the upstream wait).
      if (
        hosts > 1 || (!absolute && hosts === 0 && req.httpVersion !== "1.0") || (absolute && host === "") ||
        (host !== undefined && !hostOk(host)) ||
        (!absolute && target.charCodeAt(0) !== 47) || ((method === "GET" || method === "HEAD") && framed)
      ) throw new Error("bad request");
      // An absolute-form target's authority is the host, for routing and for the upstream (RFC 9112 §3.2.2).
      if (absolute) headers.set("host", host!);
      const url = absolute ? target : `http://${host || this.#hostPort()}${target}`;
      const hasBody = method !== "GET" && method !== "HEAD" && framed;
      request = new Request(url, {
        method,
        headers,
        body: hasBody ? nodeBody(req, () => req.destroy(), this.#watchBody(conn, req, () => socket.destroy())) : null,
        signal: ac.signal,
      });
      if (!hasBody) req.resume();
    } catch {
      req.resume();
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end("Bad Request");
      return;
    }
    const response = await this.#respond(
      request,
      this.#info(socket.remoteAddress, socket.remotePort, completed.promise),
    );
    await writeH1(response, res, method);
    // A request body the handler left unread is drained so the connection can be reused.
    if (!req.complete) req.resume();
  }

  async #serveH2(stream: ServerHttp2Stream, h: IncomingHttpHeaders, conn: Conn | undefined): Promise<void> {
    const completed = Promise.withResolvers<void>();
    completed.promise.catch(ignore);
    const ac = new AbortController();
    const state = { finished: false };
    stream.once("close", () => {
      if (!state.finished) {
        ac.abort();
        completed.reject(new Deno.errors.Interrupted("The client reset the stream"));
      } else completed.resolve();
    });
    const method = String(h[":method"] ?? "GET");
    let request: Request;
    try {
      const headers = new Headers();
      for (const name in h) {
        if (name.startsWith(":")) continue;
        const v = h[name];
        if (v === undefined) continue;
        if (Array.isArray(v)) { for (const x of v) headers.append(name, x); }
        else headers.append(name, String(v));
      }
      const authority = String(h[":authority"] ?? h["host"] ?? this.#hostPort());
      const path = String(h[":path"] ?? "/");
      // As on HTTP/1.1: an authority that would change the URL's path, and a GET body announced, are refused.
      if (!hostOk(authority) || path.charCodeAt(0) !== 47) throw new Error("bad request");
      if ((method === "GET" || method === "HEAD") && Number(h["content-length"] ?? 0) > 0) {
        throw new Error("bad request");
      }
      if (!headers.has("host")) headers.set("host", authority);
      const url = `http://${authority}${path}`;
      const hasBody = method !== "GET" && method !== "HEAD";
      request = new Request(url, {
        method,
        headers,
        body: hasBody
          ? nodeBody(
            stream,
            () => stream.destroy(),
            this.#watchBody(conn, stream, () => stream.close(constants.NGHTTP2_CANCEL)),
          )
          : null,
        signal: ac.signal,
      });
      if (!hasBody) stream.resume();
    } catch {
      stream.resume();
      if (!stream.destroyed) {
        stream.respond({ ":status": 400, "content-type": "text/plain; charset=utf-8" });
        stream.end("Bad Request");
      }
      state.finished = true;
      return;
    }
    const session = stream.session;
    const socket = session?.socket;
    const response = await this.#respond(
      request,
      this.#info(socket?.remoteAddress, socket?.remotePort, completed.promise),
    );
    await writeH2(response, stream, method, state);
  }

  #hostPort(): string {
    const a = this.#addr!;
    return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
  }

  async shutdown(graceMs = 30_000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#sweep);
    const stopped = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    for (const conn of this.#conns.values()) {
      if (conn.kind === "sniff") conn.socket.destroy();
      else if (conn.kind === "h1" && conn.busy === 0) conn.socket.end();
    }
    const deadline = Date.now() + graceMs;
    while (this.#conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const session of this.#sessions) session.destroy();
    for (const conn of this.#conns.values()) conn.socket.destroy();
    while (this.#conns.size > 0) await new Promise((r) => setTimeout(r, 5));
    await stopped;
  }
}
