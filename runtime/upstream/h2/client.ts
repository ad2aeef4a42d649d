/**
 * The HTTP/2 upstream client (`alpn = "h2"`, and `"h2h1"` over TLS), on our own HTTP/2 frame and HPACK layer (the
 * one the HTTP/2 engine serves with), which, unlike `fetch`, carries trailers (gRPC needs them). No `node:http2`:
 * nothing a backend sends can end the process.
 *
 * Connections: h2c with prior knowledge when the upstream has no TLS, else TLS with ALPN `h2` (SNI `sni`,
 * certificate checked unless `verify_cert = false`). A backend that does not choose `h2` in ALPN fails the connect,
 * unless the upstream is `h2h1`: then `http/1.1` is offered after `h2`, and a backend that picks it (or nothing) is
 * served by the HTTP/1.1 client (`fallback`) from then on, as Pingora falls back to h1.
 *
 * Sessions: per `Backend.addr`, each carries at most `maxStreams` streams at once (`max_h2_streams`, further capped
 * by the backend's SETTINGS_MAX_CONCURRENT_STREAMS); a request that finds every session full opens another, up to
 * {@linkcode MAX_SESSIONS_PER_BACKEND}, beyond which it joins the least busy session, where it waits until the
 * backend's limit lets it open. A session with no stream closes after `idleTimeout` (at once when 0). A GOAWAY stops
 * new streams on that session (open ones finish), and the next request opens a new session.
 *
 * Retry: a request is sent again, once, when the backend did not process its stream and its body (if any) was not
 * read yet: REFUSED_STREAM, a stream id above the GOAWAY's last stream id, a reused session that closed before any
 * answer (these three only for requests without body, since the body was being sent), or a session that closed
 * between being picked and the stream being opened. A second such failure is a "connect" error (not sent).
 *
 * Time limits: `connectionTimeout` for the TCP connect, `totalConnectionTimeout` for connect, TLS and the backend's
 * first SETTINGS (10 s at most without it; both "timeout" errors, not sent); `readTimeout` while waiting for the
 * response head and while the consumer waits for body bytes; `writeTimeout` while a request body write waits for
 * flow control. Abort (the request's signal) resets the stream
 * with CANCEL and fails with "aborted".
 *
 * @example Usage
 * ```ts ignore
 * import { createH2Client } from "./client.ts";
 *
 * const client = createH2Client({ tls: false, verifyCert: true, idleTimeout: 60_000, poolSize: 128 }, 100);
 * const backend = { host: "127.0.0.1", port: 50051, weight: 1, addr: "127.0.0.1:50051" };
 * const res = await client.request(backend, { method: "GET", target: "/", headers: new Headers(), body: null });
 * console.log(res.status, await new Response(res.body).text(), await res.trailers);
 * client.close();
 * ```
 *
 * @module
 */

import { startDrain } from "../drain.ts";
import { runExchange } from "./exchange.ts";
import { StreamNotProcessed } from "./stream_handler.ts";
import { H2Session } from "./session.ts";
import { NotH2 } from "./transport.ts";
import {
  type Backend,
  type ConnectOptions,
  type UpstreamAnswer,
  type UpstreamClient,
  UpstreamError,
  withRequestTimeouts,
} from "../types.ts";
import type { AbortWatch, HttpRequest } from "../../http/message.ts";
import type { HeaderPolicy } from "../../../compiler/mod.ts";

/** Sessions opened to one backend at most before streams share sessions beyond `maxStreams`. */
export const MAX_SESSIONS_PER_BACKEND = 256;

