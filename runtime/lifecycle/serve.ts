/**
 * Serving: one listener per server address, each reading the
 * current {@linkcode ActivePlan} through one reference, so a new plan is
 * swapped in atomically and the old one disposed after in-flight requests
 * finish.
 *
 * @module
 */
import { ipInList, type Plan } from "../../compiler/mod.ts";
import { activate, type ActivateOptions } from "./activate.ts";
import type { ActivePlan } from "./active.ts";
import { RequestContext } from "../proxy/context.ts";
import { errorResponse, ProxyError } from "../proxy/errors.ts";
import { handle } from "../proxy/pipeline.ts";
import { listenH2c } from "../listen/h2_listener.ts";
import { listenH1 } from "../listen/h1/mod.ts";
import type { IncomingRequest } from "../http/message.ts";
import { FetchRequest, toFetchResponse } from "../http/fetch_adapter.ts";
import type { HttpResponse } from "../http/message.ts";
import { responseWith } from "../http/response_build.ts";
import { certStore, listenTls, type ServerTls, serverTls, type TlsListener } from "../tls/mod.ts";
import { closeAfter, waitQuiet } from "./drain.ts";
import { prepareTracing } from "../observe/otel/load.ts";

/** A listener that is up. */
export interface Listening {
  readonly server: string;
  readonly hostname: string;
  readonly port: number;
  /** Terminates TLS (`global_certificates`). */
  readonly tls?: boolean;
}

/** A running proxy. */
export interface RunningProxy {
  readonly listening: readonly Listening[];
  /** The active plan (for tests and stats). */
  readonly active: ActivePlan;
  /**
   * Activates `plan` fully (including listeners for new addresses), swaps
   * it in (requests read the reference once), stops listeners of removed
   * addresses and disposes the old plan once its in-flight requests are
   * done. On failure nothing changes and the error is thrown.
   */
  swap(plan: Plan): Promise<void>;
  /** Stops accepting, lets in-flight requests finish, disposes. */
  shutdown(): Promise<void>;
}

/** Options of {@linkcode serve}. */
export interface ServeOptions extends ActivateOptions {
  /** Share ports between workers (SO_REUSEPORT). */
  readonly reusePort?: boolean;
  /**
   * What serves plain HTTP/1.1: `"own"` (default) the front end of runtime/listen/h1, `"deno-serve"` `Deno.serve` alone.
   * The environment variable `PINGAP_HTTP1` sets it when this does not (for comparisons).
   */
  readonly http1?: "own" | "deno-serve";
}

/**
 * Does this server need the node:http2 listener? Only an `enabled_h2`
 * server that can route to an HTTP/2 upstream (gRPC needs trailers, which
 * `Deno.serve` cannot send). Other `enabled_h2` servers stay on
 * `Deno.serve`, which speaks h2c with prior knowledge itself and is about
 * 3x faster for HTTP/1.1.
 */
export function needsTrailers(plan: Plan, sp: Plan["servers"][number]): boolean {
  if (!sp.config.enabled_h2) return false;
  const h2 = (u: Plan["upstreams"][number]) => u.config.alpn === "h2" || (u.config.alpn === "h2h1" && u.tls);
  for (const i of sp.locations) {
    const ref = plan.locations[i]!.upstream;
    if (ref.kind === "upstream" && h2(plan.upstreams[ref.index]!)) return true;
    if (ref.kind === "variable" && plan.upstreams.some(h2)) return true;
  }
  return false;
}

/**
 * Must a connection from `ip` to `serverName` start with a PROXY protocol header? With `proxy_protocol` and a peer in
 * `basic.trusted_proxies`, of the plan in force when it connects. A peer outside the list is served without one.
 */
function proxyFrom(active: ActivePlan, serverName: string, ip: string): boolean {
  if (active.servers.get(serverName)?.plan.config.proxy_protocol !== true) return false;
  const trusted = active.plan.basic.trusted_proxies;
  return trusted !== undefined && ipInList(trusted, ip);
}

