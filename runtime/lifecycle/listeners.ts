/**
 * Listeners: one per server address, keyed by what would need a new socket (address, h2c, TLS settings), so a
 * generation keeps the previous one's listener for an unchanged key and opens only the new ones. A TLS address is a
 * `Deno.listenTls` listener (runtime/tls/deno_listener.ts) or, for what only it can do, a `node:tls` one
 * (runtime/tls/engine_choice.ts says which); either hands each decrypted connection to the engines in process.
 *
 * @module
 */
import { ipInList, type Plan, type ServerPlan } from "../../compiler/mod.ts";
import type { ActivePlan } from "./active.ts";
import {
  type CertStore,
  type DenoTlsListener,
  listenDenoTls,
  listenTls,
  type ServerTls,
  serverTls,
  type TlsClient,
  type TlsEngineName,
  type TlsListener,
} from "../tls/mod.ts";
import type { TLSSocket } from "node:tls";
import { NodeSocketStream } from "../listen/byte_stream.ts";
import { waitQuiet } from "./drain.ts";
import { log } from "../observe/log/app_log.ts";
import { applyListenerTcpOptions } from "../listen/tcp_options.ts";
import { startEngine } from "./engines.ts";
import { type Endpoint, internalError, responder, type Serving } from "./respond.ts";

/** A listener that is up. */
export interface Listening {
  readonly server: string;
  readonly hostname: string;
  readonly port: number;
  /** Terminates TLS (`global_certificates`). */
  readonly tls?: boolean;
  /** With `tls`: the engine that terminates it (runtime/tls/engine_choice.ts). */
  readonly tlsEngine?: TlsEngineName;
}

/** One open address. */
export interface Listener {
  readonly key: string;
  readonly server: string;
  readonly addr: Deno.NetAddr;
  readonly tls: boolean;
  /** With `tls`: the engine that terminates it. */
  readonly tlsEngine?: TlsEngineName;
  shutdown(): Promise<void>;
  /**
   * Stops it politely (a reload removed or changed its address): a TLS listener stops accepting at once; every answer
   * then carries `Connection: close`, so a keep-alive client reconnects (to the listener that replaced this one)
   * instead of having an idle connection closed under the request it is sending; once no request came for 300 ms (at
   * most `maxMs`), the rest stops as by `shutdown`.
   */
  retire(maxMs: number): Promise<void>;
}

/** A listener a plan wants. */
export interface WantedListener {
  /** What names it across reloads ({@linkcode listenerKey}). */
  readonly key: string;
  readonly server: string;
  readonly hostname: string;
  readonly port: number;
  readonly h2: boolean;
  readonly tls?: ServerTls;
}

/** How listeners are opened: shared by every generation of one proxy. */
export interface ListenerOptions {
  /** Share ports between workers (SO_REUSEPORT). */
  readonly reusePort: boolean;
  /** Our HTTP/1.1 front end (true) or `Deno.serve` alone for plain HTTP/1.1. */
  readonly wire: boolean;
  /** The certificates every TLS handshake asks. */
  readonly certificates: CertStore;
}

/**
 * Must a connection from `ip` to `serverName` start with a PROXY protocol header? With `proxy_protocol` and a peer in
 * `basic.trusted_proxies`, of the plan in force when it connects. A peer outside the list is served without one.
 */
function proxyFrom(active: ActivePlan, serverName: string, ip: string): boolean {
  if (active.servers.get(serverName)?.plan.proxyProtocol !== true) return false;
  const trusted = active.plan.basic.trusted_proxies;
  return trusted !== undefined && ipInList(trusted, ip);
}

/**
 * What names a listener across reloads: a change of any part opens a new one. With `enabled_h2` the `h2_*` settings
 * are part of it (the HTTP/2 engine sends them in each connection's SETTINGS, fixed when it opens).
 */
function listenerKey(sp: ServerPlan, hostname: string, port: number, tls?: ServerTls): string {
  const h2 = sp.enabledH2
    ? `h2:${sp.h2MaxConcurrentStreams}/${sp.h2MaxHeaderListSize}/${sp.h2InitialWindowSize ?? ""}/${
      sp.h2InitialConnectionWindowSize ?? ""
    }/${sp.h2IdleTimeout ?? ""}`
    : "h1";
  return `${sp.name}|${hostname}|${port}|${h2}${tls ? `|${tls.key}` : ""}`;
}

/** Listeners a plan wants, by key. */
export function wantedListeners(p: Plan): Map<string, WantedListener> {
  const out = new Map<string, WantedListener>();
  for (const sp of p.servers) {
    // The listener's config alone picks its engines: `enabled_h2` adds the HTTP/2 engine (never an upstream's alpn).
    const h2 = sp.enabledH2;
    const tls = serverTls(sp);
    for (const a of sp.addrs) {
      const key = listenerKey(sp, a.hostname, a.port, tls);
      out.set(key, {
        key,
        server: sp.name,
        hostname: a.hostname,
        port: a.port,
        h2,
        ...(tls ? { tls } : {}),
      });
    }
  }
  return out;
}

/**
 * Opens the listener `w` for the plan `opening`; its requests go to whatever plan `serving` holds when they arrive.
 * The server's settings that shape the socket (read timeouts, PROXY protocol) are those of `opening`.
 */
