/**
 * What the proxy asks of an upstream connection: one HTTP exchange with one
 * backend, body streamed both ways.
 *
 * @module
 */

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
}

/** Per-request time limits in ms (see {@linkcode UpstreamRequest.timeouts}). */
export interface RequestTimeouts {
  readonly connectionTimeout?: number;
  readonly readTimeout?: number;
  readonly writeTimeout?: number;
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

/**
 * A request to send upstream. Headers are final except for hop-by-hop fields (`connection` and those it names,
 * `keep-alive`, `proxy-connection`, `transfer-encoding`, `te`, `trailer`, `upgrade`): the client leaves them out,
 * so that the client's own `Headers` can be passed without a copy.
 */
export interface UpstreamRequest {
  readonly method: string;
  /** Path and query as sent on the request line. */
  readonly target: string;
  readonly headers: Headers;
  /**
   * The client's own fields as `[name, value, …]` (lower-case names, hop-by-hop ones included), when they go
   * unchanged: an HTTP/1.1 client writes these and does not read `headers` (which may then be made on demand).
   */
  readonly fields?: readonly string[] | undefined;
  /**
   * The whole request head as bytes (request line to the blank line), when the client's head goes as it came: a
   * bodiless request whose method, target and fields are unchanged and hold no hop-by-hop field. An HTTP/1.1 client
   * sends it instead of building one.
   */
  readonly head?: Uint8Array | undefined;
  /**
   * Time limits of this request instead of the client's (a location's `connection_timeout`, `read_timeout`,
   * `write_timeout`); undefined, or a missing one, keeps the client's.
   */
  readonly timeouts?: RequestTimeouts | undefined;
  /** Request body, or null. Streamed; an HTTP/1.1 client reads one of up to 64 KiB with a content-length whole. */
  readonly body: ReadableStream<Uint8Array> | null;
  /** False when the caller reads no `responseTime` (it is then 0 and the clock is not read for it). */
  readonly timed?: boolean;
  /** Aborts the exchange (client went away). An `AbortSignal`, or the front end's lighter {@linkcode AbortWatch}. */
  readonly signal?: AbortWatch;
  /**
   * Says that `chunk`, read from `body`, was copied and dropped, so its bytes may be reused. Only a client that reads
   * `body` itself and keeps nothing of the chunk may call it (the HTTP/1.1 client, copying a small body behind the head).
   */
  recycleBody?(chunk: Uint8Array): void;
}

/**
 * What the upstream clients use of an abort signal: `AbortSignal` is one; so is the HTTP/1.1 front end's per-request
 * watch, which costs a fraction of an `AbortController` (an `EventTarget`) on every request.
 */
export interface AbortWatch {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** The upstream's answer. `body` streams the payload (de-chunked, bytes untouched otherwise). */
export interface UpstreamResponse {
  readonly status: number;
  readonly statusText: string;
  /** Response headers, hop-by-hop headers removed. */
  readonly headers: Headers;
  /**
   * The same fields as `[name, value, name, value, …]` in arrival order, when the client has them raw (HTTP/1.1):
   * the proxy appends them to its Response without a `Headers` in between, and `headers` is built only if read.
   */
  readonly fields?: readonly string[];
  /**
   * The head as the upstream sent it, when an HTTP/1.1 front end can copy it to its client byte for byte (an
   * HTTP/1.1 upstream's answer written in the usual form); `fields` and `headers` are then made only if read.
   */
  readonly rawHead?: RawResponseHead | undefined;
  readonly body: ReadableStream<Uint8Array> | null;
  /**
   * The whole body, when it arrived with the head (small responses): a `Response` takes it as bytes, which Deno
   * sends without the stream machinery. `body` then streams the same bytes, made on first use.
   */
  readonly whole?: Uint8Array<ArrayBuffer>;
  /** The connection came from the pool. */
  readonly reused: boolean;
  /** Time to connect (0 when reused), ms. */
  readonly connectTime: number;
  /** Time from request start to response head, ms. */
  readonly responseTime: number;
  /** Trailers, when the protocol carries them (chunked HTTP/1.1, HTTP/2). */
  readonly trailers?: Promise<Headers>;
  /**
   * Says that `chunk`, read from `body`, was written and dropped, so its bytes may be reused. Only a consumer that
   * reads `body` itself, one chunk at a time, may call it (the HTTP/1.1 front end for an answer it writes as it came).
   */
  recycle?(chunk: Uint8Array): void;
}

/**
 * An upstream's response head as bytes, for a front end that forwards it unchanged: the client gets `HTTP/1.1`, the
 * `ranges` copied as they are, then its own `date` (when none is there), `connection` and framing fields.
 */
export interface RawResponseHead {
  /** A buffer holding a copy of the head (shared with other heads: only `ranges` of it are this head's). */
  readonly bytes: Uint8Array;
  /**
   * `[start, end, start, end, …]` in `bytes`: the status line after its version (` 200 OK` and CRLF), then the field
   * lines to forward as they are, CRLF included (not hop-by-hop, not `content-length`), adjacent lines as one range.
   */
  readonly ranges: readonly number[];
  /** 8 (for `HTTP/1.1`) plus the length of every range: the bytes these make on the wire. */
  readonly size: number;
  /** Whether a `date` field is among the forwarded lines. */
  readonly dated: boolean;
  /** The upstream's `content-length`, or -1 (none, or `transfer-encoding` beside it). */
  readonly contentLength: number;
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

/** A connection pool plus protocol client for one upstream. */
export interface UpstreamClient {
  /** Sends one request to `backend`. Rejects with {@linkcode UpstreamError}. */
  request(backend: Backend, req: UpstreamRequest): Promise<UpstreamResponse>;
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
}
