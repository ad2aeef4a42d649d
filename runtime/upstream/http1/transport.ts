/**
 * Byte transports for the HTTP/1.1 upstream client: plain TCP and TLS over `Deno.connect`, and TLS without
 * certificate verification over `node:tls` (Deno's own TLS API has no switch for that), all behind one small
 * read/write/close interface. Connect timeouts and the request's abort signal are applied here.
 *
 * @module
 */

import type { TLSSocket } from "node:tls";
import { type ConnectOptions, UpstreamError } from "../types.ts";
import type { AbortWatch } from "../../http/message.ts";
import { setBackendSocketOptions, setNodeSocketOptions } from "../socket_options.ts";

/** The byte stream one HTTP/1.1 connection runs on. `Deno.Conn` satisfies it as is. */
export interface Http1Transport {
  /** Reads into `p`; resolves with the count, or null at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; resolves with the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the sending side (after an upgrade). */
  closeWrite(): Promise<void>;
  /** Closes both sides; pending reads and writes reject. */
  close(): void;
}

/** Where to connect. */
export interface TransportTarget {
  /** Host or IP (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

/** How to open a transport. */
export interface TransportOptions {
  /** Upstream connection options. */
  readonly options: ConnectOptions;
  /** PEM certificates trusted in addition to the system roots (verified TLS only). */
  readonly caCerts?: readonly string[] | undefined;
  /** Certificate presented to the backend (`client_cert` / `client_key`): the handshake then goes over `node:tls`. */
  readonly clientCert?: { readonly cert: string; readonly key: string } | undefined;
  /** Aborts the attempt. */
  readonly signal?: AbortWatch | undefined;
  /** Filled on success with the time the TCP connect and the TLS handshake took. */
  readonly timings?: ConnectTimings | undefined;
}

/** How long the parts of a connect took, ms (`tls` 0 without TLS). */
export interface ConnectTimings {
  tcp: number;
  tls: number;
}

/**
 * Opens a transport to `target`: TCP with `TCP_NODELAY` (and the upstream's socket options, when it sets any), then
 * TLS when `options.tls` is set.
 *
 * TLS with `verifyCert` uses `Deno.startTls` on the TCP connection (SNI and the checked name are `options.sni`,
 * else the host); without `verifyCert` it uses `node:tls` with `rejectUnauthorized: false`.
 *
 * @param target Host and port.
 * @param how Upstream connection options (timeouts, TLS), extra CA certificates, and the signal that aborts the
 *   attempt.
 * @returns The open transport.
 * @throws {UpstreamError} Kind "connect" (refused, unreachable, DNS, TLS handshake), "timeout" or "aborted", never
 *   with `requestSent`.
 */
export async function openTransport(target: TransportTarget, how: TransportOptions): Promise<Http1Transport> {
  const { options, signal } = how;
  const attempt = new ConnectAttempt(options, signal);
  try {
    if (options.tls && (!options.verifyCert || how.clientCert !== undefined)) {
      const t = await attempt.nodeTls(target, how);
      attempt.timed(how.timings, true);
      return t;
    }
    const tcp = await Deno.connect({ hostname: target.host, port: target.port, signal: attempt.signal });
    attempt.current = tcp;
    attempt.tcpDone();
    tcp.setNoDelay(true);
    if (options.socket !== undefined) {
      setBackendSocketOptions(
        { localPort: tcp.localAddr.port, remoteHost: tcp.remoteAddr.hostname, remotePort: tcp.remoteAddr.port },
        options.socket,
      );
    }
    if (!options.tls) {
      attempt.timed(how.timings, false);
      return tcp;
    }
    const tls = await Deno.startTls(tcp, {
      hostname: options.sni || target.host,
      alpnProtocols: ["http/1.1"],
      ...(how.caCerts === undefined ? {} : { caCerts: [...how.caCerts] }),
    });
    attempt.current = tls;
    await tls.handshake();
    attempt.timed(how.timings, true);
    return tls;
  } catch (error) {
    attempt.current?.close();
    throw attempt.failure(error, target);
  } finally {
    attempt.dispose();
  }
}

/** Timers and abort wiring of one connection attempt. */
class ConnectAttempt {
  readonly #controller = new AbortController();
  readonly #signal: AbortWatch | undefined;
  readonly #sni: string;
  #reason: "timeout" | "aborted" | null = null;
  #tcpTimer: ReturnType<typeof setTimeout> | undefined;
  #totalTimer: ReturnType<typeof setTimeout> | undefined;
  /** What to close when the attempt is cut short. */
  current: { close(): void } | null = null;
  readonly #begun = performance.now();
  #tcpAt = 0;

