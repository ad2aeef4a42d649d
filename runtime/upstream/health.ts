/**
 * Active health checks of an upstream's backends (inventory §3.3).
 *
 * One round checks every backend (one after the other, or all at once with
 * `parallel`); the next round starts `check_frequency` after the previous
 * one ended, so rounds never overlap. Backends start healthy; `failure`
 * consecutive failed checks mark one unhealthy, `success` consecutive good
 * checks mark it healthy again.
 *
 * - `tcp`: connect, then close.
 * - `http`/`https`: `GET <path>` with `Host: <host>`; only 200 is healthy;
 *   the body is drained; TLS is not verified (SNI = host). `reuse` keeps one
 *   keep-alive connection per backend.
 * - `grpc`: `grpc.health.v1.Health/Check` over HTTP/2 (h2c, or TLS without
 *   verification with `tls`); healthy iff the answer is SERVING with
 *   grpc-status 0.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { HealthCheck } from "../../compiler/mod.ts";
import type { Backend } from "./types.ts";
import { probe } from "./health_probe.ts";

export { decodeGrpcHealthResponse, encodeGrpcHealthRequest, probe } from "./health_probe.ts";

/** A health checker's view of one backend. */
export interface BackendHealth {
  /** The backend checked. */
  readonly backend: Backend;
  /** Its state after the last threshold crossing. */
  readonly healthy: boolean;
  /** Why the last check failed (cleared by a success). */
  readonly lastError?: string;
}

/** Runs health checks until disposed. */
export interface HealthChecker {
  /** Is the backend at `addr` healthy? Unknown backends count as healthy. */
  isHealthy(addr: string): boolean;
  /** Healthy backends now. */
  healthyCount(): number;
  /** Every backend's state. */
  snapshot(): BackendHealth[];
  /** Replaces the backends; ones that stay keep their state, new ones start healthy. */
  update(backends: readonly Backend[]): void;
  /** Runs a round now (after the one in progress, if any) and resolves when it ends. */
  checkNow(): Promise<void>;
  /** Stops the timer, aborts checks in flight; resolves once they have settled. */
  dispose(): Promise<void>;
}

/** Callbacks and knobs of {@linkcode createHealthChecker}. */
export interface HealthCheckerOptions {
  /** A backend became healthy or unhealthy (`backend_status` notification). */
  onChange?(backend: Backend, healthy: boolean): void;
  /** Delay of the first round, ms (default 0: at once). */
  initialDelay?: number;
}

interface State {
  backend: Backend;
  healthy: boolean;
  successes: number;
  failures: number;
  lastError?: string;
}

/** Active health checks of one upstream; see the module doc. */
class Checker implements HealthChecker {
  #name: string;
  #check: HealthCheck;
  #options: HealthCheckerOptions;
  #states = new Map<string, State>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> | undefined;
  #abort = new AbortController();
  #agents = new Map<string, http.Agent>();
  #disposed = false;

  constructor(name: string, check: HealthCheck, backends: readonly Backend[], options: HealthCheckerOptions) {
    this.#name = name;
    this.#check = check;
    this.#options = options;
    this.update(backends);
    this.#schedule(options.initialDelay ?? 0);
  }

  isHealthy(addr: string): boolean {
    return this.#states.get(addr)?.healthy ?? true;
  }

  healthyCount(): number {
    let n = 0;
    for (const s of this.#states.values()) if (s.healthy) n++;
    return n;
  }

  snapshot(): BackendHealth[] {
    return [...this.#states.values()].map((s) => ({
      backend: s.backend,
      healthy: s.healthy,
      ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
    }));
  }

  update(backends: readonly Backend[]): void {
    const old = this.#states;
    this.#states = new Map();
    for (const backend of backends) {
      const prev = old.get(backend.addr);
      if (prev) prev.backend = backend;
      this.#states.set(backend.addr, prev ?? { backend, healthy: true, successes: 0, failures: 0 });
    }
    for (const [addr, agent] of this.#agents) {
      if (this.#states.has(addr)) continue;
      agent.destroy();
      this.#agents.delete(addr);
    }
  }

  #schedule(delay: number): void {
    if (this.#disposed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run();
    }, delay);
  }

  #run(): Promise<void> {
    this.#round ??= this.#checkAll().finally(() => {
      this.#round = undefined;
      this.#schedule(this.#check.checkFrequency);
    });
    return this.#round;
  }

  async checkNow(): Promise<void> {
    if (this.#round) await this.#round;
    if (this.#disposed) return;
    clearTimeout(this.#timer);
    await this.#run();
  }

  #agent(addr: string): http.Agent | undefined {
    const check = this.#check;
    if (!check.reuse || (check.scheme !== "http" && check.scheme !== "https")) return undefined;
    let agent = this.#agents.get(addr);
    if (!agent) {
      const options = { keepAlive: true, maxSockets: 1 };
      agent = check.scheme === "https" ? new https.Agent(options) : new http.Agent(options);
      this.#agents.set(addr, agent);
    }
    return agent;
  }

  async #checkOne(state: State): Promise<void> {
    const signal = this.#abort.signal;
    const addr = state.backend.addr;
    let error: string | undefined;
    try {
      await probe(this.#check, state.backend, signal, this.#agent(addr));
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (this.#disposed || this.#states.get(addr) !== state) return;
    const check = this.#check;
    if (error === undefined) {
      delete state.lastError;
      state.failures = 0;
      state.successes++;
      if (!state.healthy && state.successes >= check.success) {
        state.healthy = true;
        this.#options.onChange?.(state.backend, true);
      }
    } else {
      state.lastError = error;
      state.successes = 0;
      state.failures++;
      if (state.healthy && state.failures >= check.failure) {
        state.healthy = false;
        this.#options.onChange?.(state.backend, false);
      }
    }
  }

  async #checkAll(): Promise<void> {
    const states = [...this.#states.values()];
    if (this.#check.parallel) {
      await Promise.all(states.map((s) => this.#checkOne(s)));
      return;
    }
    for (const s of states) {
      if (this.#disposed) return;
      await this.#checkOne(s);
    }
  }

  async dispose(): Promise<void> {
    if (!this.#disposed) {
      this.#disposed = true;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#abort.abort(new Error(`Health checks of upstream "${this.#name}" stopped`));
    }
    await this.#round;
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }
}

/**
 * Starts active health checks of an upstream's backends.
 *
 * @example Usage
 * ```ts ignore
 * import { healthCheck } from "../../compiler/mod.ts";
 * import { createHealthChecker } from "./health.ts";
 * const check = healthCheck("http://web/health?check_frequency=5s");
 * if (!check.ok) throw new Error(check.message);
 * const checker = createHealthChecker("web", check.value, [{ host: "127.0.0.1", port: 3000, weight: 1, addr: "127.0.0.1:3000" }], {
 *   onChange: (b, healthy) => console.log(`upstream web(${b.addr}) becomes ${healthy ? "healthy" : "unhealthy"}`),
 * });
 * await checker.dispose();
 * ```
 */
export function createHealthChecker(
  upstreamName: string,
  check: HealthCheck,
  backends: readonly Backend[],
  options: HealthCheckerOptions = {},
): HealthChecker {
  return new Checker(upstreamName, check, backends, options);
}
