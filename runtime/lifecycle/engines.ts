/**
 * The HTTP engine behind one address: the node:http2 listener (h2c with trailers), our HTTP/1.1 front end
 * (runtime/listen/h1), or `Deno.serve` alone. Each hands its requests to the listener's {@linkcode Respond}.
 *
 * @module
 */
import type { ServerPlan } from "../../compiler/mod.ts";
import { listenH2c } from "../listen/h2_listener.ts";
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
}

/** Where and how an engine listens. */
export interface EngineOptions {
  readonly hostname: string;
  readonly port: number;
  readonly reusePort: boolean;
  /** `"h2c"`: the node:http2 listener; `"h1"`: our front end; `"deno-serve"`: `Deno.serve` alone. */
  readonly kind: "h2c" | "h1" | "deno-serve";
  /** The server's settings (read timeouts). */
  readonly plan: ServerPlan | undefined;
  readonly onError: (e: unknown) => HttpResponse;
  /** The client behind a peer (behind the TLS listener: found by its loopback port); undefined: not one of ours. */
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

/** Starts the engine of an address. */
export async function startEngine(o: EngineOptions, respond: Respond): Promise<Engine> {
  const { hostname, port, reusePort, onError, client, plan } = o;
  /** A fetch `Request` (of `Deno.serve`, or node:http2's), answered in the form `out` makes. */
  const respondHere = <R>(req: Request, remote: Remote, completed: Promise<void>, out: (res: HttpResponse) => R) =>
    respond(new FetchRequest(req), remote, () => completed, false, out);
  const handler = (req: Request, info: Deno.ServeHandlerInfo) => {
    const remote = client(info.remoteAddr as Deno.NetAddr);
    return remote ? respondHere(req, remote, info.completed, toFetchResponse) : toFetchResponse(misdirected());
  };
  const onFetchError = (e: unknown) => toFetchResponse(onError(e));
  if (o.kind === "h2c") {
    // HTTP/1.1 + h2c (prior knowledge) on one port, with response trailers (gRPC); Deno.serve sends none.
    const readTimeout = plan?.downstreamReadTimeout;
    const listener = await listenH2c(
      { hostname, port, reusePort, onError, ...(readTimeout !== undefined ? { idleTimeout: readTimeout } : {}) },
      (req, info) => {
        const remote = client(info.remoteAddr as Deno.NetAddr);
        return remote ? respondHere(req, remote, info.completed, asMessage) : misdirected();
      },
    );
    return { addr: listener.addr, shutdown: () => listener.shutdown() };
  }
  if (o.kind === "h1") {
    // HTTP/1.1, plain or behind the TLS listener: the own front end, with its screen of heads and its read timeouts;
    // what it does not serve itself (h2 by ALPN too) goes to a Deno.serve behind it.
    const listener = await listenH1(
      {
        hostname,
        port,
        reusePort,
        onError: onFetchError,
        ...(plan?.downstreamReadTimeout !== undefined ? { idleTimeout: plan.downstreamReadTimeout } : {}),
        ...(plan?.downstreamWriteTimeout !== undefined ? { writeTimeout: plan.downstreamWriteTimeout } : {}),
        ...(o.proxyFrom ? { proxyFrom: o.proxyFrom } : {}),
        ...(o.pipelining ? { pipelining: o.pipelining } : {}),
      },
      (req, peer) => {
        const remote = client(peer);
        return remote ? respond(req, remote, () => req.completed, true, asMessage) : Promise.resolve(misdirected());
      },
      (req, peer, completed) => {
        const remote = client(peer);
        return remote ? respondHere(req, remote, completed, toFetchResponse) : toFetchResponse(misdirected());
      },
    );
    return { addr: listener.addr, shutdown: () => listener.shutdown(), serve: listener.serve };
  }
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname,
    port,
    reusePort,
    onListen: (a) => ready.resolve(a as Deno.NetAddr),
    onError: onFetchError,
  }, handler);
  return { addr: await ready.promise, shutdown: () => server.shutdown() };
}
