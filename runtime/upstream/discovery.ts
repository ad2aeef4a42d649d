/**
 * Service discovery: turns an upstream's `addrs` into backends (inventory
 * §3.1).
 *
 * - `static`: IP literals as they are; host names resolved once (A, plus
 *   AAAA unless `ipv4_only`); deduplicated.
 * - `dns`: the same, again every `update_frequency` (default 60 s). A host
 *   that fails to resolve keeps its last good addresses and is reported to
 *   `onError` (Pingap's `service_discover_fail`); `onChange` is called when
 *   the set of backends changes.
 * - `docker`: `addrs` are Docker label filters (`label[:port] [weight]`),
 *   listed through the Docker Engine API on its unix socket
 *   (`GET /containers/json?filters={"label":["k=v"]}`), refreshed every
 *   `update_frequency` and, as Pingap does, on container events
 *   (`GET /events`, 500 ms debounce, reconnect after 5 s). With a port: each
 *   container network's IP and that port. Without: the first exposed port;
 *   published ⇒ the network gateway and the public port, else the network IP
 *   and the private port. A failed listing keeps the last good set.
 * - `srv`: each name's SRV records, their targets resolved, every
 *   `update_frequency` (./srv.ts: priorities, weights, what a failing name
 *   keeps).
 * - `transparent`: no backends; the runtime connects to the request's host.
 *
 * Name resolution uses `Deno.resolveDns`, which (checked with Deno 2.9.6)
 * answers from /etc/hosts too: `localhost`, and names listed there, resolve
 * without a DNS server. `dns_server` (first that answers), `dns_domain` and
 * `dns_search` (tried after the bare name, for names without a dot) are
 * honoured. Deno does not return TTLs, so records are re-read every
 * `update_frequency` rather than on TTL expiry.
 *
 * Over 400 lines because static, DNS and docker discovery share one refresh loop, its backoff and its change detection; each kind is a few functions of it.
 *
 * @module
 */
import type { UpstreamPlan } from "../../compiler/mod.ts";
import { resolveSrv, type SrvKept, type SrvResolver, srvRound } from "./srv.ts";
import type { Backend } from "./types.ts";

/** Resolves one name to addresses of one record type. */
export type Resolver = (
  name: string,
  type: "A" | "AAAA",
  options: { nameServer?: { ipAddr: string; port: number }; signal: AbortSignal },
) => Promise<string[]>;

/** Callbacks and knobs of {@linkcode createDiscovery}. */
export interface DiscoveryOptions {
  /** The set of backends changed (also when the first lookup adds resolved names to the IP literals). */
  onChange?(backends: readonly Backend[]): void;
  /** A refresh failed, fully or for some hosts (`service_discover_fail`). */
  onError?(error: Error): void;
  /** Name resolution (default `Deno.resolveDns`). */
  resolver?: Resolver;
  /** SRV lookups of `srv` discovery (default `Deno.resolveDns`). */
  srvResolver?: SrvResolver;
  /** Docker socket (default: `DOCKER_HOST` if `unix://`, else /var/run/docker.sock). */
  dockerSocket?: string;
  /** Follow Docker container events (default true). */
  dockerEvents?: boolean;
  /** Delay before reconnecting to the Docker event stream, ms (default 5000). */
  dockerReconnect?: number;
  /** Time limit of one lookup or Docker request, ms (default 5000). */
  timeout?: number;
}

/** A running discovery. */
export interface Discovery {
  /** The discovery mode. */
  readonly kind: UpstreamPlan["discovery"];
  /** Current backends (IP literals of `static`/`dns` are there at once). */
  backends(): readonly Backend[];
  /** Settles after the first discovery attempt, successful or not. */
  readonly ready: Promise<void>;
  /** Discovers again now (after a refresh in progress, if any). */
  refresh(): Promise<void>;
  /** How long the latest refresh took, ms (`pingap_upstream_discovery_time`); undefined before the first. */
  readonly lastRefreshMs: number | undefined;
  /** Stops timers and watches; resolves once they have settled. */
  dispose(): Promise<void>;
}

/**
 * A backend for `host:port` (`addr` brackets IPv6).
 *
 * @example Usage
 * ```ts
 * import { toBackend } from "./discovery.ts";
 * if (toBackend("::1", 80, 1).addr !== "[::1]:80") throw new Error();
 * ```
 */
export function toBackend(host: string, port: number, weight: number): Backend {
  return { host, port, weight, addr: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}` };
}

function isIPv4(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
}

function isIp(s: string): boolean {
  return isIPv4(s) || s.includes(":");
}

function message(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? e.cause.message : undefined;
  return cause && !e.message.includes(cause) ? `${e.message}: ${cause}` : e.message;
}

/** Same backends (addr and weight), in any order? */
export function sameBackends(a: readonly Backend[], b: readonly Backend[]): boolean {
  if (a.length !== b.length) return false;
  const key = (x: Backend) => `${x.addr} ${x.weight}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.every((k, i) => k === right[i]);
}

