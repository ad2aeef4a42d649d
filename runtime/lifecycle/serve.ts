/**
 * Serving and reloading: the one reference every listener reads per request, and the life of each generation
 * (`generation.ts`) behind it. A reload builds the new generation fully (listeners for new addresses included), swaps
 * the reference, retires the listeners it did not keep, waits for the old generation's requests, then disposes it. A
 * build that fails changes nothing: the old generation serves on.
 *
 * @module
 */
import type { Plan } from "../../compiler/mod.ts";
import type { ActivePlan } from "./active.ts";
import { buildGeneration, type Generation, leftBehind, type ProxyParts } from "./generation.ts";
import type { Listening } from "./listeners.ts";
import type { Serving } from "./respond.ts";
import { waitQuiet } from "./drain.ts";
import type { ActivateOptions } from "./activate.ts";
import { CertStore } from "../tls/mod.ts";
import { ChallengeTokens } from "../acme/challenges.ts";
import { MetricsRegistries } from "../observe/metrics/mod.ts";
import { AccessLogFiles } from "../observe/log/access_sink.ts";
import type { Notifier } from "../observe/notify.ts";

export type { Listening } from "./listeners.ts";

/** A running proxy. */
export interface RunningProxy {
  readonly listening: readonly Listening[];
  /** The active plan (for tests and stats). */
  readonly active: ActivePlan;
  /** The notifier of the plan serving now. */
  readonly notifier: Notifier;
  /** The certificates its TLS listeners serve (config ones per plan, and those put at run time, e.g. by ACME). */
  readonly certificates: CertStore;
  /** The ACME http-01 tokens its plain-HTTP servers answer. */
  readonly challenges: ChallengeTokens;
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

/** Options of {@linkcode serve}: the parts that outlive a plan; those not given are made here. */
export interface ServeOptions extends Omit<ActivateOptions, "metrics" | "accessLogs" | "challenges"> {
  /** Share ports between workers (SO_REUSEPORT). */
  readonly reusePort?: boolean;
  /**
   * What serves plain HTTP/1.1: `"own"` (default) the front end of runtime/listen/h1, `"deno-serve"` `Deno.serve` alone.
   * The environment variable `PINGAP_HTTP1` sets it when this does not (for comparisons).
   */
  readonly http1?: "own" | "deno-serve";
  readonly certificates?: CertStore;
  readonly challenges?: ChallengeTokens;
  readonly metrics?: MetricsRegistries;
  readonly accessLogs?: AccessLogFiles;
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

/** Waits (at most 30 s) until no request of `old` is in flight, then disposes it. */
async function drain(old: Generation): Promise<void> {
  for (let waited = 0; old.active.counters.processing > 0 && waited < 30_000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await old.dispose();
}

/**
 * Starts every server of the plan. A swap applies everything in place:
 * listeners for new addresses start before the new plan takes over,
 * listeners of removed addresses stop (draining) after it did.
 */
export async function serve(plan: Plan, options: ServeOptions): Promise<RunningProxy> {
  const parts: ProxyParts = {
    ...options,
    reusePort: options.reusePort ?? false,
    wire: (options.http1 ?? Deno.env.get("PINGAP_HTTP1")) !== "deno-serve",
    certificates: options.certificates ?? new CertStore(),
    challenges: options.challenges ?? new ChallengeTokens(),
    metrics: options.metrics ?? new MetricsRegistries(),
    accessLogs: options.accessLogs ?? new AccessLogFiles(),
  };
  // Set to the first generation's plan before its listeners open (buildGeneration).
  const serving: Serving = { active: undefined as unknown as ActivePlan, draining: false };
  let current = await buildGeneration(plan, parts, serving);
  return {
    get listening() {
      return [...current.listeners.values()].map((l) => ({
        server: l.server,
        hostname: l.addr.hostname,
        port: l.addr.port,
        ...(l.tls ? { tls: true } : {}),
        ...(l.tlsEngine ? { tlsEngine: l.tlsEngine } : {}),
      }));
    },
    get active() {
      return current.active;
    },
    get notifier() {
      return current.notifier;
    },
    certificates: parts.certificates,
    challenges: parts.challenges,
    async swap(next: Plan) {
      const fresh = await buildGeneration(next, parts, serving, current);
      const old = current;
      current = fresh;
      serving.active = fresh.active;
      // Politely, so that a keep-alive client of a listener that moved (a changed `tls_min_version`, say) loses no
      // request; a short bound, since reloads wait for it.
      const politeMs = Math.min(next.basic.grace_period, 2_000);
      await Promise.allSettled(leftBehind(old, fresh).map((r) => r.retire(politeMs)));
      await drain(old);
    },
    async shutdown() {
      const basic = current.plan.basic;
      // Keep-alive clients are told to reconnect (to whoever holds the port next) before anything is closed.
      serving.draining = true;
      await waitQuiet(() => current.active.counters, { quietMs: 300, maxMs: Math.min(basic.grace_period, 10_000) });
      const all = Promise.allSettled([...current.listeners.values()].map((l) => l.shutdown()));
      if (!await within(all, basic.grace_period + basic.graceful_shutdown_timeout)) {
        console.error("shutdown: requests still in flight after the grace period; stopping anyway");
      }
      current.listeners.clear();
      await current.dispose();
    },
  };
}
