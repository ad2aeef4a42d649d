/**
 * Starting the proxy in this isolate: live upstreams, plugin environment,
 * listeners.
 *
 * @module
 */
import type { Plan } from "../../compiler/mod.ts";
import { type RunningProxy, serve } from "./serve.ts";
import { createUpstreams } from "../upstream/provider.ts";
import { createNotifier } from "../observe/notify.ts";
import { processStats } from "../observe/stats.ts";
import { processRegistry, registrySource, setUpstreamSource } from "../observe/metrics/mod.ts";
import { certStore, loadPlanCertificates, startValidityChecker } from "../tls/mod.ts";

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
}

/** Serves `plan`; the returned proxy's shutdown also closes upstream pools. */
export async function startProxy(plan: Plan, options: StartOptions = {}): Promise<RunningProxy> {
  const upstreams = createUpstreams({
    poolSize: plan.basic.upstream_keepalive_pool_size,
    onBackendStatus(upstream, backend, healthy) {
      const message = `upstream ${upstream}(${backend.addr}) becomes ${healthy ? "healthy" : "unhealthy"}`;
      console.error(message);
      void notifier().notify({ category: "backend_status", level: healthy ? "info" : "warn", message });
    },
    onDiscoverFail(upstream, error) {
      const message = `upstream ${upstream}: discovery failed: ${error.message}`;
      console.error(message);
      void notifier().notify({ category: "service_discover_fail", level: "warn", message });
    },
  });
  setUpstreamSource(registrySource(upstreams.registry));
  let proxy: RunningProxy | undefined;
  // The webhook settings of the plan serving now (a reload may change them).
  const notifier = () => createNotifier((proxy?.active.plan ?? plan).basic);
  const env = {
    stats: () => processStats(proxy?.active, startedAt),
    plan: () => proxy?.active.plan, // the admin (runtime/admin) waits for a saved change to be switched in
  };
  const warn = (m: string) => console.error(`warning: ${m}`);
  try {
    await loadPlanCertificates(plan, warn);
    proxy = await serve(plan, {
      upstreams,
      env,
      warn: (m) => console.error(`warning: ${m}`),
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
    certificates: () => certStore.list(),
    notify: reports ? (n) => notifier().notify(n) : () => {},
    ...(reports ? {} : { log: () => {} }),
    registry: processRegistry(),
  });
  return {
    listening: inner.listening,
    get active() {
      return inner.active;
    },
    async swap(p) {
      // Certificates first, so listeners the new plan opens have them; undone if the swap fails.
      const undo = await loadPlanCertificates(p, warn);
      try {
        await inner.swap(p);
      } catch (e) {
        undo();
        throw e;
      }
    },
    async shutdown() {
      validity.stop();
      await inner.shutdown();
      await upstreams.dispose();
      setUpstreamSource(undefined);
    },
  };
}
