/**
 * Live upstreams for the pipeline: the registry (balancer, health,
 * discovery, circuit breaker, kept across reloads) joined to the HTTP/1.1
 * client, and adapted to {@linkcode ActiveUpstream}.
 *
 * @module
 */
import type { UpstreamPlan } from "../../compiler/mod.ts";
import type { ActiveUpstream } from "../lifecycle/active.ts";
import type { UpstreamProvider } from "../lifecycle/activate.ts";
import type { RequestContext } from "../proxy/context.ts";
import { hashKey } from "./balancer.ts";
import { createH2Client } from "./h2/client.ts";
import { stickyPick, type StickySource } from "./sticky.ts";
import { upstreamCaCerts, upstreamClientCertificate } from "./upstream_ca.ts";
import { createHttp1Client } from "./http1/client.ts";
import { type RegistryEvents, UpstreamRegistry, type UpstreamState } from "./registry.ts";
import type { Backend } from "./types.ts";

/** Options of {@linkcode createUpstreams}. */
export interface UpstreamsOptions extends RegistryEvents {
  /** Idle keep-alive connections per backend (`basic.upstream_keepalive_pool_size`). */
  readonly poolSize?: number;
}

/** A provider plus the registry's shutdown. */
export interface Upstreams extends UpstreamProvider {
  /** The registry (tests, stats). */
  readonly registry: UpstreamRegistry;
  /** Closes every pool and timer; with `graceMs`, exchanges in flight get that long to end first. */
  dispose(graceMs?: number): Promise<void>;
}

function transparentBackend(ctx: RequestContext, tls: boolean): Backend {
  const port = tls ? 443 : 80;
  const host = ctx.host;
  return { host, port, weight: 1, addr: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}` };
}

function adapt(state: UpstreamState): ActiveUpstream {
  const plan = state.plan;
  const algo = plan.algo;
  const transparent = plan.discovery === "transparent";
  const sticky = algo.kind === "round_robin" ? algo.stickyCookie : undefined;
  const source: StickySource | undefined = sticky === undefined ? undefined : {
    backends: () => state.backends(),
    able: (b) => state.able(b),
    pickAble: (tried) => state.pickAble(undefined, tried),
    pick: (tried) => state.pick(undefined, tried),
    failOpen: plan.failOpen,
  };
  return {
    plan,
    client: state.client,
    pick(ctx, tried) {
      if (transparent) return transparentBackend(ctx, plan.tls);
      if (source !== undefined) {
        const picked = stickyPick(source, sticky!, ctx.cookie(sticky!), tried);
        ctx.stickyCookie = picked?.setCookie;
        return picked?.backend;
      }
      const key = algo.kind === "hash"
        ? hashKey(algo, {
          path: ctx.path,
          uri: ctx.uri,
          clientIp: algo.by === "ip" ? ctx.clientIp() : "",
          // From the raw fields of a front end request: no `Headers` made for it.
          header: (n) => ctx.header(n.toLowerCase()) ?? undefined,
          cookie: (n) => ctx.cookie(n),
          query: (n) => ctx.query(n),
        })
        : undefined;
      return state.pick(key, tried);
    },
    begin(b) {
      if (!transparent) state.begin(b);
    },
    end(b, status) {
      if (!transparent) state.end(b, status);
    },
  };
}

/** Creates the live-upstream provider. */
export function createUpstreams(options: UpstreamsOptions = {}): Upstreams {
  const registry = new UpstreamRegistry({
    ...options,
    ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
    // alpn "h2": HTTP/2 (h2c without TLS). "h2h1" over TLS: HTTP/2, or HTTP/1.1 when the backend picks it in ALPN.
    createClient: (o, plan) => {
      const alpn = plan.alpn;
      const caCerts = upstreamCaCerts(plan);
      const clientCert = upstreamClientCertificate(plan);
      const extra = {
        ...(caCerts ? { caCerts } : {}),
        ...(clientCert ? { clientCert } : {}),
        ...(plan.headerPolicy ? { headerPolicy: plan.headerPolicy } : {}),
      };
      return alpn === "h2" || (alpn === "h2h1" && o.tls)
        ? createH2Client(o, plan.maxH2Streams, {
          ...extra,
          streamWindow: plan.h2StreamWindowSize,
          connectionWindow: plan.h2ConnectionWindowSize,
          ...(alpn === "h2h1" ? { fallback: createHttp1Client(o, extra) } : {}),
        })
        : createHttp1Client(o, extra);
    },
  });
  return {
    registry,
    acquire(plan: UpstreamPlan) {
      return adapt(registry.acquire(plan));
    },
    release(plan: UpstreamPlan, graceMs?: number) {
      void registry.release(plan.key, graceMs);
    },
    dispose(graceMs?: number) {
      return registry.dispose(graceMs);
    },
  };
}
