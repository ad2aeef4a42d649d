/**
 * One HTTP/2 connection to a backend for the h2 upstream client: a `node:http2` client session (h2c over TCP, or
 * TLS with ALPN `h2`), its connect time limits, its stream count and its idle timer.
 *
 * @module
 */

import { type ClientHttp2Session, connect as h2connect, constants } from "node:http2";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { type Backend, type ConnectOptions, UpstreamError } from "../types.ts";
import { setNodeSocketOptions } from "../socket_options.ts";

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
}

/** A session to one backend. */
export class H2Session {
  readonly addr: string;
  readonly session: ClientHttp2Session;
  /** Settles when the session is connected; rejects with an {@linkcode UpstreamError} ("connect" / "timeout"). */
  readonly ready: Promise<void>;
  /** Time from opening to connected, ms (0 until then). */
  connectTime = 0;
  /** When it was opened (`performance.now()`), for `{:upstream_connection_time}`. */
  readonly openedAt = performance.now();
  /** The TLS handshake's part of the connect, ms (0 without TLS or until done). */
  tlsTime = 0;
  /** When the TCP connect was done (performance.now()). */
  #tcpAt = 0;
  /** Streams reserved or open on this session. */
  active = 0;
  /** True once connected. */
  connected = false;
  /** No new streams: GOAWAY received, closing, closed or failed. */
  gone = false;
  /** Highest stream id the backend said it processed, from its GOAWAY (undefined: no GOAWAY yet). */
  goawayLastStreamId: number | undefined;
  readonly #options: H2SessionOptions;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(backend: Backend, how: H2SessionOptions) {
    this.addr = backend.addr;
    this.#options = how;
    const o = how.options;
    const started = performance.now();
    const ready = Promise.withResolvers<void>();
    this.ready = ready.promise;
    // A session that nobody awaits any more must not turn its failure into an unhandled rejection.
    this.ready.catch(ignore);
    let tcpTimer: ReturnType<typeof setTimeout> | undefined;
    let totalTimer: ReturnType<typeof setTimeout> | undefined;
    let failure: UpstreamError | undefined;
    const where = backend.addr;
    const fail = (error: UpstreamError) => {
      if (failure !== undefined || this.connected) return;
      failure = error;
      clearTimeout(tcpTimer);
      clearTimeout(totalTimer);
      ready.reject(error);
      this.#markGone();
      this.session.destroy();
    };
    const servername = o.sni && o.sni !== "$host" ? o.sni : backend.host;
    const authority = `${o.tls ? "https" : "http"}://${backend.addr}`;
    this.session = h2connect(authority, {
      settings: {
        enablePush: false,
        ...(how.streamWindow !== undefined ? { initialWindowSize: how.streamWindow } : {}),
      },
      createConnection: (): Socket => {
        let socket: Socket;
        if (o.tls) {
          const tls: TLSSocket = tlsConnect({
            host: backend.host,
            port: backend.port,
            ...(isIP(servername) ? {} : { servername }),
            rejectUnauthorized: o.verifyCert,
            ALPNProtocols: ["h2"],
            ...(how.caCerts === undefined ? {} : { ca: [...how.caCerts] }),
            ...(how.clientCert === undefined ? {} : { cert: how.clientCert.cert, key: how.clientCert.key }),
          });
          tls.once("secureConnect", () => {
            if (this.#tcpAt > 0) this.tlsTime = performance.now() - this.#tcpAt;
            if (tls.alpnProtocol !== "h2") {
              fail(
                new UpstreamError(
                  "connect",
                  `Cannot connect to ${where}: the backend did not choose h2 in ALPN (got ${
                    tls.alpnProtocol || "none"
                  })`,
                  false,
                ),
              );
            }
          });
          socket = tls;
        } else {
          socket = netConnect({ host: backend.host, port: backend.port });
        }
        socket.setNoDelay(true);
        socket.once("connect", () => {
          clearTimeout(tcpTimer);
          this.#tcpAt = performance.now();
          if (o.socket !== undefined) setNodeSocketOptions(socket, o.socket);
        });
        return socket;
      },
    });
    const session = this.session;
    if (o.connectionTimeout !== undefined && o.connectionTimeout > 0) {
      tcpTimer = setTimeout(
        () => fail(new UpstreamError("timeout", `Cannot connect to ${where}: timed out`, false)),
        o.connectionTimeout,
      );
    }
    if (o.totalConnectionTimeout !== undefined && o.totalConnectionTimeout > 0) {
      totalTimer = setTimeout(
        () => fail(new UpstreamError("timeout", `Cannot connect to ${where}: timed out`, false)),
        o.totalConnectionTimeout,
      );
    }
    session.once("connect", () => {
      if (failure !== undefined) return;
      clearTimeout(tcpTimer);
      clearTimeout(totalTimer);
      if (how.connectionWindow !== undefined) {
        try {
          session.setLocalWindowSize(how.connectionWindow);
        } catch {
          // A session closing under us: the window no longer matters.
        }
      }
      this.connected = true;
      this.connectTime = performance.now() - started;
      ready.resolve();
    });
    session.on("error", (error: Error) => {
      fail(new UpstreamError("connect", `Cannot connect to ${where}: ${error.message}`, false, { cause: error }));
      this.#markGone();
    });
    session.on("goaway", (_code: number, lastStreamId: number) => {
      this.goawayLastStreamId = lastStreamId;
      this.#markGone();
      // Let the streams the backend still serves finish; a session with none left closes now.
      if (this.active === 0) this.close();
    });
    session.once("close", () => {
      fail(new UpstreamError("connect", `Cannot connect to ${where}: connection closed`, false));
      clearTimeout(this.#idleTimer);
      this.#markGone();
    });
  }

  /** Streams allowed on this session now: ours, capped by the backend's SETTINGS_MAX_CONCURRENT_STREAMS. */
  get limit(): number {
    const remote = this.connected ? this.session.remoteSettings.maxConcurrentStreams : undefined;
    return remote === undefined || remote <= 0 ? this.#options.maxStreams : Math.min(this.#options.maxStreams, remote);
  }

  /** Can take one more stream without exceeding its limit. */
  get hasRoom(): boolean {
    return !this.gone && this.active < this.limit;
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
    const idle = this.#options.options.idleTimeout;
    if (idle <= 0) {
      this.#markGone();
      this.close();
      return;
    }
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.active > 0) return;
      this.#markGone();
      this.close();
    }, idle);
  }

  /** Graceful close: no new streams, open ones finish. */
  close(): void {
    this.#markGone();
    clearTimeout(this.#idleTimer);
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  }

  /** Closes at once; open streams fail. */
  destroy(): void {
    this.#markGone();
    clearTimeout(this.#idleTimer);
    if (!this.session.destroyed) this.session.destroy(undefined, constants.NGHTTP2_CANCEL);
  }

  #markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.#options.onGone(this);
  }
}

function ignore(): void {}
