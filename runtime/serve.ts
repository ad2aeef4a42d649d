/**
 * Serving: one `Deno.serve` listener per server address, each reading the
 * current {@linkcode ActivePlan} through one reference, so a new plan is
 * swapped in atomically and the old one disposed after in-flight requests
 * finish.
 *
 * @module
 */
import type { Plan } from "../compiler/plan.ts";
import { activate, type ActivateOptions } from "./activate.ts";
import type { ActivePlan } from "./active.ts";
import { RequestContext } from "./context.ts";
import { errorResponse, ProxyError } from "./errors.ts";
import { handle } from "./pipeline.ts";
import { formatAccessLog } from "./access_log.ts";
import { trackResponse } from "./metrics/mod.ts";
import { listenH2c } from "./h2_listener.ts";

/** A listener that is up. */
export interface Listening {
  readonly server: string;
  readonly hostname: string;
  readonly port: number;
}

/** A running proxy. */
export interface RunningProxy {
  readonly listening: readonly Listening[];
  /** The active plan (for tests and stats). */
  readonly active: ActivePlan;
  /**
   * Activates `plan` fully, swaps it in (requests read the reference once),
   * then disposes the old one when its in-flight requests are done. Listener
   * changes (addresses added or removed) are not applied here.
   */
  swap(plan: Plan): Promise<void>;
  /** Stops accepting, lets in-flight requests finish, disposes. */
  shutdown(): Promise<void>;
}

/** Options of {@linkcode serve}. */
export interface ServeOptions extends ActivateOptions {
  /** Where access-log lines go (default: stdout). */
  readonly log?: (line: string) => void;
  /** Share ports between workers (SO_REUSEPORT). */
  readonly reusePort?: boolean;
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

/** Starts every server of the plan. */
export async function serve(plan: Plan, options: ServeOptions): Promise<RunningProxy> {
  let active = activate(plan, options);
  const listening: Listening[] = [];
  const servers: { shutdown(): Promise<void> }[] = [];
  const log = options.log ?? ((line: string) => console.log(line));
  try {
    for (const sp of plan.servers) {
      for (const addr of sp.addrs) {
        let local!: Deno.NetAddr;
        const onError = (e: unknown) => {
          console.error(`server "${sp.name}": unhandled error`, e);
          return errorResponse(new ProxyError(500, "internal", "Internal error"), active.plan.basic.error_template);
        };
        const handler = async (req: Request, info: Deno.ServeHandlerInfo) => {
          const current = active;
          const s = current.servers.get(sp.name);
          const remote = info.remoteAddr as Deno.NetAddr;
          const ctx = new RequestContext(req, remote.hostname, remote.port, local.hostname, local.port, "http");
          current.counters.processing++;
          current.counters.accepted++;
          let res: Response;
          try {
            res = s ? await handle(current, s, ctx) : errorResponse(
              new ProxyError(404, "no_server", "Server not configured"),
              current.plan.basic.error_template,
            );
          } catch (e) {
            console.error(`server "${sp.name}": request failed`, e);
            res = errorResponse(new ProxyError(500, "internal", "Internal error"), current.plan.basic.error_template);
          } finally {
            current.counters.processing--;
          }
          ctx.status = res.status;
          const accessLog = s?.plan.accessLog;
          if (accessLog) log(formatAccessLog(accessLog.parts, ctx, res));
          const sm = s?.metrics;
          if (sm && ctx.location) res = trackResponse(sm.metrics, ctx, res);
          return res;
        };
        if (needsTrailers(plan, sp)) {
          // HTTP/1.1 + h2c (prior knowledge) on one port, with response trailers (gRPC); Deno.serve sends none.
          const listener = await listenH2c({
            hostname: addr.hostname,
            port: addr.port,
            reusePort: options.reusePort ?? false,
            onError,
          }, handler);
          servers.push(listener);
          local = listener.addr;
        } else {
          const ready = Promise.withResolvers<Deno.NetAddr>();
          servers.push(Deno.serve({
            hostname: addr.hostname,
            port: addr.port,
            reusePort: options.reusePort ?? false,
            onListen: (a) => ready.resolve(a as Deno.NetAddr),
            onError,
          }, handler));
          local = await ready.promise;
        }
        listening.push({ server: sp.name, hostname: local.hostname, port: local.port });
      }
    }
  } catch (e) {
    await Promise.allSettled(servers.map((s) => s.shutdown()));
    await active.dispose();
    throw e;
  }
  return {
    listening,
    get active() {
      return active;
    },
    async swap(next: Plan) {
      const fresh = activate(next, options);
      const old = active;
      active = fresh;
      for (let waited = 0; old.counters.processing > 0 && waited < 30_000; waited += 50) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await old.dispose();
    },
    async shutdown() {
      await Promise.allSettled(servers.map((s) => s.shutdown()));
      await active.dispose();
    },
  };
}
