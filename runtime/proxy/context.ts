/**
 * The per-request context: what the pipeline, the plugins, the header
 * templates and the access log read and write. Built once per request from
 * the request (the message a front end hands in, see runtime/http/message.ts) and the client's address, without
 * `new URL()`.
 *
 * @module
 */
import type { HeaderPolicy, IpNet, LocationPlan, RouteRequest } from "../../compiler/mod.ts";
import { type ClientRequestError } from "../upstream/types.ts";
import { nominationRefusal } from "../upstream/nominations.ts";
import { upstreamHeadersOf } from "./upstream_headers.ts";
import type { RequestTrace } from "../observe/otel/request_trace.ts";

import type { CompressionStat } from "../plugins/content_coding.ts";
import type { AbortWatch, HttpResponse, IncomingRequest, TlsFacts } from "../http/message.ts";
import { resolveClientIp } from "./client_ip.ts";
import { normalizePath } from "./path_normalize.ts";
import { cookieValue, queryParam, splitJoinedCookies } from "./request_values.ts";

/** Split `req.url` (always absolute in Deno.serve) into path and raw query, without URL parsing. */
export function splitTarget(url: string): { path: string; query: string } {
  return splitFrom(url, url.indexOf("/", url.indexOf("//") + 2));
}

/** Path and raw query of the target that starts at `start` in `url` (-1: none, the path is "/"). */
function splitFrom(url: string, start: number): { path: string; query: string } {
  if (start < 0) return { path: "/", query: "" };
  const q = url.indexOf("?", start);
  if (q < 0) {
    const hash = url.indexOf("#", start);
    return { path: hash < 0 ? url.slice(start) : url.slice(start, hash), query: "" };
  }
  return { path: url.slice(start, q), query: url.slice(q + 1) };
}

/** Host without port (IPv6 brackets kept off), from a Host header value. */
export function stripPort(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end < 0 ? host : host.slice(1, end);
  }
  const colon = host.lastIndexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}

/** Timings of one request, ms (undefined = did not happen). */
export interface Timings {
  /** TCP connect and TLS handshake to the upstream (0 on a pooled connection). */
  upstreamConnect?: number;
  /** The TLS handshake's part of {@linkcode upstreamConnect} (undefined: the client did not time it apart). */
  upstreamTls?: number | undefined;
  /** How long the upstream connection had been open when the response head came (undefined or 0: not timed). */
  upstreamConnection?: number | undefined;
  upstreamProcessing?: number;
  upstreamResponse?: number;
  /** Request-phase time per plugin name; recorded only when set (`enable_server_timing`). */
  plugins?: Record<string, number>;
  /** The cache plugin's lookup (`{:cache_lookup_time}`, `pingap_cache_lookup_time`). */
  cacheLookup?: number;
  /** The cache plugin's wait on another request's fetch (`{:cache_lock_time}`, `pingap_cache_lock_time`). */
  cacheLock?: number;
}

