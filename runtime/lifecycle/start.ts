/**
 * Starting the proxy in this isolate: the parts that outlive a plan (live upstreams, metric registries, access-log
 * files, the certificate store, ACME tokens, the plugin environment), then the first generation (`serve.ts`), and the
 * certificate validity checker.
 *
 * @module
 */
import type { Plan } from "../../compiler/mod.ts";
import { type RunningProxy, serve } from "./serve.ts";
import { createUpstreams } from "../upstream/provider.ts";
import { createNotifier, type Notifier } from "../observe/notify.ts";
import { processStats } from "../observe/stats.ts";
import { snapshotOf } from "../observe/metrics/upstream_source.ts";
import { MetricsRegistries, processRegistry, registrySource } from "../observe/metrics/mod.ts";
import { AccessLogFiles } from "../observe/log/access_sink.ts";
import { CertStore, startValidityChecker } from "../tls/mod.ts";
import { ChallengeTokens } from "../acme/challenges.ts";

const startedAt = Date.now();

/** Options of {@linkcode startProxy}. */
export interface StartOptions {
  readonly reusePort?: boolean;
  readonly log?: (line: string) => void;
  /**
   * Log and send the certificate validity warnings (default true; with several workers only the first does, while
   * every worker keeps its validity gauges).
   */
  readonly reportValidity?: boolean;
  /** The certificate store to serve from (a worker's, filled before it starts); default a new one. */
  readonly certificates?: CertStore;
  /** The ACME http-01 tokens to answer (a worker's, filled before it starts); default new ones. */
  readonly challenges?: ChallengeTokens;
}

/** Serves `plan`; the returned proxy's shutdown also closes upstream pools. */
export async function startProxy(plan: Plan, options: StartOptions = {}): Promise<RunningProxy> {
  let proxy: RunningProxy | undefined;
  // The notifier of the generation serving now (a reload may change the webhook settings); while the first one is
  // built, one of the same settings.
  let early: Notifier | undefined;
  const notifier = () => proxy?.notifier ?? (early ??= createNotifier(plan.basic));
  const upstreams = createUpstreams({
    poolSize: plan.basic.upstream_keepalive_pool_size,
    onBackendStatus(upstream, backend, healthy) {
      const message = `upstream ${upstream}(${backend.addr}) becomes ${healthy ? "healthy" : "unhealthy"}`;
      console.error(message);
      void notifier().notify({ category: "backend_status", level: healthy ? "info" : "warn", message });
    },
    onUpstreamStatus(upstream, healthy) {
      // As Pingap's upstream health task: the upstream's name, an error when none of its backends is healthy.
      void notifier().notify({
        category: "upstream_status",
        level: healthy ? "info" : "error",
        title: healthy ? "Upstream healthy" : "Upstream unhealthy",
        message: upstream,
      });
    },
    onDiscoverFail(upstream, error) {
      const message = `upstream ${upstream}: discovery failed: ${error.message}`;
      console.error(message);
      void notifier().notify({ category: "service_discover_fail", level: "warn", message });
    },
  });
  const certificates = options.certificates ?? new CertStore();
  const upstreamSource = registrySource(upstreams.registry);
  try {
    proxy = await serve(plan, {
      upstreams,
      env: {
        stats: () => processStats(proxy?.active, startedAt),
        // What the admin plugin (runtime/admin) shows of this proxy.
        proxy: {
          plan: () => proxy?.active.plan,
          upstreams: () => snapshotOf(upstreamSource) ?? [],
          certificates: () => certificates.list(),
        },
      },
      warn: (m) => console.error(`warning: ${m}`),
      certificates,
      challenges: options.challenges ?? new ChallengeTokens(),
      metrics: new MetricsRegistries(upstreamSource),
      accessLogs: new AccessLogFiles(),
      ...(options.reusePort ? { reusePort: true } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (e) {
    await upstreams.dispose();
    throw e;
  }
  const inner = proxy;
  const reports = options.reportValidity !== false;
  const validity = startValidityChecker({
    certificates: () => certificates.list(),
    notify: reports ? (n) => notifier().notify(n) : () => {},
    ...(reports ? {} : { log: () => {} }),
    registry: processRegistry(),
  });
  return {
    get listening() {
      return inner.listening;
    },
    get active() {
      return inner.active;
    },
    get notifier() {
      return inner.notifier;
    },
    certificates,
    challenges: inner.challenges,
    swap: (p) => inner.swap(p),
    async shutdown() {
      validity.stop();
      await inner.shutdown();
      await upstreams.dispose();
    },
  };
}
