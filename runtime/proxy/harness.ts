/**
 * A request through a compiled Plan without sockets, in the spirit of Hono's
 * `app.request()`: the Plan is activated as the proxy activates it (the real
 * plugin instances, hook lists and {@linkcode handle} pipeline), and the
 * upstream is a function from `Request` to `Response` instead of a
 * connection. For plugin tests that need no port; the end-to-end tests over
 * real sockets stay the proof of the wire.
 *
 * What it leaves out: the listeners (front ends, TLS, PROXY protocol), the
 * `TRACE` refusal and `Connection: close` of serve.ts, and the upstreams'
 * balancing, health checks and connection pools (every upstream sends to the
 * one function).
 *
 * @example Usage
 * ```ts
 * import { compileSources } from "../../compiler/mod.ts";
 * import { planRequest } from "./harness.ts";
 * const { plan } = compileSources([{ file: "t.toml", text: `
 * [servers.s]
 * addr = "127.0.0.1:1"
 * locations = ["l"]
 * [locations.l]
 * plugins = ["pingap:ping"]
 * ` }]);
 * const res = await planRequest(plan!, "http://t/ping");
 * if (await res.text() !== "pong") throw new Error();
 * ```
 *
 * @module
 */
import { MetricsRegistries } from "../observe/metrics/mod.ts";
import { AccessLogFiles } from "../observe/log/access_sink.ts";
import { ChallengeTokens } from "../acme/challenges.ts";
import type { Plan, UpstreamPlan } from "../../compiler/mod.ts";
import { activate } from "../lifecycle/activate.ts";
import type { ActivePlan, ActiveUpstream } from "../lifecycle/active.ts";
import { processStats } from "../observe/stats.ts";
import type { PluginEnv, PluginRegistry } from "../plugins/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { upstreamResponse } from "../http/response_build.ts";
import { type Backend, UpstreamError, type UpstreamRequest, type UpstreamResponse } from "../upstream/types.ts";
import { RequestContext } from "./context.ts";
import { errorResponse, ProxyError } from "./errors.ts";
import { handle } from "./pipeline.ts";

/** The fake upstream: gets the request as the proxy would send it (URL of the backend picked), returns the answer. */
export type FakeUpstream = (req: Request) => Response | Promise<Response>;

/** Options of {@linkcode planHarness} and {@linkcode planRequest}. */
export interface HarnessOptions {
  /** Every upstream of the Plan answers with this; without it, sending upstream fails as a refused connect (502). */
  readonly upstream?: FakeUpstream;
  /** The server whose locations answer (default: the Plan's first). */
  readonly server?: string;
  /** The client's address (default 127.0.0.1:40000). */
  readonly client?: { readonly hostname: string; readonly port: number };
  /** What plugins may ask of the process (default: this isolate's stats, as the proxy gives). */
  readonly env?: PluginEnv;
  /** The runtime plugin halves (default: the registry). */
  readonly plugins?: PluginRegistry;
  /** Access-log lines go here (default: dropped). */
  readonly log?: (line: string) => void;
}

/** An activated Plan taking requests without sockets. */
export interface PlanHarness {
  /** The activated Plan (its plugin instances, locations, counters). */
  readonly active: ActivePlan;
  /** Runs one request through the pipeline; `input` is a `Request` or an absolute URL. */
  request(input: Request | string, init?: RequestInit): Promise<Response>;
  /** Activates `plan` as a reload does (unchanged plugin instances kept) and disposes the previous one. */
  reload(plan: Plan): Promise<void>;
  /** Disposes the active Plan. */
  dispose(): Promise<void>;
}

/** Every upstream of the Plan, sending to `upstream`. */
function fakeUpstream(plan: UpstreamPlan, upstream: FakeUpstream | undefined): ActiveUpstream {
  const first = plan.backends[0];
  return {
    plan,
    client: {
      async request(backend: Backend, req: UpstreamRequest): Promise<UpstreamResponse> {
        if (!upstream) throw new UpstreamError("connect", `no fake upstream for ${backend.addr}`, false);
        const bodied = req.body !== null && req.method !== "GET" && req.method !== "HEAD";
        let res: Response;
        try {
          res = await upstream(
            new Request(`${plan.tls ? "https" : "http"}://${backend.addr}${req.target}`, {
              method: req.method,
              headers: new Headers(req.headers),
              ...(bodied ? { body: req.body } : {}),
            }),
          );
        } catch (e) {
          throw new UpstreamError("protocol", `fake upstream failed: ${e}`, true, { cause: e });
        }
        return {
          status: res.status,
          statusText: res.statusText,
          headers: new Headers(res.headers),
          body: req.method === "HEAD" ? null : res.body,
          reused: false,
          connectTime: 0,
          responseTime: 0,
        };
      },
      prune() {},
      close() {},
    },
    pick(ctx) {
      const host = first?.host ?? ctx.host;
      const port = first?.port ?? (plan.tls ? 443 : 80);
      return { host, port, weight: 1, addr: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}` };
    },
    begin() {},
    end() {},
  };
}

/** Activates `plan` for socket-free requests. Dispose it when done. */
export function planHarness(plan: Plan, options: HarnessOptions = {}): PlanHarness {
  const startedAt = Date.now();
  let active: ActivePlan;
  const activateOptions = {
    upstreams: { acquire: (u: UpstreamPlan) => fakeUpstream(u, options.upstream), release() {} },
    env: options.env ?? { stats: () => processStats(active, startedAt) },
    log: options.log ?? (() => {}),
    metrics: new MetricsRegistries(),
    accessLogs: new AccessLogFiles(),
    challenges: new ChallengeTokens(),
    ...(options.plugins ? { plugins: options.plugins } : {}),
  };
  active = activate(plan, activateOptions);
  const client = options.client ?? { hostname: "127.0.0.1", port: 40000 };
  return {
    get active() {
      return active;
    },
    async request(input, init) {
      const req = typeof input === "string" ? new Request(input, init) : input;
      const current = active;
      const name = options.server ?? current.plan.servers[0]?.name;
      const server = name === undefined ? undefined : current.servers.get(name);
      const template = current.plan.basic.error_template;
      if (!server) return errorResponse(new ProxyError(404, "no_server", "Server not configured"), template);
      const scheme = req.url.startsWith("https:") ? "https" : "http";
      const ctx = new RequestContext(req, client.hostname, client.port, "127.0.0.1", 0, scheme);
      ctx.trustedProxies = current.plan.basic.trusted_proxies;
      current.counters.processing++;
      current.counters.accepted++;
      let res: Response | UpstreamResponse | StaticAnswer;
      try {
        res = await handle(current, server, ctx);
      } catch (e) {
        console.error("harness: request failed", e);
        res = errorResponse(new ProxyError(500, "internal", "Internal error"), template);
      } finally {
        current.counters.processing--;
      }
      ctx.status = res.status;
      if (res instanceof Response) return res;
      return res instanceof StaticAnswer ? res.toResponse() : upstreamResponse(res);
    },
    async reload(next) {
      const old = active;
      active = activate(next, activateOptions, old);
      await old.dispose();
    },
    async dispose() {
      await active.dispose();
    },
  };
}

/** Runs one request through `plan` (activated for it, disposed after); see {@linkcode planHarness}. */
export async function planRequest(
  plan: Plan,
  input: Request | string,
  options: HarnessOptions & { readonly init?: RequestInit } = {},
): Promise<Response> {
  const harness = planHarness(plan, options);
  try {
    return await harness.request(input, options.init);
  } finally {
    await harness.dispose();
  }
}