/** Per-request state. */
export class RequestContext implements RouteRequest {
  /**
   * Current path: the target's, normalised ({@linkcode normalizePath}: dot segments, `//`, printable escapes), which
   * routing, plugins and rewrite read; rewrite changes it.
   */
  path: string;
  /** The normalised path as routed, before anything changed {@linkcode path}. */
  readonly #routed: string;
  /** The target's path as the client sent it: what the upstream gets while {@linkcode path} is unchanged (as nginx's
   * `proxy_pass` without a URI part sends the original URI). */
  readonly #sent: string;
  /** Raw query without `?` ("" when none). */
  rawQuery: string;
  /** Request host without port. */
  readonly host: string;
  readonly method: string;
  /** When the request started: `performance.now()` when {@linkcode timed}, else `Date.now()`. */
  readonly #start: number;
  /**
   * Something reads this request's timings to the sub-millisecond (access log, metrics, tracing, server timing); else
   * the start is a `Date.now()` (a `performance.now()` costs ~0.35 µs here) and {@linkcode elapsed} has 1 ms steps.
   */
  readonly timed: boolean;
  location?: LocationPlan;
  /**
   * The request-header options of the upstream the request goes to, when one is off: those of the location's own
   * upstream once routed, of the upstream chosen once it is (they shape {@linkcode upstreamHeaders} when it is made).
   */
  headerPolicy: HeaderPolicy | undefined;
  /** Named captures from path/host/rewrite regexes. */
  captures?: Record<string, string>;
  /**
   * The upstream a plugin chose instead of the location's (`traffic_splitting`): a name, or `$name` for a capture or
   * environment variable holding one.
   */
  upstreamName?: string;
  requestId?: string;
  upstreamAddr?: string;
  /** `name=id` of a `sticky:<cookie>` upstream's cookie, when the client is given one (runtime/upstream/sticky.ts). */
  stickyCookie: string | undefined;
  upstreamReused?: boolean;
  /** Live connections of the upstream when its answer came (`{:upstream_connected}`). */
  upstreamConnected?: number | undefined;
  upstreamStatus?: number;
  status?: number;
  /** Response body bytes sent, when known. */
  size?: number;
  /** What the compression plugin's encoder did with the response body (bytes in and out, time). */
  compression: CompressionStat | undefined;
  /** The client connection's TLS facts, behind the TLS listener (the `{:tls_*}` access-log keys). */
  tls: TlsFacts | undefined;
  /** What the cache plugin did (`hit`, `miss`, `expired`, `revalidated`), for `pingap_cache_responses`; unset without one. */
  cacheStatus?: string;
  /** The file cache the request looked in: its reads and writes in progress (`pingap_cache_reading`/`_writing`). */
  cacheFiles?: { readonly reading: number; readonly writing: number };
  /** Spans of this request, only on servers with `otlp_exporter`. */
  trace?: RequestTrace;
  /**
   * The listener writes an upstream's answer as it came when nothing changes it (the HTTP/1.1 front end, on a
   * server without tracing or server timing): the pipeline then returns it without making a `Response`.
   */
  passThrough = false;
  /**
   * Set by a request hook that must see the upstream's whole answer and may replace it (the `jwt` plugin signs the
   * body at its `auth_path`, `image_optim` converts an image, as Pingap's `add_modify_body_handler`). It runs before
   * the upstream-response hooks, so that they (a `cache` storing the answer) see what goes out. The answer is then
   * never passed through as it came.
   */
  answerFilter?: (res: HttpResponse) => Promise<HttpResponse>;
  /**
   * Set by a request hook that must see the request body on its way upstream (`hmac_auth`'s `validate_body`, as
   * Pingap's `add_request_body_handler`): the body goes through it. It may end the stream with a `ProxyError`.
   */
  bodyFilter?: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
  readonly timings: Timings = {};
  #cookie: string | null | undefined;
  #clientIp: string | undefined;
  #onFinish: (() => void)[] | undefined;
  /** `basic.trusted_proxies` of the plan serving this request: whose forwarded headers name the client. */
  trustedProxies: readonly IpNet[] | undefined;
  /** The plugin that answered the request, if one did (for `pingap_plugin_refusals_total`). */
  answeredBy: string | undefined;
  #upstreamHeaders: Headers | undefined;
  /** The client's `Connection` when {@linkcode upstreamHeaders} was made (it is left out of the copy). */
  #copiedConnection: string | null | undefined;
  /** Request headers a plugin replaced (null: removed), see {@linkcode replaceRequestHeader}. */
  #replaced: Map<string, string | null> | undefined;

  /** The request came on a client connection that served one before (the HTTP/1.1 front end knows; else undefined). */
  get connectionReused(): boolean | undefined {
    const served = this.req.served;
    return served === undefined ? undefined : served > 0;
  }

