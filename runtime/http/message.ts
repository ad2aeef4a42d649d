/**
 * The one message model: the request and response every part of the proxy speaks. Front ends (runtime/listen, the
 * `Deno.serve` adapter) hand the pipeline an {@linkcode IncomingRequest}; the pipeline hands an upstream client an
 * {@linkcode HttpRequest}; an upstream client, a plugin or the pipeline answers with an {@linkcode HttpResponse}, which
 * a front end writes (the HTTP/1.1 one as bytes, others through their adapter). Fields stay raw (ordered, as they
 * came) until something asks for `Headers`; a body is bytes ({@linkcode HttpResponse.whole}), a stream, or the
 * upstream's stream passed through, with its buffer lease ({@linkcode HttpResponse.recycle}) part of the type;
 * trailers are a field. Conversions to and from `Request`/`Response` live only in the adapters (fetch_adapter.ts).
 *
 * @module
 */
/** Per-request time limits in ms (see {@linkcode HttpRequest.timeouts}). */
export interface RequestTimeouts {
  readonly connectionTimeout?: number;
  readonly readTimeout?: number;
  readonly writeTimeout?: number;
}

/**
 * A request: what a front end hands in (as an {@linkcode IncomingRequest}) and what an upstream client sends. For a
 * client, headers are final except for hop-by-hop fields (`connection` and those it names, `keep-alive`,
 * `proxy-connection`, `transfer-encoding`, `te`, `trailer`, `upgrade`): the client leaves them out, so that the
 * client's own `Headers` can be passed without a copy.
 */