/** Dedupes by addr (first wins). */
function dedupe(backends: Iterable<Backend>): Backend[] {
  const seen = new Set<string>();
  const out: Backend[] = [];
  for (const b of backends) {
    if (seen.has(b.addr)) continue;
    seen.add(b.addr);
    out.push(b);
  }
  return out;
}

function defaultResolver(
  name: string,
  type: "A" | "AAAA",
  options: { nameServer?: { ipAddr: string; port: number }; signal: AbortSignal },
): Promise<string[]> {
  return Deno.resolveDns(name, type, options);
}

/** `ip`, `ip:port`, `[v6]:port` or bare v6 → name server. */
export function nameServer(text: string): { ipAddr: string; port: number } {
  const t = text.trim();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) return { ipAddr: v6[1]!, port: v6[2] ? Number(v6[2]) : 53 };
  if (t.split(":").length > 2) return { ipAddr: t, port: 53 };
  const [ip, port] = t.split(":");
  return { ipAddr: ip!, port: port ? Number(port) : 53 };
}

/** How {@linkcode resolveHost} looks names up. */
export interface LookupOptions {
  /** Look up A records only. */
  readonly ipv4Only: boolean;
  /** `dns_server` entries (`ip`, `ip:port`, `[v6]:port`); empty = system resolver. */
  readonly nameServers: readonly string[];
  /** `dns_domain` then `dns_search`, tried after the bare name for names without a dot. */
  readonly searchDomains: readonly string[];
  /** The lookup function. */
  readonly resolver: Resolver;
  /** Time limit of one lookup, ms. */
  readonly timeout: number;
  /** Aborts the lookups. */
  readonly signal?: AbortSignal;
}

/**
 * Resolves a host name to its addresses (IPv4 first, each family sorted);
 * rejects when no address is found.
 */
export async function resolveHost(host: string, options: LookupOptions): Promise<string[]> {
  const bare = host.endsWith(".") ? host.slice(0, -1) : host;
  const names = host.endsWith(".") || host.includes(".") || options.searchDomains.length === 0
    ? [bare]
    : [bare, ...options.searchDomains.map((d) => `${bare}.${d.replace(/^\.|\.$/g, "")}`)];
  const servers: ({ ipAddr: string; port: number } | undefined)[] = options.nameServers.length
    ? options.nameServers.map(nameServer)
    : [undefined];
  const types: ("A" | "AAAA")[] = options.ipv4Only ? ["A"] : ["A", "AAAA"];
  let lastError: unknown;
  for (const name of names) {
    for (const server of servers) {
      const ac = new AbortController();
      const timer = setTimeout(
        () => ac.abort(new Error(`Lookup timed out after ${options.timeout}ms`)),
        options.timeout,
      );
      const signal = options.signal ? AbortSignal.any([ac.signal, options.signal]) : ac.signal;
      try {
        const results = await Promise.allSettled(
          types.map((type) => options.resolver(name, type, { ...(server ? { nameServer: server } : {}), signal })),
        );
        const found: string[] = [];
        for (const r of results) {
          if (r.status === "fulfilled") found.push(...[...r.value].sort());
          else lastError = r.reason;
        }
        if (found.length) return [...new Set(found)];
      } finally {
        clearTimeout(timer);
      }
      if (options.signal?.aborted) throw options.signal.reason;
    }
  }
  throw new Error(`Cannot resolve "${host}": ${lastError === undefined ? "no address" : message(lastError)}`);
}

/** The Docker socket to use. */
function dockerSocketPath(): string {
  try {
    const env = Deno.env.get("DOCKER_HOST");
    if (env?.startsWith("unix://")) return env.slice("unix://".length);
  } catch { /* no env permission */ }
  return "/var/run/docker.sock";
}

/** The part of a `GET /containers/json` item that discovery reads. */
export interface DockerContainer {
  /** Exposed ports, published ones with `PublicPort`. */
  readonly Ports?: readonly { PrivatePort?: number; PublicPort?: number }[] | null;
  /** Networks the container is attached to. */
  readonly NetworkSettings?: {
    readonly Networks?: Record<string, { IPAddress?: string; Gateway?: string } | null> | null;
  } | null;
}

/**
 * The `host:port` pairs of a container, per Pingap: with `port`, each
 * network's IP and that port; without, the first exposed port (published ⇒
 * gateway:public port, else IP:private port).
 */