interface Listener {
  readonly key: string;
  readonly server: string;
  readonly addr: Deno.NetAddr;
  readonly tls: boolean;
  shutdown(): Promise<void>;
  /**
   * Stops it politely (a reload removed or changed its address): a TLS listener stops accepting at once; every answer
   * then carries `Connection: close`, so a keep-alive client reconnects (to the listener that replaced this one)
   * instead of having an idle connection closed under the request it is sending; once no request came for 300 ms (at
   * most `maxMs`), the rest stops as by `shutdown`.
   */
  retire(maxMs: number): Promise<void>;
}

function listenerKey(server: string, hostname: string, port: number, h2: boolean, tls?: ServerTls): string {
  return `${server}|${hostname}|${port}|${h2 ? "h2" : "h1"}${tls ? `|${tls.key}` : ""}`;
}

/** The answer as it is, for a front end that takes messages. */
function asMessage(res: HttpResponse): HttpResponse {
  return res;
}

/** The answer to a loopback connection that no TLS client is behind. */
function misdirected(): HttpResponse {
  return responseWith(null, { status: 421 });
}

/** Waits for `p`, at most `ms`; true when it settled in time. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([p.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts every server of the plan. A swap applies everything in place:
 * listeners for new addresses start before the new plan takes over,
 * listeners of removed addresses stop (draining) after it did.
 */