export interface HttpRequest {
  readonly method: string;
  /** Path and query as sent on the request line. */
  readonly target: string;
  readonly headers: Headers;
  /**
   * The fields as `[name, value, …]` (lower-case names, hop-by-hop ones included) as the client sent them, while they
   * are what goes (no `Headers` made to be changed): an HTTP/1.1 client writes these and does not read `headers`
   * (which may then be made on demand).
   */
  readonly fields?: readonly string[] | undefined;
  /**
   * The whole request head as bytes (request line to the blank line), when the client's head goes as it came: a
   * bodiless request whose method, target and fields are unchanged and hold no hop-by-hop field. An HTTP/1.1 client
   * sends it instead of building one.
   */
  readonly raw?: Uint8Array | undefined;
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
  readonly watch?: AbortWatch | undefined;
  /**
   * The body's buffer lease: says that `chunk`, read from `body`, was copied and dropped, so its bytes may be reused.
   * Only the body's sole reader that keeps nothing of the chunk may call it (the HTTP/1.1 client, copying a small body
   * behind the head).
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

/**
 * A response, whoever made it: an upstream client (its head possibly kept as bytes, its body passed through), a plugin
 * or the pipeline (`responseWith`), a fixed answer made once (`StaticAnswer`). A front end writes any of them the same
 * way; none is told apart by its class.
 */
export interface HttpResponse {
  readonly status: number;
  /** The reason phrase; "" for the usual one of {@linkcode status}. */
  readonly statusText: string;
  /**
   * The fields as `Headers`, hop-by-hop ones removed; made on first use by a response that keeps them raw. Change them
   * only when {@linkcode editable} (else `editable()` of response_build.ts gives a response that may be changed).
   */
  readonly headers: Headers;
  /**
   * The same fields as `[name, value, name, value, …]` in order, while they are what goes out (no `Headers` made to be
   * changed): a front end copies them without a `Headers` in between.
   */
  readonly fields?: readonly string[] | undefined;
  /**
   * The head as the upstream sent it, when an HTTP/1.1 front end can copy it to its client byte for byte (an
   * HTTP/1.1 upstream's answer written in the usual form); `fields` and `headers` are then made only if read.
   */
  readonly rawHead?: RawResponseHead | undefined;
  /** The body as a stream, or null for none. A response with {@linkcode whole} makes it on first use. */
  readonly body: ReadableStream<Uint8Array> | null;
  /**
   * The whole body, when it is known at once (a small upstream answer that came with its head, a plugin's text): a
   * front end writes it with a content-length and without the stream machinery; text goes out as UTF-8. Undefined
   * once {@linkcode body} was made (it may have been read).
   */
  readonly whole?: Uint8Array<ArrayBuffer> | string | undefined;
  /**
   * Whether {@linkcode headers} may be changed in place, the change going out: true for a response made for this
   * request; false for a fixed answer that serves every request, or an upstream's head kept as bytes.
   */
  readonly editable: boolean;
  /** Trailers, when the protocol carries them (chunked HTTP/1.1, HTTP/2); a front end that can sends them. */
  readonly trailers?: Promise<Headers> | undefined;
  /**
   * The body's buffer lease: says that `chunk`, read from `body`, was written and dropped, so its bytes may be reused.
   * Only a consumer that reads `body` itself, one chunk at a time, may call it (the HTTP/1.1 front end for an answer it
   * writes as it came). Absent when the body's chunks are not lent.
   */
  recycle?(chunk: Uint8Array): void;
  /**
   * A fetch `Response` that `Deno.serve` must get as it is (a WebSocket upgrade's 101): the `Deno.serve` adapter hands
   * it on; no other front end serves such a request.
   */
  readonly fetch?: Response | undefined;
  /**
   * After a `101 Switching Protocols` from an HTTP/1.1 upstream: its connection in both directions, which the HTTP/1.1
   * front end splices to the client's byte for byte (any Upgrade protocol).
   */
  readonly upgrade?: {
    readonly readable: ReadableStream<Uint8Array>;
    readonly writable: WritableStream<Uint8Array>;
  } | undefined;
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

/**
 * The request a front end hands the pipeline: the HTTP/1.1 front end's `WireRequest` (fields as they came, `Headers`
 * made only if read), or a `Deno.serve` request through its adapter (`FetchRequest`). What the pipeline
 * and the plugins read of a request, with no need to know which one it is; an {@linkcode HttpRequest} an upstream
 * client could send as it is.
 */
export interface IncomingRequest extends HttpRequest {
  /** The absolute URL, as `Deno.serve` gives it. */
  readonly url: string;
  /**
   * The Host field, when the front end parsed the request line itself ({@linkcode target} and this say where it
   * goes); undefined when the URL's authority says it (`Deno.serve`: an absolute-form target's or `:authority`).
   */
  readonly host: string | undefined;
  readonly fields: readonly string[] | undefined;
  readonly raw: Uint8Array | undefined;
  /** Tells when the client went away (an `AbortSignal`, or the front end's cheaper watch). */
  readonly watch: AbortWatch;
  /** An `AbortSignal` that aborts when the client goes away (made on first use by a front end with a cheaper watch). */
  readonly signal: AbortSignal;
  /** The fetch `Request` behind this one, when there is one (the `Deno.serve` adapter): a WebSocket upgrade needs it. */
  readonly fetch: Request | undefined;
  /**
   * The HTTP/1.1 front end asks for an upgrade spliced as bytes (`Connection: upgrade` with `Upgrade`, not h2c): the
   * request goes upstream with both fields, and a 101 answer carries {@linkcode HttpResponse.upgrade}.
   */
  readonly upgrade?: boolean;
  /**
   * `HTTP/1.0` or `HTTP/1.1` as the request line said (the HTTP/1.1 front end), `HTTP/2.0` from an HTTP/2 front end
   * that says so; absent: `HTTP/1.1` is assumed.
   */
  readonly version?: string | undefined;
  /** Facts of the client connection the request came on (the HTTP/1.1 front end), as plain fields. */
  readonly connection?: ConnectionFacts | undefined;
  /** A field's value by lower-case name, or null (read from the raw fields when there are some: no `Headers` made). */
  header(name: string): string | null;
  /** See {@linkcode HttpRequest.recycleBody}; a no-op for a body without a lease. */
  recycleBody(chunk: Uint8Array): void;
  /** Requests answered on {@linkcode connection} before this one (0: its first), when the front end knows it. */
  readonly served?: number | undefined;
  /** Bytes of the body read from the client so far, when the front end counts them (the HTTP/1.1 front end). */
  readonly bodyRead?: number;
}

/** TLS facts of a connection, read once after its handshake. */
export interface TlsFacts {
  /** `TLSv1.3`, `TLSv1.2`. */
  readonly version: string;
  /** The cipher suite's name. */
  readonly cipher: string;
  /** The name the client sent by SNI, "" for none. */
  readonly servername: string;
  /** Time from the TCP accept to the end of the handshake, ms. */
  readonly handshakeMs: number;
  /**
   * The client certificate (`tls_client_ca`), when the client showed one (it verified: one that does not never gets
   * this far): its subject in the certificate's order (`O=Example, CN=device-42`), SHA-256 and serial number in lower
   * case hex, and `true`.
   */
  readonly clientSubject?: string;
  readonly clientFingerprint?: string;
  readonly clientSerial?: string;
  readonly clientVerified?: boolean;
  /** The JA4 fingerprint of the ClientHello, on a server with `ja4 = true` (none when the hello could not be read). */
  readonly ja4?: Ja4Facts;
}

/** JA4 forms of a ClientHello (runtime/tls/ja4.ts): `ja4` made at the handshake, the others when read. */
export interface Ja4Facts {
  /** `JA4`: `t13d1516h2_8daaf6152771_e5627efa2ab1`. */
  readonly ja4: string;
  /** `JA4_r`: the sorted lists unhashed. */
  readonly raw: string;
  /** `JA4_o`: hashed over the lists as sent. */
  readonly original: string;
  /** `JA4_ro`: the lists as sent, unhashed. */
  readonly rawOriginal: string;
}

/**
 * What the front end knows of one client connection, one object per connection (no cost per request), for the
 * access log and context keys (`{:connection_id}`, `{:connection_reused}`, `{:tls_version}`, …).
 */
export interface ConnectionFacts {
  /** A number per connection, unique in the process, from 1. */
  readonly id: number;
  /** When it was accepted (`Date.now()`). */
  readonly since: number;
  /** Its TLS facts, when it came over TLS. */
  readonly tls: TlsFacts | undefined;
}