/** Settings of the h2 client beyond {@linkcode ConnectOptions}. */
export interface H2ClientOptions {
  /** PEM certificates trusted instead of the system roots, for TLS (tests, private CAs). */
  readonly caCerts?: readonly string[];
  /** Flow-control window of each stream, bytes (`h2_stream_window_size`); the HTTP/2 default when unset. */
  readonly streamWindow?: number | undefined;
  /** Flow-control window of each session, bytes (`h2_connection_window_size`); the HTTP/2 default when unset. */
  readonly connectionWindow?: number | undefined;
  /** Certificate presented to the backends (mutual TLS). */
  readonly clientCert?: { readonly cert: string; readonly key: string } | undefined;
  /** The upstream's request-header options when one is off (absent: Pingap's defaults). */
  readonly headerPolicy?: HeaderPolicy | undefined;
  /**
   * `h2h1` over TLS: the HTTP/1.1 client for a backend that picks `http/1.1` (or nothing) in ALPN, where `h2` comes
   * first; without it such a backend fails the connect.
   */
  readonly fallback?: UpstreamClient | undefined;
}

/** An {@linkcode UpstreamClient} over HTTP/2. */
export interface H2Client extends UpstreamClient {
  /** Open sessions (all backends). */
  readonly sessionCount: number;
}

/**
 * Creates an HTTP/2 client with its own sessions.
 *
 * @param options Connection options of the upstream.
 * @param maxStreams Concurrent streams per session (`max_h2_streams`, at least 1).
 * @param extra Further settings.
 * @returns The client; call `close()` when the upstream goes away.
 */
export function createH2Client(options: ConnectOptions, maxStreams: number, extra: H2ClientOptions = {}): H2Client {
  return new H2ClientImpl(options, Math.max(1, Math.floor(maxStreams) || 1), extra);
}

class H2ClientImpl implements H2Client {
  readonly #options: ConnectOptions;
  readonly #maxStreams: number;
  readonly #caCerts: readonly string[] | undefined;
  readonly #extra: H2ClientOptions;
  /** Usable (not gone) sessions per backend addr. */
  readonly #sessions = new Map<string, H2Session[]>();
  /** Every session not yet closed, for `close()`. */
  readonly #all = new Set<H2Session>();
  #closed = false;
  /** True once `close()` cut the streams (a drain alone lets them end). */
  #cut = false;
  /** Backends that did not pick h2 in ALPN: their requests go to the fallback (`h2h1`). */
  readonly #h1 = new Set<string>();
  /** Set by `drain()`: settles it; called when the last session closed (again: no-op). */
  #drained: (() => void) | undefined;

  constructor(options: ConnectOptions, maxStreams: number, extra: H2ClientOptions) {
    this.#options = options;
    this.#maxStreams = maxStreams;
    this.#caCerts = extra.caCerts;
    this.#extra = extra;
  }

  get sessionCount(): number {
    return this.#all.size;
  }

  get connections(): number {
    return this.#all.size + (this.#extra.fallback?.connections ?? 0);
  }

