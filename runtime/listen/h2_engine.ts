/**
 * The HTTP/2 engine: a `node:http2` server that never listens. Connections reach it in process: a decrypted
 * `node:tls` socket whose ALPN chose `h2` ({@linkcode H2Engine.serveSocket}), and an h2c connection the HTTP/1.1
 * engine read the preface of ({@linkcode H2Engine.serveStream}, its buffered bytes first). No loopback hop.
 *
 * Why `node:http2` and not `Deno.serve` (about 2–4× faster on a bare answer, bench/README.md): `Deno.serve` sends no
 * response trailers (gRPC needs them) and serves only connections it accepted itself (a `node:tls` socket, which keeps
 * SNI with many certificates, would have to cross a loopback connection to reach it). The engine then depends on the
 * listener's config alone (`enabled_h2`), never on an upstream's.
 *
 * Each stream becomes a Web `Request` for the handler; the answer is written with its trailers (h2_write.ts).
 * `idleTimeout` (`downstream_read_timeout`): a session with no stream open for that long gets GOAWAY, a request body
 * that waits on the client that long is reset (checked at most once a second). {@linkcode H2Engine.shutdown} sends
 * GOAWAY to every session, lets open streams finish (at most `graceMs`), then cuts what is left.
 *
 * @module
 */
