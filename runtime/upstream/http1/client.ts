/**
 * A lean HTTP/1.1 upstream client over `Deno.connect`, with a keep-alive pool per backend.
 *
 * Why not `fetch`: on loopback it reaches 0.4–0.6× the request rate of this client (`bench/upstream_client_bench.ts`:
 * about 5–7k against 8–15k req/s sequential, 8–11k against 18–31k with 50 in flight); it also decodes compressed
 * bodies while keeping `content-encoding`, drops `Host` unless told otherwise, leaves `TCP_NODELAY` off, has no
 * trailers, and surfaces stale pooled connections as errors. This client passes body bytes through untouched (only
 * chunked framing is removed) and sets `TCP_NODELAY`.
 *
 * Stale connections: a request is sent again, once, on a fresh connection when a pooled connection fails (write
 * error, reset or EOF) before any byte of the answer arrived and the request is replayable: no body, or a body with a
 * content-length up to 64 KiB, which is read whole before sending. A request whose method is not idempotent (POST,
 * PATCH, …: RFC 9110 §9.2.2) is sent again only when no byte of it was written: the server may have acted on it. A
 * streamed body is never replayed: that failure is a "protocol" error with `requestSent: true`.
 *
 * Request bodies: with `content-length`, raw bytes (a body shorter or longer than announced fails with "aborted");
 * without, chunked. The first write carries the head together with a small body or first chunk. The body is pumped
 * while the response is read, so an early answer (say 413) is returned at once; its connection is then not reused.
 *
 * Layout: `http1_head.ts` (head codec), `http1_request.ts` (request preparation), `http1_body.ts` (body streams and
 * the request body pump), `http1_exchange.ts` (one exchange), `http1_conn.ts` (buffer, deadlines, idle watch),
 * `http1_pool.ts` (keep-alive pool), `http1_upgrade.ts` (101), `http1_transport.ts` (TCP/TLS).
 *
 * Pool: per `Backend.addr`, newest connection first, at most `poolSize` idle, each closed after `idleTimeout`
 * (checked when taken and by a sweep every `min(1 s, idleTimeout / 4)`); `poolSize` or `idleTimeout` of 0 disables
 * pooling. A parked connection keeps a read pending (it becomes the first read of the next response): a close by the
 * server, or any byte it sends while the connection idles, closes it and removes it from the pool at once, so bytes
 * an upstream sent unasked are never read as the next client's response. A response that ends with more bytes
 * already read (a body after a HEAD answer, more than its content-length) does not give its connection back.
 *
 * Client errors: a request that cannot or must not be sent (see `buildRequestHead`) fails with
 * `ClientRequestError` (types.ts) before a connection is taken.
 *
 * Timeouts: `connectionTimeout` limits the TCP connect, `totalConnectionTimeout` connect plus TLS handshake,
 * `readTimeout` each read (response head and body), `writeTimeout` each write. Reads while the consumer is not
 * pulling the body are not timed. A time limit ends the exchange with an {@linkcode UpstreamError} of kind "timeout".
 *
 * TLS: `tls` with `verifyCert` connects with `Deno.connect` and upgrades with `Deno.startTls`, so SNI (and the name
 * checked in the certificate) is `sni` while the address is the backend's; ALPN offers only `http/1.1`. Deno's TLS
 * API cannot skip certificate verification (only hostname verification, `unsafelyDisableHostnameVerification`; the
 * process-wide `--unsafely-ignore-certificate-errors` flag is not per upstream), so `verifyCert: false` uses
 * `node:tls` `connect({ rejectUnauthorized: false, servername })` (checked in Deno 2.9.6: it accepts a self-signed
 * certificate that `Deno.startTls` refuses), wrapped as a transport (`NodeTlsTransport`, one extra copy per read).
 * `node:tls` is imported on first use only (the first such connection pays about 50 ms of module loading).
 * Measured with `bench/upstream_client_bench.ts --tls` (loopback, 2 shared cores, small GETs on kept-alive
 * connections, four runs): node:tls reached 0.89–1.16× the request rate of `Deno.startTls` sequentially (within
 * noise) and 0.50–0.84× with 50 in flight, so verified upstreams keep the faster native path and only
 * `verify_cert = false` takes the other.
 * Extra trusted CAs can be given with `createHttp1Client(options, { caCerts })`.
 *
 * @example Usage
 * ```ts ignore
 * import { createHttp1Client } from "./client.ts";
 *
 * const client = createHttp1Client({ tls: false, verifyCert: true, idleTimeout: 60_000, poolSize: 128 });
 * const backend = { host: "127.0.0.1", port: 8080, weight: 1, addr: "127.0.0.1:8080" };
 * const res = await client.request(backend, { method: "GET", target: "/", headers: new Headers(), body: null });
 * console.log(res.status, await new Response(res.body).text());
 * client.close();
 * ```
 *
 * @module
 */

import { Http1Conn } from "./conn.ts";
import { Http1Exchange, type Http1Response, StaleConnectionError } from "./exchange.ts";
import { startDrain } from "../drain.ts";
import { Http1Pool } from "./pool.ts";
import { prepareRequest, releasePrepared } from "./request.ts";
import { type ConnectTimings, openTransport } from "./transport.ts";
import {
  type Backend,
  type ConnectOptions,
  type UpstreamClient,
  UpstreamError,
  withRequestTimeouts,
} from "../types.ts";
import type { HttpRequest } from "../../http/message.ts";
import type { HeaderPolicy } from "../../../compiler/mod.ts";

export type { Http1Response } from "./exchange.ts";
export type { Http1Upgrade } from "./upgrade.ts";

