/**
 * Activation: builds an {@linkcode ActivePlan} from a Plan — plugin
 * instances (unchanged ones kept from the previous generation), per-location
 * hook lists, server metrics and observers, upstreams (through a factory that
 * keeps state across reloads) — and its dispose. What outlives one plan
 * (upstream state, metric registries, access-log files, ACME tokens) is
 * passed in; the generation (`generation.ts`) adds listeners, certificates
 * and the notifier.
 *
 * @module
 */
import {
  type HeaderPolicy,
  type LocationPlan,
  type Plan,
  type Step,
  STEPS,
  type UpstreamPlan,
} from "../../compiler/mod.ts";
import type { ActiveLocation, ActivePlan, ActiveServer, ActiveUpstream } from "./active.ts";
import { type MetricsRegistries, serverMetrics } from "../observe/metrics/mod.ts";
import type { AccessLogFiles } from "../observe/log/access_sink.ts";
import type { ChallengeTokens } from "../acme/challenges.ts";
import { serverObserver } from "../observe/observer.ts";
import {
  type PluginEnv,
  type PluginInstance,
  PluginInstances,
  type PluginRegistry,
  RUNTIME_PLUGINS,
} from "../plugins/mod.ts";

/** Provides live upstreams; acquired per plan, released on dispose. */
export interface UpstreamProvider {
  acquire(plan: UpstreamPlan): ActiveUpstream;
  /** Released last, its state lets exchanges in flight end for at most `graceMs` (0: cut them). */
  release(plan: UpstreamPlan, graceMs?: number): void;
}

/**
 * How long a retired generation's exchanges in flight may go on (ms): what a stop gives them,
 * `grace_period + graceful_shutdown_timeout`.
 */
export function drainGrace(plan: Plan): number {
  return plan.basic.grace_period + plan.basic.graceful_shutdown_timeout;
}

/** Options of {@linkcode activate}. */
export interface ActivateOptions {
  readonly upstreams: UpstreamProvider;
  readonly env: PluginEnv;
  /** The runtime plugin halves by category (default {@linkcode RUNTIME_PLUGINS}; tests give their own). */
  readonly plugins?: PluginRegistry;
  /** Where observers report problems they can live with (e.g. a log target that cannot be opened). */
  readonly warn?: (message: string) => void;
  /** Where access-log lines go instead of each server's `access_log` target (tests, embedding). */
  readonly log?: (line: string) => void;
  /** The proxy's metric registries: a server's counters carry on across plans. */
  readonly metrics: MetricsRegistries;
  /** The proxy's open access-log files: a kept target keeps its writer. */
  readonly accessLogs: AccessLogFiles;
  /** The proxy's ACME http-01 tokens. */
  readonly challenges: ChallengeTokens;
}

/**
 * Builds an active plan. Plugin instances unchanged since `previous` (the generation it replaces) are kept, with
 * their state. Throws only on programmer errors, e.g. a plan with a plugin category that has no runtime half (the
 * compiler refuses those).
 */
export function activate(plan: Plan, options: ActivateOptions, previous?: ActivePlan): ActivePlan {
  const plugins = PluginInstances.build(
    plan.plugins,
    options.plugins ?? RUNTIME_PLUGINS,
    options.env,
    previous?.plugins,
  );
  const instances = plugins.list;
  const locations: ActiveLocation[] = plan.locations.map((lp) => {
    const chain = lp.plugins.map((i) => instances[i]!);
    const steps = Object.fromEntries(STEPS.map((s) => [s, chain.filter((p) => p.step === s && p.request)])) as {
      [S in Step]: PluginInstance[];
    };
    // Content encoders last (see `PluginHooks.encodesBody`).
    const responseBody = [
      ...chain.filter((p) => p.responseBody && !p.encodesBody),
      ...chain.filter((p) => p.responseBody && p.encodesBody),
    ];
    return {
      plan: lp,
      steps,
      upstreamResponse: chain.filter((p) => p.upstreamResponse),
      response: chain.filter((p) => p.response),
      responseBody,
      answerBody: responseBody.filter((p) => !p.upstreamBodyOnly),
      logging: chain.filter((p) => p.logging),
      errorPages: chain.filter((p) => p.errorPage),
      // Always present (undefined at the defaults): every active location keeps one shape.
      headerPolicy: headerPolicyOf(plan, lp),
      processing: 0,
      accepted: 0,
      errors: 0,
    };
  });
  const servers = new Map<string, ActiveServer>();
  for (const sp of plan.servers) {
    const metrics = serverMetrics(sp.name, sp.prometheusMetrics, options.metrics);
    const observer = serverObserver(sp, metrics?.metrics, {
      log: options.log,
      warn: options.warn,
      accessLogs: options.accessLogs,
    });
    servers.set(sp.name, {
      plan: sp,
      ranked: sp.locations.map((i) => plan.locations[i]!),
      locations: sp.locations.map((i) => locations[i]!),
      ...(metrics ? { metrics } : {}),
      ...(observer ? { observer } : {}),
    });
  }
  const upstreams = plan.upstreams.map((u) => options.upstreams.acquire(u));
  const upstreamsByName = new Map(upstreams.map((u) => [u.plan.name, u]));
  return {
    plan,
    servers,
    plugins,
    upstreams,
    upstreamsByName,
    counters: { processing: 0, accepted: 0 },
    challenges: options.challenges,
    async dispose() {
      // Each upstream whose state no newer plan holds drains: a response still streaming keeps its connection.
      const grace = drainGrace(plan);
      for (const u of plan.upstreams) options.upstreams.release(u, grace);
      plugins.dispose();
      for (const s of servers.values()) {
        await s.observer?.dispose();
        await s.metrics?.dispose();
      }
    },
  };
}

/** The header options of a location's own upstream when one is off, else undefined. */
function headerPolicyOf(plan: Plan, lp: LocationPlan): HeaderPolicy | undefined {
  const ref = lp.upstream;
  return ref.kind === "upstream" ? plan.upstreams[ref.index]?.headerPolicy : undefined;
}