export async function openListener(
  w: WantedListener,
  opening: ActivePlan,
  serving: Serving,
  options: ListenerOptions,
): Promise<Listener> {
  const serverName = w.server;
  const tls = w.tls;
  const server = opening.servers.get(serverName)?.plan;
  let front: TlsListener | undefined;
  let fast: DenoTlsListener | undefined;
  const ep: Endpoint = {
    server: serverName,
    local: undefined as unknown as Deno.NetAddr,
    https: false,
    retiring: false,
    activity: { processing: 0, accepted: 0 },
  };
  // With TLS, the TLS listener takes the public address and hands each decrypted connection to our engines in
  // process: HTTP/1.1 to the HTTP/1.1 engine, h2 by ALPN to the HTTP/2 engine; they have no socket of their own (one
  // listening socket per address). Only `PINGAP_HTTP1=deno-serve` relays TLS over loopback, to a `Deno.serve` bound
  // there (for comparisons).
  // A PROXY protocol header is read only by our front end (so `proxy_protocol` keeps it even when PINGAP_HTTP1 asks
  // for Deno.serve), and `enabled_h2` needs it for the HTTP/2 engine (which sends trailers; Deno.serve cannot).
  const kind = w.h2 || options.wire || server?.proxyProtocol === true ? "h1" : "deno-serve";
  const relayed = tls !== undefined && kind === "deno-serve";
  const [hostname, port] = tls ? ["127.0.0.1", 0] : [w.hostname, w.port];
  const engine = await startEngine({
    hostname,
    port,
    reusePort: !tls && options.reusePort,
    kind,
    ...(tls && !relayed ? { inProcessOnly: true, local: () => ep.local } : {}),
    h2: w.h2,
    plan: server,
    onError: internalError(serving, serverName),
    // Behind the TLS relay (deno-serve), the client is found by the loopback port it connected from.
    client: relayed ? (peer) => front?.client(peer.port) : (peer) => peer,
    // Behind a TLS address the TLS listener reads the PROXY header, before the handshake.
    ...(tls ? {} : { proxyFrom: (ip: string) => proxyFrom(serving.active, serverName, ip) }),
    // `h1_pipelining` of the plan in force when a request comes with another behind it.
    pipelining: () => serving.active.servers.get(serverName)?.plan.h1Pipelining === true,
  }, responder(serving, ep));
  ep.local = engine.addr;
  let shutdown = () => engine.shutdown();
  const onHandshake = (ms: number) => serving.active.servers.get(serverName)?.metrics?.metrics.observeTlsHandshake(ms);
  if (tls?.engine === "deno-tls" && engine.serve) {
    // `Deno.listenTls` with the store's SNI choice; each decrypted connection goes to the engines as it is.
    const serve = engine.serve, serveH2 = engine.serveH2Stream;
    try {
      fast = listenDenoTls({
        hostname: w.hostname,
        port: w.port,
        h2: tls.h2,
        store: options.certificates,
        onHandshake,
        onReopen: (addr) => applyListenerTcpOptions(serverName, addr, server?.tcp),
        serve,
        ...(serveH2 ? { serveH2: (conn, client) => serveH2(conn, client) } : {}),
      });
    } catch (e) {
      await engine.shutdown();
      throw e;
    }
    const f = fast;
    ep.local = f.addr;
    ep.https = true;
    shutdown = async () => (f.close(), await engine.shutdown(), f.destroy());
  } else if (tls) {
    try {
      front = await listenTls({
        hostname: w.hostname,
        port: w.port,
        ...tls,
        reusePort: options.reusePort,
        store: options.certificates,
        ...(relayed ? { target: engine.addr } : {}),
        onHandshake,
        ...(tls.proxyProtocol ? { proxyFrom: (ip: string) => proxyFrom(serving.active, serverName, ip) } : {}),
        ...(engine.serve
          ? {
            inProcess: (socket: TLSSocket, client: TlsClient) =>
              engine.serve!(new NodeSocketStream(socket, client, client.tls)),
          }
          : {}),
        ...(engine.serveH2
          ? {
            inProcessH2: (socket: TLSSocket, client: TlsClient) =>
              engine.serveH2!(socket, { hostname: client.hostname, port: client.port, tls: client.tls }),
          }
          : {}),
      });
    } catch (e) {
      await engine.shutdown();
      throw e;
    }
    const f = front;
    ep.local = f.addr;
    ep.https = true;
    shutdown = async () => (f.close(), await engine.shutdown(), f.destroy());
  }
  applyListenerTcpOptions(serverName, ep.local, server?.tcp);
  const tlsFront = front ?? fast;
  return {
    key: w.key,
    server: serverName,
    addr: ep.local,
    tls: tlsFront !== undefined,
    ...(fast ? { tlsEngine: "deno-tls" as const } : front ? { tlsEngine: "node-tls" as const } : {}),
    shutdown,
    async retire(maxMs: number) {
      // The TLS listener can stop accepting while its connections go on; the others accept until they stop (a
      // client that connects meanwhile is answered with `Connection: close` too).
      tlsFront?.close();
      ep.retiring = true;
      await waitQuiet(() => ep.activity, { quietMs: 300, maxMs });
      // The reload waits at most `maxMs` more: a long response (a download, a gRPC stream) finishes on its own.
      const done = shutdown().catch((e) => log.error("retiring a listener failed", { error: String(e) }));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise<void>((r) => timer = setTimeout(r, maxMs))]);
      clearTimeout(timer);
    },
  };
}