/** An {@linkcode UpstreamClient} whose responses may carry HTTP/1.1 trailers and upgrades. */
export interface Http1Client extends UpstreamClient {
  /** Sends one request to `backend`. Rejects with {@linkcode UpstreamError}. */
  request(backend: Backend, req: HttpRequest): Promise<Http1Response>;
  /** Idle pooled connections (all backends). */
  readonly idleCount: number;
}

/** Settings of the HTTP/1.1 client beyond {@linkcode ConnectOptions}. */
export interface Http1ClientOptions {
  /** PEM certificates trusted in addition to the system roots, for TLS with `verifyCert` (tests, private CAs). */
  readonly caCerts?: readonly string[];
  /** Certificate presented to the backends (mutual TLS). */
  readonly clientCert?: { readonly cert: string; readonly key: string } | undefined;
  /** The upstream's request-header options when one is off (absent: Pingap's defaults). */
  readonly headerPolicy?: HeaderPolicy | undefined;
}

/**
 * Creates an HTTP/1.1 client with its own keep-alive pool.
 *
 * @param options Connection options of the upstream.
 * @param extra Further settings.
 * @returns The client; call `close()` when the upstream goes away.
 */
export function createHttp1Client(options: ConnectOptions, extra: Http1ClientOptions = {}): Http1Client {
  return new Http1ClientImpl(options, extra);
}

class Http1ClientImpl implements Http1Client {
  readonly #options: ConnectOptions;
  readonly #caCerts: readonly string[] | undefined;
  readonly #clientCert: { readonly cert: string; readonly key: string } | undefined;
  readonly #headerPolicy: HeaderPolicy | undefined;
  readonly #pool: Http1Pool;
  readonly #active = new Set<Http1Conn>();
  #closed = false;
  /** Set by `drain()`: settles it; called when the last exchange in flight gave its connection back (again: no-op). */
  #drained: (() => void) | undefined;
  readonly readTimeout: number | undefined;
  readonly writeTimeout: number | undefined;

  constructor(options: ConnectOptions, extra: Http1ClientOptions) {
    this.#options = options;
    this.#caCerts = extra.caCerts;
    this.#clientCert = extra.clientCert;
    this.#headerPolicy = extra.headerPolicy;
    this.#pool = new Http1Pool(options.poolSize, options.idleTimeout);
    this.readTimeout = options.readTimeout;
    this.writeTimeout = options.writeTimeout;
  }

  get idleCount(): number {
    return this.#pool.idleCount;
  }

  get connections(): number {
    return this.#pool.idleCount + this.#active.size;
  }

  async request(backend: Backend, req: HttpRequest): Promise<Http1Response> {
    if (this.#closed) throw new UpstreamError("connect", "Cannot send request: client is closed", false);
    if (req.watch?.aborted) throw new UpstreamError("aborted", "Cannot send request: aborted", false);
    // Untimed (0) when the caller reads no timing: a clock read costs ~0.35 µs here.
    const started = req.timed === false ? 0 : performance.now();
    const pending = prepareRequest(req, backend.addr, this.#headerPolicy);
    const prep = pending instanceof Promise ? await pending : pending;
    if (req.watch?.aborted) {
      prep.pump?.reader.cancel().catch(ignore);
      throw new UpstreamError("aborted", "Cannot send request: aborted", false);
    }
    let conn = this.#pool.take(backend.addr);
    for (;;) {
      const reused = conn !== undefined;
      let connectTime = 0;
      let tlsTime = 0;
      if (conn === undefined) {
        const t = performance.now();
        const timings: ConnectTimings | undefined = req.timed === false ? undefined : { tcp: 0, tls: 0 };
        try {
          const transport = await openTransport(backend, {
            options: withRequestTimeouts(this.#options, req),
            caCerts: this.#caCerts,
            clientCert: this.#clientCert,
            signal: req.watch,
            timings,
          });
          conn = new Http1Conn(backend.addr, transport);
        } catch (error) {
          prep.pump?.reader.cancel(error).catch(ignore);
          throw error;
        }
        connectTime = performance.now() - t;
        if (timings !== undefined) tlsTime = timings.tls;
        if (this.#closed) {
          conn.close();
          throw new UpstreamError("connect", "Cannot send request: client is closed", false);
        }
      }
      this.#active.add(conn);
      const exchange = new Http1Exchange(this, conn, req, { prep, reused, started, connectTime, tlsTime });
      try {
        const res = await exchange.run();
        // Sent, and the response head came: it will not be sent again.
        releasePrepared(prep);
        return res;
      } catch (error) {
        if (error instanceof StaleConnectionError) {
          conn = undefined;
          continue;
        }
        prep.pump?.reader.cancel(error).catch(ignore);
        throw error;
      }
    }
  }

  /** Gives a connection back after an exchange. */
  release(conn: Http1Conn, reusable: boolean): void {
    this.#active.delete(conn);
    if (reusable && !this.#closed) this.#pool.put(conn);
    else conn.close();
    if (this.#drained !== undefined && this.#active.size === 0) this.#drained();
  }

  prune(keep: ReadonlySet<string>): void {
    this.#pool.prune(keep);
  }

  close(): void {
    this.#closed = true;
    this.#pool.close();
    const drained = this.#drained;
    this.#drained = undefined;
    for (const conn of this.#active) conn.close("aborted");
    this.#active.clear();
    drained?.();
  }

  drain(graceMs: number): Promise<void> {
    this.#closed = true;
    this.#pool.close();
    if (this.#active.size === 0) return Promise.resolve();
    // Past the grace period, whatever is still in flight is cut (close() settles the drain).
    const drain = startDrain(graceMs, () => this.close());
    this.#drained = drain.settle;
    return drain.done;
  }
}

function ignore(): void {}