  constructor(options: ConnectOptions, signal: AbortWatch | undefined) {
    this.#signal = signal;
    this.#sni = options.sni ?? "";
    this.onAbort = this.onAbort.bind(this);
    this.onTimeout = this.onTimeout.bind(this);
    if (signal !== undefined) {
      if (signal.aborted) this.onAbort();
      else signal.addEventListener("abort", this.onAbort);
    }
    if (options.connectionTimeout !== undefined && options.connectionTimeout > 0) {
      this.#tcpTimer = setTimeout(this.onTimeout, options.connectionTimeout);
    }
    if (options.totalConnectionTimeout !== undefined && options.totalConnectionTimeout > 0) {
      this.#totalTimer = setTimeout(this.onTimeout, options.totalConnectionTimeout);
    }
  }

  /** Signal for `Deno.connect`. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The request went away. */
  onAbort(): void {
    this.#stop("aborted");
  }

  /** A connect time limit passed. */
  onTimeout(): void {
    this.#stop("timeout");
  }

  #stop(reason: "timeout" | "aborted"): void {
    if (this.#reason !== null) return;
    this.#reason = reason;
    this.#controller.abort();
    try {
      this.current?.close();
    } catch {
      // already closed
    }
    this.current = null;
  }

  /** TCP is connected: only the total limit applies from now on. */
  tcpDone(): void {
    clearTimeout(this.#tcpTimer);
    this.#tcpTimer = undefined;
    this.#tcpAt = performance.now();
  }

  /** The attempt succeeded: fills `timings` (when asked) with the TCP and, when `tls`, the TLS handshake times. */
  timed(timings: ConnectTimings | undefined, tls: boolean): void {
    if (timings === undefined) return;
    const end = performance.now();
    const tcpAt = this.#tcpAt || end;
    timings.tcp = (tls ? tcpAt : end) - this.#begun;
    timings.tls = tls ? end - tcpAt : 0;
  }

  /** Maps what `error` means for this attempt. */
  failure(error: unknown, target: TransportTarget): UpstreamError {
    const where = `${target.host}:${target.port}`;
    if (this.#reason === "timeout") {
      return new UpstreamError("timeout", `Cannot connect to ${where}: timed out`, false, { cause: error });
    }
    if (this.#reason === "aborted") {
      return new UpstreamError("aborted", `Cannot connect to ${where}: aborted`, false, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new UpstreamError("connect", `Cannot connect to ${where}: ${message}`, false, { cause: error });
  }

  /** Clears timers and listeners. */
  dispose(): void {
    clearTimeout(this.#tcpTimer);
    clearTimeout(this.#totalTimer);
    this.#signal?.removeEventListener("abort", this.onAbort);
  }

  /**
   * TLS over `node:tls`: without certificate verification, or with a client certificate (which `Deno.startTls`
   * cannot present); verified against the system roots and `caCerts`, by the SNI name.
   */
  async nodeTls(target: TransportTarget, how: TransportOptions): Promise<Http1Transport> {
    // Loaded on first use: most upstreams never need the Node compatibility layer.
    const [nodeTls, nodeNet] = await Promise.all([import("node:tls"), import("node:net")]);
    if (this.#reason !== null) throw new Error("Connection attempt ended");
    const name = this.#sni || target.host;
    // Node refuses an IP address as server name (no SNI is sent for IPs anyway).
    const servername = nodeNet.isIP(name) === 0 ? name : undefined;
    const socket = nodeTls.connect({
      host: target.host,
      port: target.port,
      rejectUnauthorized: how.options.verifyCert,
      ALPNProtocols: ["http/1.1"],
      ...(servername === undefined ? {} : { servername }),
      ...(how.options.verifyCert && how.caCerts !== undefined
        ? { ca: [...nodeTls.rootCertificates, ...how.caCerts] }
        : {}),
      // The name checked is the SNI name, also for an IP target (Node would check the IP).
      ...(how.options.verifyCert
        ? { checkServerIdentity: (_: string, cert) => nodeTls.checkServerIdentity(name, cert) }
        : {}),
      ...(how.clientCert !== undefined ? { cert: how.clientCert.cert, key: how.clientCert.key } : {}),
    });
    const transport = new NodeTlsTransport(socket);
    this.current = transport;
    return await new Promise<Http1Transport>((resolve, reject) => {
      socket.once("connect", () => {
        this.tcpDone();
        socket.setNoDelay(true);
        if (how.options.socket !== undefined) setNodeSocketOptions(socket, how.options.socket);
      });
      socket.once("secureConnect", function onSecureConnect() {
        socket.removeListener("error", reject);
        resolve(transport);
      });
      socket.once("error", reject);
      socket.once("close", function onClose() {
        reject(new Error("Connection closed during TLS handshake"));
      });
    });
  }
}

/**
 * A `node:tls` socket seen as an {@linkcode Http1Transport}: incoming data is queued until read (the socket is paused
 * while more than 256 KiB waits), writes resolve when the socket has taken the bytes.
 */
export class NodeTlsTransport implements Http1Transport {
  readonly #socket: TLSSocket;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: Error | null = null;
  #waiter: { p: Uint8Array; resolve(n: number | null): void; reject(e: Error): void } | null = null;

  /** Wraps `socket` (connected or connecting). */
  constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.on("data", this.#onData.bind(this));
    socket.on("end", this.#onEnd.bind(this));
    socket.on("error", this.#onError.bind(this));
    socket.on("close", this.#onClose.bind(this));
  }

  #onData(chunk: Uint8Array): void {
    const w = this.#waiter;
    if (w !== null && this.#queue.length === 0) {
      this.#waiter = null;
      const n = Math.min(chunk.length, w.p.length);
      w.p.set(n === chunk.length ? chunk : chunk.subarray(0, n));
      if (n < chunk.length) this.#push(chunk.subarray(n));
      w.resolve(n);
      return;
    }
    this.#push(chunk);
  }

  #push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued > 256 * 1024) this.#socket.pause();
  }

  #onEnd(): void {
    this.#ended = true;
    const w = this.#waiter;
    if (w !== null && this.#queue.length === 0) {
      this.#waiter = null;
      w.resolve(null);
    }
  }

  #onError(error: Error): void {
    this.#error ??= error;
    this.#failWaiter();
  }

  #onClose(): void {
    this.#ended = true;
    this.#failWaiter();
  }

  #failWaiter(): void {
    const w = this.#waiter;
    if (w === null) return;
    this.#waiter = null;
    if (this.#error !== null) w.reject(this.#error);
    else w.resolve(null);
  }

  /** Reads queued bytes into `p`, waiting for some when none are queued. */
  read(p: Uint8Array): Promise<number | null> {
    if (this.#queue.length > 0) {
      let n = 0;
      while (n < p.length && this.#queue.length > 0) {
        const head = this.#queue[0]!;
        const take = Math.min(head.length, p.length - n);
        p.set(take === head.length ? head : head.subarray(0, take), n);
        n += take;
        if (take === head.length) this.#queue.shift();
        else this.#queue[0] = head.subarray(take);
      }
      this.#queued -= n;
      if (this.#queued <= 64 * 1024 && this.#socket.isPaused()) this.#socket.resume();
      return Promise.resolve(n);
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(null);
    if (this.#waiter !== null) return Promise.reject(new Error("Cannot read: a read is already pending"));
    return new Promise((resolve, reject) => {
      this.#waiter = { p, resolve, reject };
    });
  }

  /** Writes all of `p`; resolves once the socket accepted it. */
  write(p: Uint8Array): Promise<number> {
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#socket.destroyed) return Promise.reject(new Deno.errors.BadResource("Socket closed"));
    const socket = this.#socket;
    // The socket keeps a reference to the buffer; copy it since callers may reuse theirs.
    const copy = p.slice();
    return new Promise(function writeToSocket(resolve, reject) {
      socket.write(copy, function written(error?: Error | null) {
        if (error) reject(error);
        else resolve(copy.length);
      });
    });
  }

  /** Ends the sending side. */
  closeWrite(): Promise<void> {
    this.#socket.end();
    return Promise.resolve();
  }

  /** Destroys the socket; a pending read rejects. */
  close(): void {
    if (!this.#socket.destroyed) this.#socket.destroy();
    this.#error ??= new Deno.errors.BadResource("Socket closed");
    this.#failWaiter();
  }
}
