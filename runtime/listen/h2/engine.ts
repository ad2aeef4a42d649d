/**
 * The HTTP/2 engine: our own HTTP/2 server (RFC 9113, connection.ts) over a {@linkcode ByteStream}. Connections reach
 * it in process: a decrypted `node:tls` socket whose ALPN chose `h2` ({@linkcode H2Engine.serveSocket}), and an h2c
 * connection the HTTP/1.1 engine read the preface of ({@linkcode H2Engine.serveStream}, its buffered bytes first), and
 * one it upgraded from HTTP/1.1 on a request's `Upgrade: h2c` ({@linkcode H2Engine.serveUpgraded}, upgrade.ts).
 *
 * Each stream's request is a `WireRequest` (the message model's request, as the HTTP/1.1 engine makes: fields kept
 * as a list, no `Headers` or `Request` made unless read) with version `HTTP/2.0`; the answer is written with its
 * trailers (response.ts). A sweep applies the time limits ({@linkcode H2EngineOptions}); {@linkcode H2Engine.shutdown}
 * sends GOAWAY to every connection, lets open streams finish (at most `graceMs`), then cuts what is left.
 *
 * @module
 */
import type { Socket } from "node:net";
import type { HttpResponse, TlsFacts } from "../../http/message.ts";
import { responseWith } from "../../http/response_build.ts";
import { type ByteStream, NodeSocketStream } from "../byte_stream.ts";
import type { WireRequest } from "../h1/request.ts";
import { H2Connection } from "./connection.ts";
import type { H2Limits, H2Settings, PeerSettings } from "./settings.ts";
import { DEFAULT_WINDOW, INTERNAL_ERROR } from "./frames.ts";
import { sendResponse } from "./response.ts";
import type { H2Stream } from "./stream.ts";
import { upgradeStart } from "./upgrade.ts";
import { log } from "../../observe/log/app_log.ts";

/** The client of a connection. */
export interface H2Client {
  readonly hostname: string;
  readonly port: number;
  /** Over TLS: what the handshake settled. */
  readonly tls?: TlsFacts;
}

/** A request as the engine hands it: the message model's request (`version` `HTTP/2.0`). */
export type H2Request = WireRequest;

/** Answers one request; `req.completed` settles once the response went out (rejects when the stream was reset). */
export type H2Handler = (req: H2Request, client: H2Client) => HttpResponse | Promise<HttpResponse>;

/** Options of {@linkcode createH2Engine}. */
export interface H2EngineOptions {
  /**
   * `downstream_read_timeout` (ms, default 60 s): a connection with no stream open that long gets GOAWAY, a request
   * body the handler waits for that long is reset (CANCEL).
   */
  readonly idleTimeout?: number;
  /** `h2_idle_timeout` (ms): a connection with no stream open that long gets GOAWAY (the shorter of the two). */
  readonly h2IdleTimeout?: number;
  /** `downstream_write_timeout` (ms): a write that does not go out, a response held by a closed window, that long. */
  readonly writeTimeout?: number;
  /** The `h2_*` settings; missing ones take their defaults. */
  readonly settings?: Partial<H2Settings>;
  /** Answers a handler that threw (default 500). */
  readonly onError?: (error: unknown) => HttpResponse | Promise<HttpResponse>;
  /** The URL's authority when a request has none (`host:port` of the listener). */
  readonly authority: () => string;
  /** A connection error of a client (GOAWAY sent with `code`, see frames.ts's `errorName`), for the log. */
  readonly log?: (client: H2Client, code: number, message: string) => void;
}

/** A running engine. */
export interface H2Engine {
  /** Serves a connection whose bytes are HTTP/2 from their first (a `node:tls` socket after ALPN `h2`). */
  serveSocket(socket: Socket, client: H2Client): void;
  /**
   * Serves the rest of an h2c connection: `initial` (the preface and what came with it) then what `stream` reads.
   * Resolves once the connection ended and the stream is closed.
   */
  serveStream(stream: ByteStream, initial: Uint8Array, client: H2Client): Promise<void>;
  /**
   * Serves an h2c connection upgraded from HTTP/1.1 (RFC 7540 §3.2), once its `101` went out: our SETTINGS, the
   * client's `settings` (its `HTTP2-Settings`) applied, the upgrade request (`first`, as a decoded head; upgrade.ts)
   * answered on stream 1, then `initial` (the client's preface, when it came already) and what `stream` reads.
   * Resolves once the connection ended and the stream is closed.
   */
  serveUpgraded(
    stream: ByteStream,
    initial: Uint8Array,
    client: H2Client,
    first: readonly string[],
    settings: Uint8Array,
  ): Promise<void>;
  /** Connections open now. */
  readonly sessions: number;
  /** GOAWAY to every connection, open streams finish (at most `graceMs`, default 30 s), then every one is cut. */
  shutdown(graceMs?: number): Promise<void>;
}