export function containerAddrs(container: DockerContainer, port: number | undefined): [string, number][] {
  let privatePort = port ?? 0;
  let publicPort = 0;
  if (port === undefined) {
    const first = (container.Ports ?? []).find((p) => (p.PrivatePort ?? 0) > 0);
    if (!first) return [];
    privatePort = first.PrivatePort!;
    publicPort = first.PublicPort ?? 0;
  }
  const out: [string, number][] = [];
  for (const net of Object.values(container.NetworkSettings?.Networks ?? {})) {
    if (!net) continue;
    if (publicPort > 0) {
      if (net.Gateway) out.push([net.Gateway, publicPort]);
    } else if (net.IPAddress) out.push([net.IPAddress, privatePort]);
  }
  return out;
}

/** Docker container events that change the backend set. */
const DOCKER_EVENTS = ["start", "stop", "die", "kill", "pause", "unpause", "destroy", "health_status"];

/** One discovery; see the module doc. */
class Discoverer implements Discovery {
  readonly kind: UpstreamPlan["discovery"];
  readonly ready: Promise<void>;
  #plan: UpstreamPlan;
  #options: DiscoveryOptions;
  #backends: readonly Backend[] = [];
  #lastGood = new Map<string, string[]>();
  #srvKept = new Map<string, SrvKept>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refreshing: Promise<void> | undefined;
  lastRefreshMs: number | undefined;
  #abort = new AbortController();
  #disposed = false;
  #docker: Deno.HttpClient | undefined;
  #watch: Promise<void> | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #reconnect: { timer: ReturnType<typeof setTimeout>; resolve(): void } | undefined;

