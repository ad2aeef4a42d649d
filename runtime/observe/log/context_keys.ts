/**
 * The 35 `{:key}` context values of the access log (inventory §4.2) and the 4 of the client certificate, each
 * compiled once into a function of the {@linkcode AccessRecord}, from facts
 * stored as plain fields while the request ran: the client connection (the
 * HTTP/1.1 front end's, else `connections.ts`), the TLS listener's handshake
 * (`ctx.tls`), the upstream exchange's timings (`ctx.timings`), the
 * compression plugin's encoder (`ctx.compression`). A value that did not
 * happen prints what Pingap prints then: nothing. The cache keys come from
 * the cache plugin (`ctx.timings`).
 *
 * @module
 */
import type { RequestContext } from "../../proxy/context.ts";
import { seeConnection } from "./connections.ts";
import { humanDuration } from "./human.ts";
import type { AccessRecord } from "./record.ts";

/** Renders one value of a record. */
export type Piece = (r: AccessRecord) => string;

const EMPTY: Piece = () => "";

function connection(r: AccessRecord) {
  const ctx = r.ctx;
  const req = ctx.req;
  const known = req.connection;
  // The HTTP/1.1 front end knows the connection; other front ends are recognised by their peer (see connections.ts).
  if (known !== undefined) return r.conn ??= { id: known.id, reused: (req.served ?? 0) > 0, since: known.since };
  return r.conn ??= seeConnection(ctx.remoteAddr, ctx.remotePort, ctx.serverPort, r.now - r.elapsed);
}

/** Upstream connect time: none on a pooled connection (nothing was connected). */
function connectMs(ctx: RequestContext): number | undefined {
  return ctx.upstreamReused ? undefined : ctx.timings.upstreamConnect;
}

/** Upstream TCP connect time: the connect time without its TLS handshake; none on a pooled connection. */
function tcpMs(ctx: RequestContext): number | undefined {
  const connect = connectMs(ctx);
  if (connect === undefined) return undefined;
  return connect - (ctx.timings.upstreamTls ?? 0);
}

/** Upstream TLS handshake time: none on a pooled or plain connection, or when the client did not time it apart. */
function tlsMs(ctx: RequestContext): number | undefined {
  const tls = ctx.timings.upstreamTls;
  return ctx.upstreamReused || tls === undefined || tls === 0 ? undefined : tls;
}

/** The upstream's time from request sent to response head. */
export function upstreamProcessingMs(ctx: RequestContext): number | undefined {
  const t = ctx.timings;
  if (t.upstreamProcessing !== undefined) return t.upstreamProcessing;
  if (t.upstreamResponse === undefined) return undefined;
  return Math.max(0, t.upstreamResponse - (ctx.upstreamReused ? 0 : t.upstreamConnect ?? 0));
}

/** Milliseconds by time key; undefined = no value. */
const TIMES: { readonly [key: string]: (r: AccessRecord) => number | undefined } = {
  upstream_connect_time: (r) => connectMs(r.ctx),
  upstream_processing_time: (r) => upstreamProcessingMs(r.ctx),
  upstream_response_time: (r) => r.ctx.timings.upstreamResponse,
  upstream_tcp_connect_time: (r) => tcpMs(r.ctx),
  upstream_tls_handshake_time: (r) => tlsMs(r.ctx),
  upstream_connection_time: (r) => r.ctx.timings.upstreamConnection || undefined,
  connection_time: (r) => r.now - connection(r).since,
  tls_handshake_time: (r) => r.ctx.tls?.handshakeMs,
  compression_time: (r) => r.ctx.compression?.ms,
  cache_lookup_time: (r) => r.ctx.timings.cacheLookup,
  cache_lock_time: (r) => r.ctx.timings.cacheLock,
  service_time: (r) => r.elapsed,
};

const OTHERS: { readonly [key: string]: Piece } = {
  connection_id: (r) => String(connection(r).id),
  connection_reused: (r) => String(connection(r).reused),
  upstream_reused: (r) => String(r.ctx.upstreamReused === true),
  upstream_status: (r) => r.ctx.upstreamStatus === undefined ? "-" : String(r.ctx.upstreamStatus),
  upstream_addr: (r) => r.ctx.upstreamAddr ?? "",
  processing: (r) => String(r.processing),
  upstream_connected: (r) => r.ctx.upstreamConnected === undefined ? "" : String(r.ctx.upstreamConnected),
  location: (r) => r.ctx.location?.name ?? "",
  tls_version: (r) => r.ctx.tls?.version ?? "",
  tls_cipher: (r) => r.ctx.tls?.cipher ?? "",
  tls_client_subject: (r) => r.ctx.tls?.clientSubject ?? "",
  tls_client_fingerprint: (r) => r.ctx.tls?.clientFingerprint ?? "",
  tls_client_serial: (r) => r.ctx.tls?.clientSerial ?? "",
  tls_client_verified: (r) => String(r.ctx.tls?.clientVerified === true),
  compression_ratio: (r) => {
    const c = r.ctx.compression;
    return c === undefined || c.out === 0 ? "" : (c.in / c.out).toFixed(1);
  },
};

/**
 * The renderer of context key `key` (the compiler accepts only the 39
 * known keys; anything else renders nothing, as in Pingap).
 *
 * @example Usage
 * ```ts
 * import { contextPiece } from "./context_keys.ts";
 * const piece = contextPiece("service_time_human");
 * // piece(record) === "1.2s" for a request that took 1234 ms
 * ```
 */
export function contextPiece(key: string): Piece {
  const other = OTHERS[key];
  if (other) return other;
  const human = key.endsWith("_human");
  const time = TIMES[human ? key.slice(0, -6) : key];
  if (!time) return EMPTY;
  return (r) => {
    const ms = time(r);
    if (ms === undefined) return "";
    return human ? humanDuration(ms) : String(Math.floor(ms));
  };
}