  /** Builds the context; `timed` (default true) as in {@linkcode RequestContext.timed}. */
  constructor(
    readonly req: IncomingRequest,
    readonly remoteAddr: string,
    readonly remotePort: number,
    readonly serverAddr: string,
    readonly serverPort: number,
    readonly scheme: "http" | "https",
    timed = true,
  ) {
    this.timed = timed;
    this.#start = timed ? performance.now() : Date.now();
    this.method = req.method;
    const host = req.host;
    if (host !== undefined) {
      // The front end's target is origin-form and its host the Host field: nothing to take apart again.
      const t = splitFrom(req.target, 0);
      this.#sent = t.path;
      this.path = this.#routed = normalizePath(t.path);
      this.rawQuery = t.query;
      this.host = stripPort(host);
      return;
    }
    const t = splitTarget(req.url);
    this.#sent = t.path;
    this.path = this.#routed = normalizePath(t.path);
    this.rawQuery = t.query;
    // Deno builds an origin-form request's URL from the Host header, so the URL's authority differs from Host only
    // for an absolute-form target (or HTTP/2's :authority), whose authority wins (RFC 9112 §3.2.2; Pingap too).
    const h = req.headers.get("host");
    if (h === null || h === "" || urlHasAuthority(req.url, h)) this.host = stripPort(h ?? hostOfUrl(req.url));
    else {
      // The target's authority is also the upstream's Host (a proxy makes Host from the target, RFC 9112 §3.2.2).
      const authority = hostOfUrl(req.url);
      this.host = stripPort(authority);
      this.setUpstreamHeader("host", authority);
    }
  }

  /** The normalised path as routed: what {@linkcode path} was before a rewrite or a plugin changed it. */
  get routedPath(): string {
    return this.#routed;
  }

  /** A request header by lower-case name (from the raw fields of a front end request: no `Headers` made). */
  header(name: string): string | null {
    if (this.#replaced !== undefined) {
      const value = this.#replaced.get(name);
      if (value !== undefined) return value;
    }
    return this.req.header(name);
  }

  /** A raw query parameter (not decoded). */
  query(name: string): string | undefined {
    return queryParam(this.rawQuery, name);
  }

  /** A cookie. */
  cookie(name: string): string | undefined {
    if (this.#cookie === undefined) this.#cookie = this.cookieHeader();
    return cookieValue(this.#cookie, name);
  }

  /**
   * The request's cookies as one `Cookie` value: several Cookie fields (HTTP/2 clients send one per cookie) joined by
   * `"; "`, as RFC 9113 §8.2.3 says, not by the `", "` of other fields; null when there is none.
   */
  cookieHeader(): string | null {
    if (this.#replaced !== undefined) {
      const value = this.#replaced.get("cookie");
      if (value !== undefined) return value;
    }
    const fields = this.req.fields;
    if (fields === undefined) return splitJoinedCookies(this.req.header("cookie"));
    let out: string | null = null;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === "cookie") out = out === null ? fields[i + 1]! : `${out}; ${fields[i + 1]!}`;
    }
    return out;
  }

  /**
   * Headers for the upstream request: the client's, minus hop-by-hop ones.
   * Created on first use, so requests answered by a plugin never copy them.
   */
  get upstreamHeaders(): Headers {
    if (this.#upstreamHeaders === undefined) {
      const source = this.req.headers;
      const connection = source.get("connection");
      this.#copiedConnection = connection;
      this.#upstreamHeaders = upstreamHeadersOf(source, connection, this.headerPolicy);
    }
    return this.#upstreamHeaders;
  }

  /**
   * Why the client's `Connection` nominations are refused (a 400) under the upstream's `policy`, for a request sent
   * from {@linkcode upstreamHeaders} (the copy has no `Connection` left for the upstream client to judge); undefined
   * when they are not, or no copy was made.
   */
  nominationRefusal(policy: HeaderPolicy | undefined): ClientRequestError | undefined {
    const c = this.#copiedConnection;
    if (c === undefined || c === null || c === "keep-alive" || c === "close") return undefined;
    if (policy !== undefined && !policy.stripNominated) return undefined;
    return nominationRefusal(c, policy?.rejectMalformed ?? true);
  }

  /**
   * The headers to send upstream: the copy of {@linkcode upstreamHeaders} once something changed it, else the
   * client's own (the upstream client leaves hop-by-hop fields out itself). Not to be changed.
   */
  get outgoingHeaders(): Headers {
    return this.#upstreamHeaders ?? this.req.headers;
  }

  /**
   * The client's fields to send upstream as they are, when nothing read or changed them as `Headers` (requests of
   * the HTTP/1.1 front end); else undefined, and {@linkcode outgoingHeaders} applies.
   */
  get outgoingFields(): readonly string[] | undefined {
    const req = this.req;
    return this.#upstreamHeaders === undefined ? req.fields : undefined;
  }