const IDLE_TIMEOUT = 60_000;

/** The bodies of the answers the engine makes itself (see `ConnectionHost.answer`). */
const ANSWERS: Readonly<Record<number, string>> = {
  200: "",
  400: "Bad Request",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
};

/** The defaults of the `h2_*` keys (Pingap's: 100 streams, 64 KiB of header list, the h2 crate's 64 KiB windows). */
export const H2_DEFAULTS: H2Settings = {
  maxConcurrentStreams: 100,
  maxHeaderListSize: 65536,
  initialWindowSize: DEFAULT_WINDOW,
  connectionWindowSize: DEFAULT_WINDOW,
};

/** Makes an engine; it serves what it is given until {@linkcode H2Engine.shutdown}. */
export function createH2Engine(options: H2EngineOptions, handler: H2Handler): H2Engine {
  const settings: H2Settings = { ...H2_DEFAULTS, ...options.settings };
  const read = options.idleTimeout ?? IDLE_TIMEOUT;
  const limits: H2Limits = {
    idle: options.h2IdleTimeout !== undefined && options.h2IdleTimeout > 0
      ? (read > 0 ? Math.min(read, options.h2IdleTimeout) : options.h2IdleTimeout)
      : read,
    read,
    write: options.writeTimeout ?? 0,
  };
  const conns = new Set<H2Connection>();
  const clients = new WeakMap<H2Connection, H2Client>();
  let closing = false;

  const fail = async (error: unknown): Promise<HttpResponse> => {
    try {
      if (options.onError) return await options.onError(error);
    } catch { /* below */ }
    return responseWith("Internal Server Error", { status: 500 });
  };

  const send = (conn: H2Connection, s: H2Stream, res: HttpResponse): void => {
    try {
      const p = sendResponse(conn, s, res);
      if (p !== undefined) p.catch(() => conn.reset(s, INTERNAL_ERROR));
    } catch {
      conn.reset(s, INTERNAL_ERROR);
    }
  };

  const host = {
    settings,
    authority: options.authority,
    ...(options.log
      ? { log: (conn: H2Connection, code: number, message: string) => options.log!(clients.get(conn)!, code, message) }
      : {}),
    serve(conn: H2Connection, s: H2Stream): void {
      let answer: HttpResponse | Promise<HttpResponse>;
      try {
        answer = handler(s.req!, clients.get(conn)!);
      } catch (error) {
        answer = fail(error);
      }
      if (answer instanceof Promise) {
        answer.then((res) => send(conn, s, res), (error) => fail(error).then((res) => send(conn, s, res)));
      } else send(conn, s, answer);
    },
    answer(conn: H2Connection, s: H2Stream, status: number): void {
      send(conn, s, responseWith(ANSWERS[status] ?? "Bad Request", { status }));
    },
  };

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const conn of conns) conn.sweep(now, limits);
  }, Math.min(1000, Math.max(50, Math.min(...[limits.idle, limits.read, limits.write].filter((x) => x > 0)) / 2)));
  Deno.unrefTimer(sweep);

  const serve = async (
    stream: ByteStream,
    initial: Uint8Array,
    client: H2Client,
    upgrade?: (peer: PeerSettings) => Uint8Array,
  ) => {
    if (closing) {
      try {
        stream.close();
      } catch { /* closed */ }
      return;
    }
    let conn: H2Connection | undefined;
    try {
      stream.setNoDelay?.(true);
      conn = new H2Connection(stream, host, client.tls ?? stream.tls);
      clients.set(conn, client);
      conns.add(conn);
      await conn.run(initial, upgrade);
    } catch (e) {
      // Not a peer's fault (those end inside run): the connection cannot be served, and is closed rather than held.
      log.error("HTTP/2 connection failed", { error: e instanceof Error ? e.message : String(e) });
      try {
        stream.close();
      } catch { /* closed */ }
    } finally {
      if (conn !== undefined) conns.delete(conn);
    }
  };

  return {
    serveSocket(socket, client) {
      void this.serveStream(new NodeSocketStream(socket, undefined, client.tls), new Uint8Array(0), client);
    },
    serveStream(stream, initial, client) {
      return serve(stream, initial, client, undefined);
    },
    serveUpgraded(stream, initial, client, first, settings) {
      return serve(stream, initial, client, upgradeStart({ head: first, settings }));
    },
    get sessions() {
      return conns.size;
    },
    async shutdown(graceMs = 30_000) {
      if (closing) return;
      closing = true;
      for (const conn of conns) conn.goaway();
      const deadline = Date.now() + graceMs;
      while (conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const conn of conns) conn.cut();
      clearInterval(sweep);
    },
  };
}
