/**
 * One HTTP/2 connection to a backend as the h2 upstream client pools it: connected within the connect time limits
 * (transport.ts, then the backend's SETTINGS), its stream count against `max_h2_streams` and the backend's
 * SETTINGS_MAX_CONCURRENT_STREAMS, its idle timer. The protocol is connection.ts.
 *
 * @module
 */

import { type Backend, type ConnectOptions, UpstreamError } from "../types.ts";
import { H2ClientConnection } from "./connection.ts";
import { openTransport } from "./transport.ts";

/** How long a new connection waits for the backend's SETTINGS at most, ms (the connect limits may be shorter). */
const SETTINGS_WAIT = 10_000;

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
  /** Offer `http/1.1` after `h2` in ALPN (`h2h1`). */
  readonly offerH1?: boolean | undefined;
  /** Called once when the session is gone (closed, failed, GOAWAY received). */
  readonly onGone: (session: H2Session) => void;
  /** Called once when the connection closed. */
  readonly onClosed?: ((session: H2Session) => void) | undefined;
}

/** A session to one backend. */
export class H2Session extends H2ClientConnection {
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
  readonly #how: H2SessionOptions;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Exchanges waiting for the backend's stream limit to let them open ({@linkcode slot}). */
  #slotWaiters: (() => void)[] = [];

  constructor(backend: Backend, how: H2SessionOptions) {
    super(how);
    this.addr = backend.addr;
    this.#how = how;
    this.ready = this.#connect(backend);
    // A session that nobody awaits any more must not turn its failure into an unhandled rejection.
    this.ready.catch(ignore);
  }

  async #connect(backend: Backend): Promise<void> {
    const o = this.#how.options;
    const where = backend.addr;
    const started = performance.now();
    const ac = new AbortController();
    let timedOut = false;
    let opened = false;
    const limit = (ms: number | undefined) => {
      if (ms === undefined || ms <= 0) return undefined;
      return setTimeout(() => {
        timedOut = true;
        ac.abort();
        if (opened) this.lost("timed out");
      }, ms);
    };
    let tcpTimer = limit(o.connectionTimeout);
    const totalTimer = limit(o.totalConnectionTimeout);
    const settingsTimer = setTimeout(() => this.lost("no SETTINGS from the backend"), SETTINGS_WAIT);
    try {
      const t = await openTransport(backend, o, this.#how, ac.signal, () => {
        clearTimeout(tcpTimer);
        tcpTimer = undefined;
      });
      this.tlsTime = t.tlsTime;
      if (this.closed) {
        // Destroyed while connecting.
        t.io.close();
        throw new Error("connection closed");
      }
      opened = true;
      // The TCP limit holds until the backend's SETTINGS when there is no total one.
      await this.start(t.io);
    } catch (error) {
      this.markGone();
      if (!opened) this.lost("connect failed");
      if (timedOut) throw new UpstreamError("timeout", `Cannot connect to ${where}: timed out`, false);
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError("connect", `Cannot connect to ${where}: ${(error as Error).message}`, false, {
        cause: error,
      });
    } finally {
      clearTimeout(tcpTimer);
      clearTimeout(totalTimer);
      clearTimeout(settingsTimer);
    }
    this.connected = true;
    this.connectTime = performance.now() - started;
    // Closed (a drain) while connecting, with nothing waiting for it.
    if (this.gone && this.active === 0) this.close();
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

  /** Whether the backend's SETTINGS_MAX_CONCURRENT_STREAMS lets one more stream open now. */
  get openable(): boolean {
    const max = this.remoteMaxStreams;
    return max === undefined || this.streamCount < max || this.closed;
  }

  /** Settles once a stream ended (look at {@linkcode openable} again) or the connection closed. */
  slot(): Promise<void> {
    return new Promise((resolve) => this.#slotWaiters.push(resolve));
  }

  protected override streamEnded(): void {
    const waiters = this.#slotWaiters;
    if (waiters.length === 0) return;
    this.#slotWaiters = [];
    for (const w of waiters) w();
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
    const idle = this.#how.options.idleTimeout;
    if (this.gone || idle <= 0) {
      this.close();
      return;
    }
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.active === 0) this.close();
    }, idle);
  }

  /** Graceful close: no new streams, open ones finish. */
  override close(): void {
    clearTimeout(this.#idleTimer);
    super.close();
  }

  protected override wentAway(): void {
    this.#how.onGone(this);
  }

  protected override ended(): void {
    clearTimeout(this.#idleTimer);
    this.#how.onClosed?.(this);
  }
}

function ignore(): void {}