  /**
   * The client's request head as bytes, to send upstream as it is: a front end request whose method, path and query
   * are unchanged and whose head holds no hop-by-hop field. (Its fields must go unchanged too: see
   * {@linkcode outgoingFields}.)
   */
  get outgoingHead(): Uint8Array | undefined {
    const req = this.req;
    const raw = req.raw;
    return raw !== undefined && this.#unchangedTarget(req.target) ? raw : undefined;
  }

  #unchangedTarget(target: string): boolean {
    const q = this.rawQuery;
    const path = this.#outgoingPath;
    if (q === "") return target === path;
    return target.length === path.length + 1 + q.length && target.startsWith(path) &&
      target.charCodeAt(path.length) === 63 && target.endsWith(q);
  }

  /** The path the upstream gets: the client's own while routing's normalised one is unchanged. */
  get #outgoingPath(): string {
    return this.path === this.#routed ? this.#sent : this.path;
  }

  /** Tells when the client went away: the request's signal, or the front end's cheaper watch of it. */
  get clientWatch(): AbortWatch {
    return this.req.watch;
  }

  /** May this request be bridged as a WebSocket? (Only behind `Deno.serve`; our HTTP/1.1 engine splices upgrades as bytes.) */
  get mayUpgrade(): boolean {
    return this.req.fetch !== undefined && this.req.headers.has("upgrade");
  }

  /**
   * Replaces a request header (lower-case `name`; `null` removes it) as the rest of the request sees it: later
   * plugins through {@linkcode header}, and the upstream (`accept_encoding` rewrites `Accept-Encoding` so).
   */
  replaceRequestHeader(name: string, value: string | null): void {
    (this.#replaced ??= new Map()).set(name, value);
    if (value === null) this.upstreamHeaders.delete(name);
    else this.upstreamHeaders.set(name, value);
  }

  /** Sets a header on the upstream request. */
  setUpstreamHeader(name: string, value: string): void {
    this.upstreamHeaders.set(name, value);
  }

  /**
   * Path plus query, as sent upstream: the client's path as it came unless something (a rewrite, a plugin) changed the
   * normalised {@linkcode path}, then that.
   */
  get uri(): string {
    const path = this.#outgoingPath;
    return this.rawQuery === "" ? path : `${path}?${this.rawQuery}`;
  }

  /** Milliseconds since the request started. */
  elapsed(): number {
    return this.timed ? performance.now() - this.#start : Date.now() - this.#start;
  }

  /**
   * The client IP: the peer, or what `X-Forwarded-For` / `X-Real-IP` say when the peer is one of
   * {@linkcode trustedProxies} (see runtime/proxy/client_ip.ts). Worked out on first use and kept.
   */
  clientIp(): string {
    return this.#clientIp ??= resolveClientIp(this.remoteAddr, this.trustedProxies, (n) => this.header(n));
  }

  /**
   * Runs `fn` once when the request is over: its response body sent, failed or cancelled, or at once for a response
   * without body (what a plugin holds per request, e.g. an in-flight count, is given back there).
   */
  onFinish(fn: () => void): void {
    (this.#onFinish ??= []).push(fn);
  }

  /** Does something wait for the request's end ({@linkcode onFinish})? */
  get awaitsFinish(): boolean {
    return this.#onFinish !== undefined;
  }

  /** The request is over: runs what {@linkcode onFinish} was given, once. */
  finish(): void {
    const fns = this.#onFinish;
    if (fns === undefined) return;
    this.#onFinish = undefined;
    for (const fn of fns) fn();
  }
}

/** Is `authority` exactly the authority of the absolute URL `url`? */
function urlHasAuthority(url: string, authority: string): boolean {
  const start = url.indexOf("//") + 2;
  if (!url.startsWith(authority, start)) return false;
  const next = url.charCodeAt(start + authority.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

/** The authority of an absolute URL without user info. */
function hostOfUrl(url: string): string {
  let start = url.indexOf("//") + 2;
  let end = url.indexOf("/", start);
  if (end < 0) end = url.length;
  const at = url.lastIndexOf("@", end);
  if (at >= start) start = at + 1;
  return url.slice(start, end);
}
