/**
 * Live upstream state that survives reloads (STYLE rule 11): a ref-counted
 * registry keyed by {@linkcode UpstreamPlan.key} (a hash of the upstream's
 * name and config). Each entry holds the discovered backends, the balancer,
 * the health checker, the discovery, the per-backend circuit states and the
 * connection pool (client).
 *
 * Swap protocol: the new plan acquires every upstream before the old plan
 * releases its own, so an unchanged upstream (same key) keeps its pool,
 * health and circuit state; a changed one gets a fresh entry, and the old
 * entry is disposed when its last holder releases it.
 *
 * Leases: disposing an entry stops its discovery and health checks at once,
 * but its client only drains ({@linkcode UpstreamClient.drain}): each
 * exchange in flight holds its connection until its response body ended,
 * failed or was cancelled, bounded by the grace period given to
 * {@linkcode UpstreamRegistry.release}. A reload thus never cuts a download
 * that streams from the old generation's pool.
 *
 * @module
 */
import type { UpstreamPlan } from "../../compiler/mod.ts";
import { type Balancer, createBalancer } from "./balancer.ts";
import { CircuitSet, type CircuitState } from "./circuit.ts";
import { createDiscovery, type Discovery, type DiscoveryOptions } from "./discovery.ts";
import { createHealthChecker, type HealthChecker } from "./health.ts";
import type { Backend, ConnectOptions, UpstreamClient } from "./types.ts";

/** Notifications the registry raises (Pingap's webhook categories in brackets). */
export interface RegistryEvents {
  /** A backend became healthy or unhealthy [`backend_status`]. */
  onBackendStatus?(upstream: string, backend: Backend, healthy: boolean): void;
  /**
   * The upstream's last healthy backend became unhealthy (false), or one of an upstream with none became healthy
   * again (true) [`upstream_status`].
   */
  onUpstreamStatus?(upstream: string, healthy: boolean): void;
  /** Discovery failed, fully or for some hosts [`service_discover_fail`]. */
  onDiscoverFail?(upstream: string, error: Error): void;
  /** A backend's circuit changed state. */
  onCircuitChange?(upstream: string, addr: string, from: CircuitState, to: CircuitState): void;
}

/** What the registry needs from its owner. */
export interface RegistryOptions extends RegistryEvents {
  /** Builds an upstream's connection pool + protocol client. */
  createClient(options: ConnectOptions, plan: UpstreamPlan): UpstreamClient;
  /** Discovery knobs (resolver, Docker socket), mostly for tests. */
  discovery?: Omit<DiscoveryOptions, "onChange" | "onError">;
  /** Clock of the circuit breakers (default `Date.now`). */
  now?: () => number;
  /** Idle connections kept per backend (default 128). */
  poolSize?: number;
}

/** The live state of one upstream. */
export interface UpstreamState {
  /** {@linkcode UpstreamPlan.key}. */
  readonly key: string;
  /** The plan that created the entry (same key ⇒ same config). */
  readonly plan: UpstreamPlan;
  /** Where the backends come from. */
  readonly discovery: Discovery;
  /** Chooses among the backends. */
  readonly balancer: Balancer;
  /** Undefined for `transparent` upstreams. */
  readonly health: HealthChecker | undefined;
  /** Per-backend stats and circuit breakers. */
  readonly circuits: CircuitSet;
  /** The connection pool slot. */
  readonly client: UpstreamClient;
  /** Settles once the first discovery and health round are done. */
  readonly ready: Promise<void>;
  /** Exchanges in flight (`processing`). */
  readonly processing: number;
  /** How long the latest rebuild of the balancer took, ms (`pingap_upstream_selector_build_time`). */
  readonly selectorBuildMs: number | undefined;
  /** True once disposed. */
  readonly disposed: boolean;
  /** Current backends. */
  backends(): readonly Backend[];
  /**
   * Picks a backend: healthy, circuit-acceptable, not in `tried`. `key` is
   * the hash key for hash algorithms (`hashKey()` in balancer.ts).
   */
  pick(key: string | undefined, tried?: ReadonlySet<string>): Backend | undefined;
  /** As {@linkcode pick} without the `fail_open` fallback. */
  pickAble(key: string | undefined, tried?: ReadonlySet<string>): Backend | undefined;
  /** Healthy and let through by its breaker (counts a half-open probe). */
  able(backend: Backend): boolean;
  /** An exchange with `backend` starts. */
  begin(backend: Backend): void;
  /**
   * It ended: a response status, undefined when there was no answer, or null for a request refused before sending
   * (a client error, which says nothing about the backend: not reported to its circuit breaker or stats).
   */
  end(backend: Backend, status: number | undefined | null): void;
}

