/**
 * The HTTP engines behind one address, chosen by the listener's config alone (plain or TLS, `enabled_h2`), never by
 * an upstream's: our HTTP/1.1 front end (runtime/listen/h1) and, with `enabled_h2`, our HTTP/2 engine
 * (runtime/listen/h2/engine.ts, which sends trailers) that takes h2c connections from the HTTP/1.1
 * engine and ALPN `h2` connections from the TLS listener, in process; or `Deno.serve` alone (`PINGAP_HTTP1=deno-serve`,
 * for comparisons). Each hands its requests to the listener's {@linkcode Respond}.
 *
 * @module
 */
import type { ServerPlan } from "../../compiler/mod.ts";
import { createH2Engine, type H2Engine } from "../listen/h2/engine.ts";
import type { H2Settings } from "../listen/h2/settings.ts";
import { errorName } from "../listen/h2/frames.ts";
import type { H2cUpgrade } from "../listen/h2/upgrade.ts";
import { log } from "../observe/log/app_log.ts";
import type { TLSSocket } from "node:tls";
import { listenH1 } from "../listen/h1/mod.ts";
import type { ByteStream } from "../listen/byte_stream.ts";
import type { Remote, Respond } from "./respond.ts";
import type { HttpResponse } from "../http/message.ts";
import { FetchRequest, toFetchResponse } from "../http/fetch_adapter.ts";
import { responseWith } from "../http/response_build.ts";

/** An engine that listens. */
export interface Engine {
  readonly addr: Deno.NetAddr;
  shutdown(): Promise<void>;
  /** Serves a connection accepted elsewhere (a decrypted `node:tls` socket), in process; our HTTP/1.1 engine only. */
  readonly serve?: (stream: ByteStream) => void;
  /** Serves a decrypted `node:tls` connection whose ALPN chose `h2`, in process (`enabled_h2` only). */
  readonly serveH2?: (socket: TLSSocket, client: Remote) => void;
  /** Serves a decrypted `Deno.TlsConn` whose ALPN chose `h2`, in process (`enabled_h2` only). */
  readonly serveH2Stream?: (conn: ByteStream, client: Remote) => void;
}

/** Where and how an engine listens. */
export interface EngineOptions {
  readonly hostname: string;
  readonly port: number;
  readonly reusePort: boolean;
  /** `"h1"`: our front end; `"deno-serve"`: `Deno.serve` alone. */
  readonly kind: "h1" | "deno-serve";
  /**
   * Kind `h1` behind a TLS listener: no socket of its own, every connection comes decrypted in process
   * ({@linkcode Engine.serve}, {@linkcode Engine.serveH2}, {@linkcode Engine.serveH2Stream}).
   */
  readonly inProcessOnly?: boolean;
  /** The address clients reached (for a request without a host); the engine's own when absent. */
  readonly local?: () => Deno.NetAddr;
  /** `enabled_h2`: HTTP/2 (h2c with prior knowledge, ALPN `h2` behind TLS) served by the HTTP/2 engine (kind `h1`). */
  readonly h2: boolean;
  /** The server's settings (read timeouts). */
  readonly plan: ServerPlan | undefined;
  readonly onError: (e: unknown) => HttpResponse;
  /**
   * The client behind a peer (behind the TLS listener in `deno-serve` mode: found by its loopback port); undefined: not
   * one of ours.
   */
  readonly client: (peer: Deno.NetAddr) => Remote | undefined;
  /** Must a connection from `ip` start with a PROXY protocol header (h1 only)? */
  readonly proxyFrom?: (ip: string) => boolean;
  /** `h1_pipelining` of the plan in force (h1 only; see `H1ListenOptions.pipelining`). */
  readonly pipelining?: () => boolean;
}

/** The answer to a loopback connection that no TLS client is behind. */
function misdirected(): HttpResponse {
  return responseWith(null, { status: 421 });
}

/** The answer as it is, for a front end that takes messages. */
function asMessage(res: HttpResponse): HttpResponse {
  return res;
}

/** The largest `h2_max_*` value the HTTP/2 engine takes. */
const H2_LIMIT = 2 ** 31 - 1;

/** The server's `h2_*` keys as the HTTP/2 engine's settings (unset windows keep the engine's defaults). */
function h2Settings(plan: ServerPlan): Partial<H2Settings> {
  return {
    // Pingap accepts up to 2^32 - 1; past 2^31 - 1 both mean "no limit" here (and HPACK sizes are 31-bit).
    maxConcurrentStreams: Math.min(plan.h2MaxConcurrentStreams, H2_LIMIT),
    maxHeaderListSize: Math.min(plan.h2MaxHeaderListSize, H2_LIMIT),
    ...(plan.h2InitialWindowSize !== undefined ? { initialWindowSize: plan.h2InitialWindowSize } : {}),
    ...(plan.h2InitialConnectionWindowSize !== undefined
      ? { connectionWindowSize: plan.h2InitialConnectionWindowSize }
      : {}),
  };
}

