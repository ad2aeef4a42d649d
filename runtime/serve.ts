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

/** Starts every server of the plan. */
export async function serve(plan: Plan, options: ServeOptions): Promise<RunningProxy> {
  let active = activate(plan, options);
  const listening: Listening[] = [];
  const servers: Deno.HttpServer[] = [];
  const log = options.log ?? ((line: string) => console.log(line));
  try {
    for (const sp of plan.servers) {
      for (const addr of sp.addrs) {
        const ready = Promise.withResolvers<Deno.NetAddr>();
        const server = Deno.serve({
          hostname: addr.hostname,
          port: addr.port,
          reusePort: options.reusePort ?? false,
          onListen: (a) => ready.resolve(a as Deno.NetAddr),
          onError: (e) => {
            console.error(`server "${sp.name}": unhandled error`, e);
            return errorResponse(new ProxyError(500, "internal", "Internal error"), active.plan.basic.error_template);
          },
        }, async (req, info) => {
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
          return res;
        });
        servers.push(server);
        const local = await ready.promise;
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