  constructor(plan: UpstreamPlan, options: DiscoveryOptions) {
    this.kind = plan.discovery;
    this.#plan = plan;
    this.#options = options;
    if (this.kind === "static" || this.kind === "dns") {
      const ipv4Only = plan.ipv4Only;
      this.#backends = dedupe(
        plan.backends.filter((b) => isIp(b.host) && (!ipv4Only || isIPv4(b.host))).map((b) =>
          toBackend(b.host, b.port, b.weight)
        ),
      );
    }
    if (this.kind === "transparent") {
      this.ready = Promise.resolve();
      return;
    }
    if (this.kind === "docker") {
      const path = options.dockerSocket ?? dockerSocketPath();
      this.#docker = Deno.createHttpClient({ proxy: { transport: "unix", path } });
    }
    this.ready = this.refresh();
    if (this.kind === "docker" && (options.dockerEvents ?? true)) this.#watch = this.#watchDocker();
  }

  backends(): readonly Backend[] {
    return this.#backends;
  }

  #set(next: readonly Backend[]): void {
    if (sameBackends(this.#backends, next)) return;
    this.#backends = next;
    this.#options.onChange?.(next);
  }

  #schedule(): void {
    if (this.#disposed || this.kind === "static") return;
    clearTimeout(this.#timer);
    const every = this.#plan.updateFrequency;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.refresh();
    }, Math.max(1, every));
  }

  async refresh(): Promise<void> {
    if (this.kind === "transparent" || this.#disposed) return;
    while (this.#refreshing) await this.#refreshing;
    if (this.#disposed) return;
    clearTimeout(this.#timer);
    const t = performance.now();
    this.#refreshing =
      (this.kind === "docker"
        ? this.#discoverDocker()
        : this.kind === "srv"
        ? this.#discoverSrv()
        : this.#discoverDns())
        .catch((e) => {
          if (!this.#disposed) this.#options.onError?.(e instanceof Error ? e : new Error(String(e)));
        })
        .finally(() => {
          this.lastRefreshMs = performance.now() - t;
          this.#refreshing = undefined;
          this.#schedule();
        });
    await this.#refreshing;
  }

  #lookup(): LookupOptions {
    const plan = this.#plan;
    return {
      ipv4Only: plan.ipv4Only,
      nameServers: plan.dnsServer,
      searchDomains: plan.dnsSearch,
      resolver: this.#options.resolver ?? defaultResolver,
      timeout: this.#options.timeout ?? 5000,
      signal: this.#abort.signal,
    };
  }

  async #discoverSrv(): Promise<void> {
    const lookup = this.#lookup();
    const names = [...new Set(this.#plan.backends.map((b) => b.host))];
    const results = await Promise.all(names.map((n) => resolveSrv(n, lookup, this.#options.srvResolver)));
    if (this.#disposed) return;
    const { backends, errors } = srvRound(new Map(names.map((n, i) => [n, results[i]!])), this.#srvKept, Date.now());
    this.#set(dedupe(backends));
    if (errors.length) {
      throw new Error(`SRV discovery of upstream "${this.#plan.name}" failed: ${errors.join("; ")}`);
    }
  }

  async #discoverDns(): Promise<void> {
    const lookup = this.#lookup();
    const names = [...new Set(this.#plan.backends.filter((b) => !isIp(b.host)).map((b) => b.host))];
    const errors: string[] = [];
    await Promise.all(names.map(async (name) => {
      try {
        this.#lastGood.set(name, await resolveHost(name, lookup));
      } catch (e) {
        errors.push(message(e));
      }
    }));
    if (this.#disposed) return;
    const ipv4Only = lookup.ipv4Only;
    const next: Backend[] = [];
    for (const b of this.#plan.backends) {
      if (isIp(b.host)) {
        if (!ipv4Only || isIPv4(b.host)) next.push(toBackend(b.host, b.port, b.weight));
        continue;
      }
      for (const ip of this.#lastGood.get(b.host) ?? []) next.push(toBackend(ip, b.port, b.weight));
    }
    this.#set(dedupe(next));
    if (errors.length) {
      throw new Error(`Discovery of upstream "${this.#plan.name}" failed: ${errors.join("; ")}`);
    }
  }

  async #dockerGet(path: string, signal: AbortSignal): Promise<Response> {
    const res = await fetch(`http://docker${path}`, { client: this.#docker!, signal });
    if (!res.ok) {
      const body = await res.text().catch(() => "");
      throw new Error(`Docker answered ${res.status} to ${path.split("?")[0]}: ${body.trim().slice(0, 200)}`);
    }
    return res;
  }

  async #discoverDocker(): Promise<void> {
    const ipv4Only = this.#plan.ipv4Only;
    const next: Backend[] = [];
    const timeout = this.#options.timeout ?? 5000;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`Docker timed out after ${timeout}ms`)), timeout);
    const signal = AbortSignal.any([ac.signal, this.#abort.signal]);
    try {
      for (const a of this.#plan.backends) {
        const filters = encodeURIComponent(JSON.stringify({ label: [a.host] }));
        const res = await this.#dockerGet(`/containers/json?filters=${filters}`, signal);
        const containers = await res.json() as DockerContainer[];
        for (const c of containers) {
          for (const [ip, port] of containerAddrs(c, a.portSet ? a.port : undefined)) {
            if (ipv4Only && !isIPv4(ip)) continue;
            next.push(toBackend(ip, port, a.weight));
          }
        }
      }
    } catch (e) {
      const labels = this.#plan.backends.map((a) => a.host).join(", ");
      throw new Error(`Docker discovery of upstream "${this.#plan.name}" (${labels}) failed: ${message(e)}`);
    } finally {
      clearTimeout(timer);
    }
    if (!this.#disposed) this.#set(dedupe(next));
  }

  /** Follows container events; refreshes 500 ms after the last one. */
  async #watchDocker(): Promise<void> {
    const filters = encodeURIComponent(JSON.stringify({ type: ["container"], event: DOCKER_EVENTS }));
    let failing = false;
    while (!this.#disposed) {
      try {
        const res = await this.#dockerGet(`/events?filters=${filters}`, this.#abort.signal);
        failing = false;
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            if (value.trim() === "") continue;
            clearTimeout(this.#debounce);
            this.#debounce = setTimeout(() => {
              this.#debounce = undefined;
              this.refresh();
            }, 500);
          }
        } finally {
          await reader.cancel().catch(() => {});
        }
      } catch (e) {
        if (this.#disposed) return;
        // Reported once per outage, not on every reconnect attempt.
        if (!failing) {
          this.#options.onError?.(new Error(`Docker events of upstream "${this.#plan.name}" failed: ${message(e)}`));
        }
        failing = true;
      }
      if (this.#disposed) return;
      await new Promise<void>((resolve) => {
        this.#reconnect = { timer: setTimeout(resolve, this.#options.dockerReconnect ?? 5000), resolve };
      });
      this.#reconnect = undefined;
    }
  }

  async dispose(): Promise<void> {
    if (!this.#disposed) {
      this.#disposed = true;
      clearTimeout(this.#timer);
      clearTimeout(this.#debounce);
      if (this.#reconnect) {
        clearTimeout(this.#reconnect.timer);
        this.#reconnect.resolve();
      }
      this.#abort.abort(new Error(`Discovery of upstream "${this.#plan.name}" stopped`));
    }
    await this.#refreshing;
    await this.#watch;
    this.#docker?.close();
    this.#docker = undefined;
  }
}

/**
 * Starts discovery for an upstream.
 *
 * @example Usage
 * ```ts ignore
 * import { createDiscovery } from "./discovery.ts";
 * const d = createDiscovery(plan, { onChange: (b) => balancer.update(b), onError: (e) => notify(e) });
 * await d.ready;
 * console.log(d.backends());
 * await d.dispose();
 * ```
 */
export function createDiscovery(plan: UpstreamPlan, options: DiscoveryOptions = {}): Discovery {
  return new Discoverer(plan, options);
}