  async request(backend: Backend, req: HttpRequest): Promise<UpstreamAnswer> {
    if (this.#closed) throw new UpstreamError("connect", "Cannot send request: client is closed", false);
    if (req.watch?.aborted) throw new UpstreamError("aborted", "Cannot send request: aborted", false);
    const fallback = this.#extra.fallback;
    if (fallback !== undefined && this.#h1.has(backend.addr)) return fallback.request(backend, req);
    const started = performance.now();
    let retried = false;
    for (;;) {
      const { session, created } = this.#acquire(backend, req);
      const reused = !created && session.connected;
      let connectTime = 0;
      if (!session.connected) {
        const t = performance.now();
        try {
          await waitReady(session, req.watch);
        } catch (error) {
          session.release();
          if (fallback !== undefined && error instanceof NotH2) {
            // One TLS handshake told us: this backend speaks HTTP/1.1 (until the upstream is replaced).
            this.#h1.add(backend.addr);
            return fallback.request(backend, req);
          }
          req.body?.cancel(error).catch(ignore);
          throw error;
        }
        connectTime = performance.now() - t;
      }
      if (this.#closed) {
        session.release();
        req.body?.cancel().catch(ignore);
        throw new UpstreamError("connect", "Cannot send request: client is closed", false);
      }
      try {
        return await runExchange({
          options: withRequestTimeouts(this.#options, req),
          backend,
          session,
          reused,
          connectTime,
          tlsTime: connectTime > 0 ? session.tlsTime : 0,
          started,
          closed: () => this.#cut,
          headerPolicy: this.#extra.headerPolicy,
        }, req);
      } catch (error) {
        if (!(error instanceof StreamNotProcessed)) throw error;
        if (!retried && error.bodyUntouched && !this.#closed && !req.watch?.aborted) {
          retried = true;
          continue;
        }
        if (!error.bodyUntouched) req.body?.cancel(error).catch(ignore);
        throw new UpstreamError(
          error.bodyUntouched ? "connect" : "protocol",
          `Cannot send request: ${error.message}`,
          !error.bodyUntouched,
          { cause: error },
        );
      }
    }
  }

  /** Picks (and reserves a slot on) a session for `backend`, opening one when all are full. */
  #acquire(backend: Backend, req: HttpRequest): { session: H2Session; created: boolean } {
    const list = this.#sessions.get(backend.addr);
    if (list !== undefined) {
      for (const s of list) {
        if (s.hasRoom) {
          s.reserve();
          return { session: s, created: false };
        }
      }
      if (list.length >= MAX_SESSIONS_PER_BACKEND) {
        let best: H2Session | undefined;
        for (const s of list) if (!s.gone && (best === undefined || s.active < best.active)) best = s;
        if (best !== undefined) {
          best.reserve();
          return { session: best, created: false };
        }
      }
    }
    // A session opened for this request connects within its connect limit (a location's, when it has one).
    const session = new H2Session(backend, {
      options: withRequestTimeouts(this.#options, req),
      maxStreams: this.#maxStreams,
      caCerts: this.#caCerts,
      streamWindow: this.#extra.streamWindow,
      connectionWindow: this.#extra.connectionWindow,
      clientCert: this.#extra.clientCert,
      offerH1: this.#extra.fallback !== undefined,
      onGone: (s) => this.#forget(s),
      onClosed: (s) => {
        this.#all.delete(s);
        if (this.#drained !== undefined && this.#all.size === 0) this.#drained();
      },
    });
    if (!session.closed) this.#all.add(session);
    const current = this.#sessions.get(backend.addr);
    if (current === undefined) this.#sessions.set(backend.addr, [session]);
    else current.push(session);
    session.reserve();
    return { session, created: true };
  }

  #forget(session: H2Session): void {
    const list = this.#sessions.get(session.addr);
    if (list === undefined) return;
    const i = list.indexOf(session);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#sessions.delete(session.addr);
  }

  prune(keep: ReadonlySet<string>): void {
    this.#extra.fallback?.prune(keep);
    for (const addr of this.#h1) if (!keep.has(addr)) this.#h1.delete(addr);
    for (const [addr, list] of [...this.#sessions]) {
      if (keep.has(addr)) continue;
      for (const s of [...list]) s.close();
      this.#sessions.delete(addr);
    }
  }

  close(): void {
    this.#extra.fallback?.close();
    this.#closed = true;
    this.#cut = true;
    const drained = this.#drained;
    this.#drained = undefined;
    for (const s of [...this.#all]) s.destroy();
    this.#sessions.clear();
    drained?.();
  }

  drain(graceMs: number): Promise<void> {
    const fallback = this.#extra.fallback;
    if (fallback !== undefined) {
      return Promise.all([fallback.drain ? fallback.drain(graceMs) : fallback.close(), this.#drainH2(graceMs)])
        .then(ignore);
    }
    return this.#drainH2(graceMs);
  }

  #drainH2(graceMs: number): Promise<void> {
    this.#closed = true;
    // A graceful close: no new streams; a session closes once its open streams ended (at once when it has none).
    for (const s of [...this.#all]) s.close();
    this.#sessions.clear();
    if (this.#all.size === 0) return Promise.resolve();
    const drain = startDrain(graceMs, () => this.close());
    this.#drained = drain.settle;
    return drain.done;
  }
}

/** Waits until `session` is connected, or the request is aborted. */
function waitReady(session: H2Session, signal: AbortWatch | undefined): Promise<void> {
  if (signal === undefined) return session.ready;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new UpstreamError("aborted", `Cannot connect to ${session.addr}: aborted`, false));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    session.ready.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function ignore(): void {}