export async function serve(plan: Plan, options: ServeOptions): Promise<RunningProxy> {
  await prepareTracing(plan);
  const wire = (options.http1 ?? Deno.env.get("PINGAP_HTTP1")) !== "deno-serve";
  let active = activate(plan, options);
  const listeners = new Map<string, Listener>();
  let draining = false;

  const open = async (serverName: string, hostname: string, port: number, h2: boolean, tls?: ServerTls) => {
    let local!: Deno.NetAddr;
    let front: TlsListener | undefined;
    // This listener's own activity, and whether it is being retired (see Listener.retire).
    const activity = { processing: 0, accepted: 0 };
    let retiring = false;
    const where = { hostname, port };
    const onError = (e: unknown) => {
      console.error(`server "${serverName}": unhandled error`, e);
      return errorResponse(new ProxyError(500, "internal", "Internal error"), active.plan.basic.error_template);
    };
    /**
     * Answers one request of a client at `remote`; `completed()` settles once the response went out. With `pass`
     * (the HTTP/1.1 front end), an upstream's answer that nothing changes comes back as the client gave it.
     */
    const respond = async <R>(
      req: IncomingRequest,
      remote: { readonly hostname: string; readonly port: number },
      completed: () => Promise<void>,
      pass: boolean,
      out: (res: HttpResponse) => R,
    ): Promise<R> => {
      const current = active;
      const s = current.servers.get(serverName);
      const observer = s?.observer;
      const ctx = new RequestContext(
        req,
        remote.hostname,
        remote.port,
        local.hostname,
        local.port,
        front ? "https" : "http",
        observer !== undefined,
      );
      ctx.trustedProxies = current.plan.basic.trusted_proxies;
      const processing = ++current.counters.processing;
      activity.processing++;
      activity.accepted++;
      observer?.begin(ctx);
      ctx.passThrough = pass && ctx.trace === undefined && (observer === undefined || observer.passes);
      current.counters.accepted++;
      let res: HttpResponse;
      try {
        // TRACE would reflect the request, cookies and credentials included (cross-site tracing): refused on every
        // path, as nginx does.
        res = req.method === "TRACE"
          ? errorResponse(
            new ProxyError(405, "method_not_allowed", "TRACE is not served"),
            current.plan.basic.error_template,
          )
          : s
          ? await handle(current, s, ctx)
          : errorResponse(new ProxyError(404, "no_server", "Server not configured"), current.plan.basic.error_template);
      } catch (e) {
        console.error(`server "${serverName}": request failed`, e);
        res = errorResponse(new ProxyError(500, "internal", "Internal error"), current.plan.basic.error_template);
      } finally {
        current.counters.processing--;
        activity.processing--;
      }
      ctx.status = res.status;
      if (observer) res = observer.finish(ctx, res, processing, completed());
      const closing = draining || retiring;
      // `out`: the front end's form of the answer (a fetch `Response` for `Deno.serve`), made here, with no promise more.
      return out(closing ? closeAfter(res) : res);
    };
    /** A fetch `Request` (of `Deno.serve`, or node:http2's), answered in the form `out` makes. */
    const respondHere = <R>(
      req: Request,
      remote: { readonly hostname: string; readonly port: number },
      completed: Promise<void>,
      out: (res: HttpResponse) => R,
    ) => respond(new FetchRequest(req), remote, () => completed, false, out);
    const peerOf = (info: Deno.ServeHandlerInfo) => {
      const peer = info.remoteAddr as Deno.NetAddr;
      // Behind the TLS listener, the client is found by the loopback port it connected from.
      return front ? front.client(peer.port) : peer;
    };
    const handler = (req: Request, info: Deno.ServeHandlerInfo) => {
      const remote = peerOf(info);
      return remote ? respondHere(req, remote, info.completed, toFetchResponse) : toFetchResponse(misdirected());
    };
    const onFetchError = (e: unknown) => toFetchResponse(onError(e));
    let shutdown: () => Promise<void>;
    // With TLS, the plain listener is bound on loopback and the TLS listener takes the public address.
    if (tls) [hostname, port] = ["127.0.0.1", 0];
    const reusePort = !tls && (options.reusePort ?? false);
    if (h2) {
      // HTTP/1.1 + h2c (prior knowledge) on one port, with response trailers (gRPC); Deno.serve sends none.
      const readTimeout = active.servers.get(serverName)?.plan.config.downstream_read_timeout;
      const listener = await listenH2c(
        { hostname, port, reusePort, onError, ...(readTimeout !== undefined ? { idleTimeout: readTimeout } : {}) },
        (req, info) => {
          const remote = peerOf(info);
          return remote ? respondHere(req, remote, info.completed, asMessage) : misdirected();
        },
      );
      local = listener.addr;
      shutdown = () => listener.shutdown();
    } else if (wire || active.servers.get(serverName)?.plan.config.proxy_protocol === true) {
      // HTTP/1.1, plain or behind the TLS listener: the own front end, with its screen of heads and its read timeouts;
      // what it does not serve itself (h2 by ALPN too) goes to a Deno.serve behind it. A PROXY protocol header is read
      // only here (so `proxy_protocol` keeps this front end even when PINGAP_HTTP1 asks for Deno.serve).
      const config = active.servers.get(serverName)?.plan.config;
      // Behind the TLS listener, the client is found by the loopback port it connected from.
      const client = (peer: Deno.NetAddr) => front ? front.client(peer.port) : peer;
      const listener = await listenH1(
        {
          hostname,
          port,
          reusePort,
          onError: onFetchError,
          ...(config?.downstream_read_timeout !== undefined ? { idleTimeout: config.downstream_read_timeout } : {}),
          ...(config?.downstream_write_timeout !== undefined ? { writeTimeout: config.downstream_write_timeout } : {}),
          // Behind the TLS listener every peer is the TLS relay on loopback: the TLS listener read the header.
          ...(tls ? {} : { proxyFrom: (ip: string) => proxyFrom(active, serverName, ip) }),
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
      local = listener.addr;
      shutdown = () => listener.shutdown();
    } else {
      const ready = Promise.withResolvers<Deno.NetAddr>();
      const server = Deno.serve({
        hostname,
        port,
        reusePort,
        onListen: (a) => ready.resolve(a as Deno.NetAddr),
        onError: onFetchError,
      }, handler);
      local = await ready.promise;
      shutdown = () => server.shutdown();
    }
    if (tls) {
      const [inner, target] = [shutdown, local];
      try {
        const onHandshake = (ms: number) => active.servers.get(serverName)?.metrics?.metrics.observeTlsHandshake(ms);
        front = await listenTls({
          ...where,
          ...tls,
          reusePort: options.reusePort ?? false,
          store: certStore,
          target,
          onHandshake,
          ...(tls.proxyProtocol ? { proxyFrom: (ip: string) => proxyFrom(active, serverName, ip) } : {}),
        });
      } catch (e) {
        await inner();
        throw e;
      }
      const f = front;
      local = f.addr;
      shutdown = async () => (f.close(), await inner(), f.destroy());
    }
    const tlsFront = front;
    const stop = shutdown;
    return {
      key: listenerKey(serverName, where.hostname, where.port, h2, tls),
      server: serverName,
      addr: local,
      tls: front !== undefined,
      shutdown,
      async retire(maxMs: number) {
        // The TLS listener can stop accepting while its connections go on; the others accept until they stop (a
        // client that connects meanwhile is answered with `Connection: close` too).
        tlsFront?.close();
        retiring = true;
        await waitQuiet(() => activity, { quietMs: 300, maxMs });
        await stop();
      },
    };
  };

  /** Listeners a plan wants, by key. */
  const wanted = (p: Plan) => {
    const out = new Map<string, { server: string; hostname: string; port: number; h2: boolean; tls?: ServerTls }>();
    for (const sp of p.servers) {
      const h2 = needsTrailers(p, sp);
      const tls = serverTls(sp);
      for (const a of sp.addrs) {
        out.set(listenerKey(sp.name, a.hostname, a.port, h2, tls), {
          server: sp.name,
          hostname: a.hostname,
          port: a.port,
          h2,
          ...(tls ? { tls } : {}),
        });
      }
    }
    return out;
  };

  try {
    for (const [key, w] of wanted(plan)) listeners.set(key, await open(w.server, w.hostname, w.port, w.h2, w.tls));
  } catch (e) {
    await Promise.allSettled([...listeners.values()].map((l) => l.shutdown()));
    await active.dispose();
    throw e;
  }
  const drain = async (old: ActivePlan) => {
    for (let waited = 0; old.counters.processing > 0 && waited < 30_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await old.dispose();
  };
  return {
    get listening() {
      return [...listeners.values()].map((l) => ({
        server: l.server,
        hostname: l.addr.hostname,
        port: l.addr.port,
        ...(l.tls ? { tls: true } : {}),
      }));
    },
    get active() {
      return active;
    },
    async swap(next: Plan) {
      await prepareTracing(next);
      const fresh = activate(next, options);
      const want = wanted(next);
      const removed = [...listeners.values()].filter((l) => !want.has(l.key));
      const started: Listener[] = [];
      try {
        for (const [key, w] of want) {
          if (listeners.has(key)) continue;
          let l: Listener;
          try {
            l = await open(w.server, w.hostname, w.port, w.h2, w.tls);
          } catch (e) {
            // The port may still be held by a listener this plan removes: free it first, then retry once.
            const blocking = removed.filter((r) => r.addr.port === w.port);
            if (!(e instanceof Deno.errors.AddrInUse) || blocking.length === 0) throw e;
            for (const r of blocking) {
              listeners.delete(r.key);
              await r.shutdown();
            }
            l = await open(w.server, w.hostname, w.port, w.h2, w.tls);
          }
          started.push(l);
        }
      } catch (e) {
        await Promise.allSettled(started.map((l) => l.shutdown()));
        await fresh.dispose();
        throw e;
      }
      for (const l of started) listeners.set(l.key, l);
      const old = active;
      active = fresh;
      for (const r of removed) listeners.delete(r.key);
      // Politely, so that a keep-alive client of a listener that moved (a changed `tls_min_version`, say) loses no
      // request; a short bound, since reloads wait for it.
      const politeMs = Math.min(next.basic.grace_period, 2_000);
      await Promise.allSettled(removed.map((r) => r.retire(politeMs)));
      await drain(old);
    },
    async shutdown() {
      const basic = active.plan.basic;
      // Keep-alive clients are told to reconnect (to whoever holds the port next) before anything is closed.
      draining = true;
      await waitQuiet(() => active.counters, { quietMs: 300, maxMs: Math.min(basic.grace_period, 10_000) });
      const all = Promise.allSettled([...listeners.values()].map((l) => l.shutdown()));
      if (!await within(all, basic.grace_period + basic.graceful_shutdown_timeout)) {
        console.error("shutdown: requests still in flight after the grace period; stopping anyway");
      }
      listeners.clear();
      await active.dispose();
    },
  };
}