import {
  constants,
  createServer as createH2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import { Duplex } from "node:stream";
import type { HttpResponse, TlsFacts } from "../http/message.ts";
import { responseWith } from "../http/response_build.ts";
import { type ByteStream, NodeSocketStream } from "./byte_stream.ts";
import type { Socket } from "node:net";
import { type BodyRead, hostOk, ignore, nodeBody, writeH2 } from "./h2_write.ts";
import { GoawayFilter } from "./h2_goaway_filter.ts";

/** The client of a connection. */
export interface H2Client {
  readonly hostname: string;
  readonly port: number;
  /** Over TLS: what the handshake settled. */
  readonly tls?: TlsFacts;
}

/** Answers one request; `completed` settles once the response went out (rejects when the client reset the stream). */
export type H2Handler = (
  req: Request,
  client: H2Client,
  completed: Promise<void>,
) => HttpResponse | Promise<HttpResponse>;

/** Options of {@linkcode createH2Engine}. */
export interface H2EngineOptions {
  /** `downstream_read_timeout` (ms, default 60 s): see the module's doc. */
  readonly idleTimeout?: number;
  /** Answers a handler that threw (default 500). */
  readonly onError?: (error: unknown) => HttpResponse | Promise<HttpResponse>;
  /** The URL's authority when a request has none (`host:port` of the listener). */
  readonly authority: () => string;
}

/** A running engine. */
export interface H2Engine {
  /** Serves a connection whose bytes are HTTP/2 from their first (a `node:tls` socket after ALPN `h2`). */
  serveSocket(socket: Socket, client: H2Client): void;
  /**
   * Serves the rest of an h2c connection: `initial` (the preface and what came with it) then what `stream` reads.
   * Resolves once the session ended and the stream is closed.
   */
  serveStream(stream: ByteStream, initial: Uint8Array, client: H2Client): Promise<void>;
  /** Sessions open now. */
  readonly sessions: number;
  /** GOAWAY to every session, open streams finish (at most `graceMs`, default 30 s), then every socket is cut. */
  shutdown(graceMs?: number): Promise<void>;
}

/** What the engine keeps per session. */
interface Conn {
  readonly client: H2Client;
  readonly socket: Duplex;
  /** Streams open. */
  open: number;
  /** Since when no stream is open. */
  idleSince: number;
  readonly bodies: Set<BodyRead>;
  session?: ServerHttp2Session;
}

const IDLE_TIMEOUT = 60_000;
/** Bytes an h2c connection's writes may queue before node:http2 is held (see {@linkcode duplexOf}). */
const WRITE_QUEUE = 1 << 20;
/** Largest read of a connection at once. */
const READ_SIZE = 65536;

/**
 * A {@linkcode ByteStream} as a node `Duplex` (what `node:http2` takes), `initial` read first, the client's GOAWAY
 * frames dropped (h2_goaway_filter.ts). Reads are pulled as node asks (backpressure); writes are queued in order.
 */
export function duplexOf(stream: ByteStream, initial: Uint8Array): Duplex {
  let first: Uint8Array | undefined = initial.byteLength > 0 ? initial : undefined;
  let writing: Promise<void> = Promise.resolve();
  let queued = 0;
  const goaway = new GoawayFilter();
  const d = new Duplex({
    // The client's end of the stream ends the session: with its GOAWAY filtered out, it is what tells it went.
    allowHalfOpen: false,
    read() {
      if (first !== undefined) {
        const b = first;
        first = undefined;
        this.push(goaway.filter(b));
        return;
      }
      const buf = new Uint8Array(READ_SIZE);
      stream.read(buf).then(
        // A copy of its size: node:http2 may keep the chunk, which would hold the whole read buffer.
        (n) => void this.push(n === null ? null : goaway.filter(buf.slice(0, n))),
        (e) => this.destroy(e instanceof Error ? e : new Error(String(e))),
      );
    },
    write(chunk: Uint8Array, _enc, cb) {
      // Acknowledged at once while less than WRITE_QUEUE bytes wait, and written in order behind the writes before
      // it (h2load on h2c: about 1.6x the rate of a callback held until each write went out). Past WRITE_QUEUE the
      // callback waits for the queue to drain (backpressure).
      const copy = chunk.slice();
      queued += copy.byteLength;
      const done = writing = writing.then(async () => {
        let w = 0;
        while (w < copy.byteLength) w += await stream.write(copy.subarray(w));
        queued -= copy.byteLength;
      });
      done.catch(() => d.destroy());
      if (queued < WRITE_QUEUE) cb();
      else done.then(() => cb(), () => {});
    },
    final(cb) {
      // After what is still queued.
      writing.then(() => stream.closeWrite()).then(() => cb(), () => cb());
    },
    destroy(e, cb) {
      // What node:http2 wrote last (its GOAWAY) may still be queued: it goes out first, for at most 5 s.
      const close = () => {
        try {
          stream.close();
        } catch { /* closed */ }
      };
      if (queued === 0) close();
      else {
        const late = setTimeout(close, 5000);
        writing.finally(() => (clearTimeout(late), close())).catch(() => {});
      }
      cb(e);
    },
  });
  const remote = stream.remoteAddr as Deno.NetAddr, local = stream.localAddr as Deno.NetAddr;
  Object.assign(d, {
    remoteAddress: remote.hostname,
    remotePort: remote.port,
    localAddress: local.hostname,
    localPort: local.port,
    setNoDelay: () => d,
    setKeepAlive: () => d,
    setTimeout: () => d,
  });
  return d;
}

/** Makes an engine; it serves what it is given until {@linkcode H2Engine.shutdown}. */
export function createH2Engine(options: H2EngineOptions, handler: H2Handler): H2Engine {
  const server: Http2Server = createH2Server();
  const conns = new Map<ServerHttp2Session, Conn>();
  const sockets = new Set<Duplex>();
  const idleTimeout = options.idleTimeout ?? IDLE_TIMEOUT;
  let handing: Conn | undefined;
  let closing = false;

  server.on("session", (session: ServerHttp2Session) => {
    session.on("error", ignore);
    const conn = handing;
    if (conn === undefined) return void session.destroy();
    conn.session = session;
    conns.set(session, conn);
    session.once("close", () => conns.delete(session));
    if (closing) session.close();
  });
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on("error", ignore);
    const conn = stream.session ? conns.get(stream.session as ServerHttp2Session) : undefined;
    if (conn === undefined) return void stream.close(constants.NGHTTP2_REFUSED_STREAM);
    conn.open++;
    stream.once("close", () => {
      if (--conn.open === 0) conn.idleSince = Date.now();
    });
    void serveStream(stream, headers, conn);
  });
  server.on("sessionError", ignore);

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const conn of conns.values()) {
      if (conn.open === 0 && now - conn.idleSince > idleTimeout) {
        if (conn.session !== undefined && !conn.session.closed) {
          // GOAWAY, then the connection ends; cut at a later sweep if the client holds it.
          conn.session.close();
          conn.idleSince = now - idleTimeout + 1000;
        } else conn.socket.destroy();
        continue;
      }
      for (const body of conn.bodies) {
        if (body.waiting && now - body.last > idleTimeout) {
          conn.bodies.delete(body);
          body.cut();
        }
      }
    }
  }, Math.min(1000, Math.max(50, idleTimeout / 2)));
  Deno.unrefTimer(sweep);

  const respond = async (req: Request, client: H2Client, completed: Promise<void>): Promise<HttpResponse> => {
    try {
      return await handler(req, client, completed);
    } catch (error) {
      try {
        if (options.onError) return await options.onError(error);
      } catch { /* below */ }
      return responseWith("Internal Server Error", { status: 500 });
    }
  };

  const watchBody = (conn: Conn, source: ServerHttp2Stream, cut: () => void): BodyRead => {
    const body: BodyRead = { last: Date.now(), waiting: true, cut };
    conn.bodies.add(body);
    const done = () => conn.bodies.delete(body);
    source.once("end", done);
    source.once("close", done);
    return body;
  };

  async function serveStream(stream: ServerHttp2Stream, h: IncomingHttpHeaders, conn: Conn): Promise<void> {
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
        if (name.charCodeAt(0) === 58) continue;
        const v = h[name];
        if (v === undefined) continue;
        if (Array.isArray(v)) { for (const x of v) headers.append(name, x); }
        else headers.append(name, String(v));
      }
      const authority = String(h[":authority"] ?? h["host"] ?? options.authority());
      const path = String(h[":path"] ?? "/");
      // As on HTTP/1.1: an authority that would change the URL's path, and a GET body announced, are refused.
      if (!hostOk(authority) || path.charCodeAt(0) !== 47) throw new Error("bad request");
      if ((method === "GET" || method === "HEAD") && Number(h["content-length"] ?? 0) > 0) {
        throw new Error("bad request");
      }
      if (!headers.has("host")) headers.set("host", authority);
      const hasBody = method !== "GET" && method !== "HEAD";
      request = new Request(`http://${authority}${path}`, {
        method,
        headers,
        body: hasBody
          ? nodeBody(
            stream,
            () => stream.destroy(),
            watchBody(conn, stream, () => stream.close(constants.NGHTTP2_CANCEL)),
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
    const response = await respond(request, conn.client, completed.promise);
    await writeH2(response, stream, method, state);
  }

  const hand = (socket: Duplex, client: H2Client): void => {
    if (closing) return void socket.destroy();
    const conn: Conn = { client, socket, open: 0, idleSince: Date.now(), bodies: new Set() };
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", ignore);
    handing = conn;
    try {
      server.emit("connection", socket);
    } finally {
      handing = undefined;
    }
  };

  return {
    serveSocket(socket, client) {
      // Through the same adapter as h2c, so the client's GOAWAY is filtered out here too.
      void this.serveStream(new NodeSocketStream(socket), new Uint8Array(0), client);
    },
    serveStream(stream, initial, client) {
      stream.setNoDelay?.(true);
      const d = duplexOf(stream, initial);
      const closed = new Promise<void>((resolve) => d.once("close", () => resolve()));
      hand(d, client);
      return closed;
    },
    get sessions() {
      return conns.size;
    },
    async shutdown(graceMs = 30_000) {
      if (closing) return;
      closing = true;
      clearInterval(sweep);
      for (const session of conns.keys()) session.close();
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const session of conns.keys()) session.destroy();
      for (const s of sockets) s.destroy();
    },
  };
}
