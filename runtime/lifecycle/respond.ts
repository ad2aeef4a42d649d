/**
 * One request against the serving generation: the listener reads the one reference once, counts the request, lets
 * the server's observer see it, runs the pipeline, and marks the answer `Connection: close` while its listener retires
 * or the proxy stops.
 *
 * @module
 */
import type { ActivePlan, ActiveServer } from "./active.ts";
import { RequestContext } from "../proxy/context.ts";
import { errorResponse, ProxyError } from "../proxy/errors.ts";
import { handle } from "../proxy/pipeline.ts";
import type { HttpResponse, IncomingRequest, TlsFacts } from "../http/message.ts";
import { closeAfter } from "./drain.ts";

/** What every listener reads per request: the serving plan (swapped as one reference) and whether the proxy stops. */
export interface Serving {
  active: ActivePlan;
  /** The proxy is stopping: every answer carries `Connection: close`. */
  draining: boolean;
}

/** A listener's side of a request: its address, its own activity, and whether it retires. */
export interface Endpoint {
  readonly server: string;
  /** The address the engine serves on (set once it listens). */
  local: Deno.NetAddr;
  /** Behind the TLS listener. */
  https: boolean;
  /** Being retired (see `Listener.retire`): answers carry `Connection: close`. */
  retiring: boolean;
  /** Requests in flight and accepted on this listener. */
  readonly activity: { processing: number; accepted: number };
}

/** The peer a request came from. */
export interface Remote {
  readonly hostname: string;
  readonly port: number;
  /** Behind the TLS listener: what its handshake settled. */
  readonly tls?: TlsFacts;
}

/**
 * Answers one request of a client at `remote`; `completed()` settles once the response went out. With `pass` (the
 * HTTP/1.1 front end), an upstream's answer that nothing changes comes back as the client gave it. `out` makes the
 * front end's form of the answer (a fetch `Response` for `Deno.serve`), with no promise more.
 */
export type Respond = <R>(
  req: IncomingRequest,
  remote: Remote,
  completed: () => Promise<void>,
  pass: boolean,
  out: (res: HttpResponse) => R,
) => Promise<R>;

/** The request entry of one listener. */
export function responder(serving: Serving, ep: Endpoint): Respond {
  const serverName = ep.server;
  const activity = ep.activity;
  return async (req, remote, completed, pass, out) => {
    const current = serving.active;
    const s = current.servers.get(serverName);
    const observer = s?.observer;
    const local = ep.local;
    const ctx = new RequestContext(
      req,
      remote.hostname,
      remote.port,
      local.hostname,
      local.port,
      ep.https ? "https" : "http",
      observer !== undefined,
    );
    ctx.trustedProxies = current.plan.basic.trusted_proxies;
    // Behind the TLS relay (`PINGAP_HTTP1=deno-serve`) the listener knows the client (`remote.tls`); in process the
    // connection does.
    ctx.tls = remote.tls ?? req.connection?.tls;
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
    if (res.status >= 500 && s !== undefined) countError(s, ctx);
    if (observer) res = observer.finish(ctx, res, processing, completed());
    const closing = serving.draining || ep.retiring;
    return out(closing ? closeAfter(res) : res);
  };
}

/** A 5xx answered on a location (the admin's error rates); a scan, on errors only. */
function countError(server: ActiveServer, ctx: RequestContext): void {
  const plan = ctx.location;
  if (plan === undefined) return;
  for (const l of server.locations) {
    if (l.plan === plan) {
      l.errors++;
      return;
    }
  }
}

/** The answer to an internal error the engine caught (outside the pipeline). */
export function internalError(serving: Serving, serverName: string): (e: unknown) => HttpResponse {
  return (e) => {
    console.error(`server "${serverName}": unhandled error`, e);
    return errorResponse(new ProxyError(500, "internal", "Internal error"), serving.active.plan.basic.error_template);
  };
}