/** Starts the engine of an address. */
export async function startEngine(o: EngineOptions, respond: Respond): Promise<Engine> {
  const { hostname, port, reusePort, onError, client, plan } = o;
  if (o.kind === "h1") {
    // HTTP/1.1, plain or behind the TLS listener: the own front end, with its screen of heads and its read timeouts;
    // h2c and ALPN h2 go to the HTTP/2 engine (enabled_h2). Every connection is served in process.
    let h2: H2Engine | undefined;
    /** The engine's own address, once it listens. */
    const own: { addr?: Deno.NetAddr } = {};
    if (o.h2) {
      h2 = createH2Engine(
        {
          ...(plan?.downstreamReadTimeout !== undefined ? { idleTimeout: plan.downstreamReadTimeout } : {}),
          ...(plan?.downstreamWriteTimeout !== undefined ? { writeTimeout: plan.downstreamWriteTimeout } : {}),
          ...(plan?.h2IdleTimeout !== undefined ? { h2IdleTimeout: plan.h2IdleTimeout } : {}),
          ...(plan ? { settings: h2Settings(plan) } : {}),
          onError,
          authority: () => {
            const a = o.local?.() ?? own.addr!;
            return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
          },
          log: (c, code, message) =>
            log.info("h2 connection error", { code: errorName(code), reason: message, remote_addr: c.hostname }),
        },
        (req, remote) => respond(req, remote, () => req.completed, true, asMessage),
      );
    }
    const h2Engine = h2;
    const listener = await listenH1(
      {
        hostname,
        port,
        reusePort,
        ...(o.inProcessOnly ? { accept: false } : {}),
        ...(plan?.downstreamReadTimeout !== undefined ? { idleTimeout: plan.downstreamReadTimeout } : {}),
        ...(plan?.downstreamWriteTimeout !== undefined ? { writeTimeout: plan.downstreamWriteTimeout } : {}),
        ...(o.proxyFrom ? { proxyFrom: o.proxyFrom } : {}),
        ...(h2Engine
          ? {
            h2: (conn: ByteStream, initial: Uint8Array, remote: Deno.NetAddr) => {
              const known = client(remote);
              return known ? h2Engine.serveStream(conn, initial, known) : Promise.resolve(conn.close());
            },
            // `Upgrade: h2c` (cleartext only: the HTTP/1.1 engine does not offer it over TLS).
            h2Upgrade: (conn: ByteStream, initial: Uint8Array, remote: Deno.NetAddr, up: H2cUpgrade) => {
              const known = client(remote);
              return known
                ? h2Engine.serveUpgraded(conn, initial, known, up.head, up.settings)
                : Promise.resolve(conn.close());
            },
          }
          : {}),
        ...(o.pipelining ? { pipelining: o.pipelining } : {}),
      },
      (req, peer) => {
        const remote = client(peer);
        return remote ? respond(req, remote, () => req.completed, true, asMessage) : Promise.resolve(misdirected());
      },
    );
    own.addr = listener.addr;
    return {
      addr: listener.addr,
      shutdown: async () => void await Promise.all([listener.shutdown(), h2Engine?.shutdown()]),
      serve: listener.serve,
      ...(h2Engine
        ? {
          serveH2: (socket: TLSSocket, remote: Remote) => h2Engine.serveSocket(socket, remote),
          serveH2Stream: (conn: ByteStream, remote: Remote) =>
            void h2Engine.serveStream(conn, new Uint8Array(0), remote),
        }
        : {}),
    };
  }
  // `PINGAP_HTTP1=deno-serve`: `Deno.serve` alone, a fetch `Request` per request (for comparisons).
  const handler = (req: Request, info: Deno.ServeHandlerInfo) => {
    const remote = client(info.remoteAddr as Deno.NetAddr);
    return remote
      ? respond(new FetchRequest(req), remote, () => info.completed, false, toFetchResponse)
      : toFetchResponse(misdirected());
  };
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname,
    port,
    reusePort,
    onListen: (a) => ready.resolve(a as Deno.NetAddr),
    onError: (e: unknown) => toFetchResponse(onError(e)),
  }, handler);
  return { addr: await ready.promise, shutdown: () => server.shutdown() };
}