/**
 * The client options of an upstream's plan.
 *
 * @example Usage
 * ```ts
 * import { connectOptions } from "./registry.ts";
 * const o = connectOptions({ tls: true, sni: "example.com", verifyCert: true, idleTimeout: 60_000 } as never);
 * if (!o.tls || o.sni !== "example.com" || !o.verifyCert || o.idleTimeout !== 60_000) throw new Error();
 * ```
 */
export function connectOptions(plan: UpstreamPlan, poolSize = 128): ConnectOptions {
  const c = plan;
  return {
    tls: plan.tls,
    ...(c.sni ? { sni: c.sni } : {}),
    verifyCert: c.verifyCert,
    ...(c.connectionTimeout !== undefined ? { connectionTimeout: c.connectionTimeout } : {}),
    ...(c.totalConnectionTimeout !== undefined ? { totalConnectionTimeout: c.totalConnectionTimeout } : {}),
    ...(c.readTimeout !== undefined ? { readTimeout: c.readTimeout } : {}),
    ...(c.writeTimeout !== undefined ? { writeTimeout: c.writeTimeout } : {}),
    idleTimeout: c.idleTimeout,
    poolSize,
  };
}

/** One upstream's live state. */
class Live implements UpstreamState {
  selectorBuildMs: number | undefined;
  readonly key: string;
  readonly plan: UpstreamPlan;
  readonly discovery: Discovery;
  readonly balancer: Balancer;
  readonly health: HealthChecker | undefined;
  readonly circuits: CircuitSet;
  readonly client: UpstreamClient;
  readonly ready: Promise<void>;
  #processing = 0;
  #disposed: Promise<void> | undefined;

  constructor(plan: UpstreamPlan, options: RegistryOptions) {
    const name = plan.name;
    this.key = plan.key;
    this.plan = plan;
    this.client = options.createClient(connectOptions(plan, options.poolSize), plan);
    this.circuits = new CircuitSet(plan.circuit, {
      ...(options.now ? { now: options.now } : {}),
      ...(options.onCircuitChange
        ? {
          onChange: (addr: string, from: CircuitState, to: CircuitState) =>
            options.onCircuitChange!(name, addr, from, to),
        }
        : {}),
    });
    // The parts discovery feeds exist before it starts.
    this.balancer = createBalancer(plan.algo, []);
    this.health = plan.discovery === "transparent" ? undefined : createHealthChecker(name, plan.healthCheck, [], {
      // The first round runs once discovery is done (see `ready`).
      initialDelay: plan.healthCheck.checkFrequency,
      ...(options.onBackendStatus || options.onUpstreamStatus
        ? {
          onChange: (b: Backend, healthy: boolean) => {
            options.onBackendStatus?.(name, b, healthy);
            // The state is updated before the call: none healthy now, or this one the first again.
            const n = this.health?.healthyCount();
            if (n === (healthy ? 1 : 0)) options.onUpstreamStatus?.(name, healthy);
          },
        }
        : {}),
    });
    this.discovery = createDiscovery(plan, {
      ...options.discovery,
      onChange: (backends) => this.#apply(backends),
      onError: (e) => options.onDiscoverFail?.(name, e),
    });
    this.#apply(this.discovery.backends());
    this.ready = this.discovery.ready.then(() => this.health?.checkNow());
  }

  #apply(backends: readonly Backend[]): void {
    if (this.#disposed) return;
    const t = performance.now();
    this.balancer.update(backends);
    this.selectorBuildMs = performance.now() - t;
    this.health?.update(backends);
    const keep = new Set(backends.map((b) => b.addr));
    this.circuits.prune(keep);
    this.client.prune(keep);
  }

  get processing(): number {
    return this.#processing;
  }

  get disposed(): boolean {
    return this.#disposed !== undefined;
  }

