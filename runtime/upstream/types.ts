/**
 * What the proxy asks of an upstream connection: one HTTP exchange with one
 * backend, body streamed both ways.
 *
 * @module
 */

import type { HttpRequest, HttpResponse, RequestTimeouts } from "../http/message.ts";
import type { BackendSocketOptions } from "./socket_options.ts";

/** One backend address (after discovery). */
export interface Backend {
  /** IP or host name to connect to (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** `host:port` (IPv6 as `[::1]:80`), the identity used for pools, health and stats. */
  readonly addr: string;
}

/** Connection options of an upstream (from the Plan; times in ms). */
export interface ConnectOptions {
  /** TLS to the backend (upstream `sni` set). */
  readonly tls: boolean;
  /** Server name sent in TLS and checked in the certificate. */
  readonly sni?: string;
  readonly verifyCert: boolean;
  readonly connectionTimeout?: number;
  readonly totalConnectionTimeout?: number;
  readonly readTimeout?: number;
  readonly writeTimeout?: number;
  /** Idle pooled connections are closed after this. */
  readonly idleTimeout: number;
  /** Idle connections kept per backend. */
  readonly poolSize: number;
  /** Socket options set on each new connection (`tcp_*`), when the upstream sets any. */
  readonly socket?: BackendSocketOptions;
}

/**
 * `options` with the connect limit of `req` when it sets one (a new object only then).
 *
 * @example Usage
 * ```ts
 * import { withRequestTimeouts } from "./types.ts";
 * const o = { tls: false, verifyCert: true, idleTimeout: 1, poolSize: 1, connectionTimeout: 5 };
 * if (withRequestTimeouts(o, { timeouts: { connectionTimeout: 9 } }).connectionTimeout !== 9) throw new Error();
 * ```
 */
export function withRequestTimeouts(
  options: ConnectOptions,
  req: { readonly timeouts?: RequestTimeouts | undefined },
): ConnectOptions {
  const t = req.timeouts;
  if (t === undefined) return options;
  return {
    ...options,
    ...(t.connectionTimeout !== undefined ? { connectionTimeout: t.connectionTimeout } : {}),
    ...(t.readTimeout !== undefined ? { readTimeout: t.readTimeout } : {}),
    ...(t.writeTimeout !== undefined ? { writeTimeout: t.writeTimeout } : {}),
  };
}

/** Why an exchange failed; decides the status (502 / 504) and whether a retry is allowed. */
export type UpstreamErrorKind =
  /** Could not connect (refused, unreachable, DNS): safe to retry elsewhere. */
  | "connect"
  /** Connect or read/write time limit reached. */
  | "timeout"
  /** Reset or closed mid-exchange, or an unparsable answer. */
  | "protocol"
  /** The client went away. */
  | "aborted"
  /**
   * The request cannot be forwarded as it is (a client error, see {@linkcode ClientRequestError}): nothing was
   * sent, and it says nothing about the backend.
   */
  | "request";

/** A failed exchange. */
export class UpstreamError extends Error {
  /** Creates the error. */
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly requestSent: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "UpstreamError";
  }
}

/**
 * A request the client will not send: its head cannot be written as HTTP/1.1 (a method or target with control
 * characters, a `content-length` that is not one number) or asks for something a proxy must refuse (`connection`
 * naming `host`, an `x-forwarded-*` field, a pseudo-header or a non-token). Thrown before any byte goes out; the
 * client gets `status` (400), and the backend is not blamed (no circuit breaker or stats failure).
 */
export class ClientRequestError extends UpstreamError {
  /** Creates the error. */
  constructor(message: string, readonly status = 400, options?: ErrorOptions) {
    super("request", message, false, options);
    this.name = "ClientRequestError";
  }
}

/** An upstream's answer: the response, with what the exchange tells of the connection. */
export interface UpstreamAnswer extends HttpResponse {
  /** The connection came from the pool. */
  readonly reused: boolean;
  /** Time to connect (0 when reused), ms: TCP and, for TLS, the handshake. */
  readonly connectTime: number;
  /** The TLS handshake's part of {@linkcode connectTime}, ms (0 without TLS or when reused; absent: not timed apart). */
  readonly tlsTime?: number;
  /** How long the connection had been open when the response head came, ms (absent or 0: not timed). */
  readonly connectionTime?: number;
  /** Time from request start to response head, ms. */
  readonly responseTime: number;
}

/** A connection pool plus protocol client for one upstream. */
export interface UpstreamClient {
  /** Sends one request to `backend`. Rejects with {@linkcode UpstreamError}. */
  request(backend: Backend, req: HttpRequest): Promise<UpstreamAnswer>;
  /** Closes idle connections of backends no longer present. */
  prune(keep: ReadonlySet<string>): void;
  /** Closes every connection. */
  close(): void;
  /**
   * Retires the client gently (a reload replaced its upstream, or a stop): it takes no new request and closes its
   * idle connections at once, while each exchange in flight keeps its connection (its lease) until its response
   * ends, and the connection is then closed. Resolves once none is left, or after `graceMs`, when what is left is
   * closed as by `close()`. A client without it is closed at once.
   */
  drain?(graceMs: number): Promise<void>;
  /** Live connections, idle and in use (`pingap_upstream_connections`); absent when the client does not count them. */
  readonly connections?: number;
}