  backends(): readonly Backend[] {
    return this.balancer.backends;
  }

  pick(key: string | undefined, tried?: ReadonlySet<string>): Backend | undefined {
    const picked = this.pickAble(key, tried);
    if (picked !== undefined || !this.plan.failOpen) return picked;
    // fail_open: none is healthy or let through by its breaker, so any one not yet tried rather than a 503.
    return this.balancer.pick(key, (b) => !tried?.has(b.addr));
  }

  /** A backend that is healthy, let through by its breaker and not in `tried`; never a fail_open fallback. */
  pickAble(key: string | undefined, tried?: ReadonlySet<string>): Backend | undefined {
    const health = this.health;
    const circuits = this.circuits;
    return this.balancer.pick(key, (b) => {
      if (tried?.has(b.addr)) return false;
      if (health && !health.isHealthy(b.addr)) return false;
      return circuits.accept(b.addr); // Last: it counts half-open probes.
    });
  }

  /** Whether `backend` can take a request: healthy and let through by its breaker (counts a half-open probe). */
  able(backend: Backend): boolean {
    if (this.health && !this.health.isHealthy(backend.addr)) return false;
    return this.circuits.accept(backend.addr);
  }

  begin(backend: Backend): void {
    this.#processing++;
    this.balancer.acquire(backend);
  }

  end(backend: Backend, status: number | undefined | null): void {
    if (this.#processing > 0) this.#processing--;
    this.balancer.release(backend);
    if (status !== null) this.circuits.report(backend.addr, status);
  }

  /**
   * Stops discovery and health checks; the client drains for at most `graceMs` (exchanges in flight end first), or
   * closes at once with 0. Called again while draining, with 0, it cuts what is left.
   */
  dispose(graceMs = 0): Promise<void> {
    const client = this.client;
    if (this.#disposed !== undefined) {
      if (graceMs <= 0) client.close();
      return this.#disposed;
    }
    let drained: Promise<void> | undefined;
    if (graceMs > 0 && client.drain) drained = client.drain(graceMs);
    else client.close();
    this.#disposed = Promise.all([this.discovery.dispose(), this.health?.dispose(), drained]).then(() => {});
    return this.#disposed;
  }
}

/** The ref-counted registry of live upstreams. */
export class UpstreamRegistry {
  #options: RegistryOptions;
  #entries = new Map<string, { state: Live; refs: number }>();
  /** Released entries whose exchanges in flight are still ending. */
  #draining = new Set<Live>();

  /** Creates an empty registry. */
  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  /**
   * Takes a reference to the upstream of `plan`, creating its state when no
   * entry has its key.
   */
  acquire(plan: UpstreamPlan): UpstreamState {
    const entry = this.#entries.get(plan.key);
    if (entry) {
      entry.refs++;
      return entry.state;
    }
    const state = new Live(plan, this.#options);
    this.#entries.set(plan.key, { state, refs: 1 });
    return state;
  }

  /**
   * Drops a reference; the last one disposes the state (resolves when it is), letting the exchanges in flight on it
   * end first for at most `graceMs` (0: cut them).
   */
  release(key: string, graceMs = 0): Promise<void> {
    const entry = this.#entries.get(key);
    if (!entry) return Promise.resolve();
    entry.refs--;
    if (entry.refs > 0) return Promise.resolve();
    this.#entries.delete(key);
    const state = entry.state;
    this.#draining.add(state);
    return state.dispose(graceMs).finally(() => this.#draining.delete(state));
  }

  /** The state of `key`, if held. */
  get(key: string): UpstreamState | undefined {
    return this.#entries.get(key)?.state;
  }

  /** References held on `key` (0 when absent). */
  refs(key: string): number {
    return this.#entries.get(key)?.refs ?? 0;
  }

  /** Keys held. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Disposes every entry whatever its count, and those still draining (process shutdown): with `graceMs`, exchanges
   * in flight get that long to end; without, they are cut.
   */
  async dispose(graceMs = 0): Promise<void> {
    const states = [...this.#entries.values()].map((e) => e.state);
    this.#entries.clear();
    states.push(...this.#draining);
    this.#draining.clear();
    await Promise.all(states.map((s) => s.dispose(graceMs)));
  }
}
