/**
 * Compile and route-lookup timings on generated configs. Plain timing with
 * `performance.now()`, warm-up runs and medians; `bench/mod.ts` prints the
 * table. Nothing here asserts a timing.
 *
 * @module
 */
import {
  compileSources,
  type LocationPlan,
  lookupLinear,
  lookupRoute,
  type Plan,
  type RouteRequest,
  type ServerPlan,
} from "../compiler/mod.ts";

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Size of a generated config. */
export interface ConfigSize {
  readonly locations: number;
  readonly upstreams: number;
  readonly servers: number;
  readonly seed?: number;
}

/** A request template (see {@linkcode GeneratedConfig.samples}). */
export interface Sample {
  readonly host: string;
  readonly path: string;
}

/** A generated config and requests that exercise it. */
export interface GeneratedConfig {
  readonly text: string;
  /** Name of the server that lists every location. */
  readonly bigServer: string;
  /**
   * Host and path templates for requests: mostly matching, some misses. In
   * a template, `#` stands for a random number and `%` for a random word.
   */
  readonly samples: readonly Sample[];
}

// Only categories this version runs: the others are refused by check (docs/differences.md).
const PLUGIN_POOL = `
[plugins.reqId]
category = "request_id"
algorithm = "nanoid"
size = 16

[plugins.serverStats]
category = "stats"
path = "/_stats"

[plugins.pingBench]
category = "ping"
path = "/_ping"

[plugins.respHeaders]
category = "response_headers"
add_headers = ["X-Service:bench"]
set_headers = ["X-Response-Id:$http_x_request_id"]
remove_headers = ["Server"]

[plugins.mockHealth]
category = "mock"
path = "/health"
data = "ok"

[plugins.redirectHttps]
category = "redirect"
http_to_https = true

[plugins.upstreamHeaders]
category = "response_headers"
mode = "upstream"
set_headers_not_exists = ["Cache-Control:no-store"]
rename_headers = ["X-Old:X-New"]
`;
const PLUGIN_NAMES = [
  "reqId",
  "serverStats",
  "pingBench",
  "respHeaders",
  "mockHealth",
  "redirectHttps",
  "upstreamHeaders",
  "pingap:ping",
  "pingap:requestId",
  "pingap:stats",
];
const WORDS = ["api", "users", "orders", "static", "img", "v1", "v2", "search", "cart", "admin", "docs", "auth"];

/**
 * Generates a realistic config: exact and prefix paths, hosts (exact,
 * `*.suffix`, some regex), some regex paths, header operations, rewrites
 * and plugins. Server 0 lists every location; the others split them.
 */
export function generateConfig(size: ConfigSize): GeneratedConfig {
  const rand = prng(size.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const lines: string[] = [PLUGIN_POOL];
  for (let u = 0; u < size.upstreams; u++) {
    const n = 1 + Math.floor(rand() * 3);
    const addrs = Array.from(
      { length: n },
      (_, i) => `"10.${(u >> 8) & 255}.${u & 255}.${i + 1}:${8000 + i}${rand() < 0.3 ? " 10" : ""}"`,
    );
    lines.push(`[upstreams.u${u}]`, `addrs = [${addrs.join(", ")}]`);
    if (rand() < 0.3) lines.push(`health_check = "http://u${u}/ping?check_frequency=5s"`);
    if (rand() < 0.2) lines.push(`algo = "hash:ip"`);
    lines.push("");
  }
  const samples: Sample[] = [];
  const names: string[] = [];
  const hostCount = Math.max(1, Math.floor(size.locations / 20));
  for (let l = 0; l < size.locations; l++) {
    const name = `l${l}`;
    names.push(name);
    const svc = `/${pick(WORDS)}${l}`;
    const hostIndex = Math.floor(rand() * hostCount);
    lines.push(`[locations.${name}]`, `upstream = "u${l % size.upstreams}"`);
    // Path: exact 35%, prefix 45%, regex 8%, none 12%.
    const pk = rand();
    let path: string;
    if (pk < 0.35) {
      path = `${svc}/${pick(WORDS)}`;
      lines.push(`path = "=${path}"`);
    } else if (pk < 0.8) {
      path = svc;
      lines.push(`path = "${path}"`);
      path += "/%/#";
    } else if (pk < 0.88) {
      lines.push(`path = "~^${svc}/items/(?<id>\\\\d+)$"`);
      path = `${svc}/items/#`;
    } else {
      path = "/%/#";
    }
    // Host: exact 55%, suffix 15%, regex 3%, none 27%.
    const hk = rand();
    let host: string;
    if (hk < 0.55) {
      host = `app${hostIndex}.example.com`;
      lines.push(`host = "${host}${rand() < 0.2 ? `, www.app${hostIndex}.example.com` : ""}"`);
    } else if (hk < 0.7) {
      lines.push(`host = "*.t${hostIndex}.example.com"`);
      host = `%#.t${hostIndex}.example.com`;
    } else if (hk < 0.73) {
      lines.push(`host = "~^(?<tenant>[a-z]+)\\\\.r${hostIndex}\\\\.example\\\\.com$"`);
      host = `%.r${hostIndex}.example.com`;
    } else if (pk >= 0.88) {
      // No path and no host would be a catch-all; real configs have few.
      host = `app${hostIndex}.example.com`;
      lines.push(`host = "${host}"`);
    } else {
      host = `app${Math.floor(rand() * hostCount)}.example.com`;
    }
    if (rand() < 0.02) lines.push(`match_headers = ["x-canary:1"]`);
    if (rand() < 0.3) {
      lines.push(`proxy_set_headers = ["X-Upstream-Name:u${l % size.upstreams}", "X-Real-Ip:$remote_addr"]`);
    }
    if (rand() < 0.2) lines.push(`enable_reverse_proxy_headers = true`);
    if (rand() < 0.1 && pk < 0.8) lines.push(`rewrite = "^${svc}/(.*)$ /$1"`);
    if (rand() < 0.4) {
      const k = 1 + Math.floor(rand() * 3);
      const chosen = new Set(Array.from({ length: k }, () => pick(PLUGIN_NAMES)));
      lines.push(`plugins = [${[...chosen].map((p) => `"${p}"`).join(", ")}]`);
    }
    if (rand() < 0.05) lines.push(`weight = ${Math.floor(rand() * 2048)}`);
    lines.push("");
    samples.push({ host, path });
    if (rand() < 0.1) samples.push({ host: `nohost${l}.example.org`, path: `/missing/${l}/#` });
  }
  const bigServer = "s0";
  lines.push(
    `[servers.${bigServer}]`,
    `addr = "127.0.0.1:10000"`,
    `locations = [${names.map((n) => `"${n}"`).join(", ")}]`,
    "",
  );
  const per = Math.ceil(names.length / Math.max(1, size.servers - 1));
  for (let s = 1; s < size.servers; s++) {
    const part = names.slice((s - 1) * per, s * per);
    lines.push(
      `[servers.s${s}]`,
      `addr = "127.0.0.1:${10000 + s}"`,
      `locations = [${part.map((n) => `"${n}"`).join(", ")}]`,
      "",
    );
  }
  return { text: lines.join("\n"), bigServer, samples };
}

/** Median of numbers. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Compiles `text`, throwing on errors. */
export function compileOrThrow(text: string): Plan {
  const { plan, diagnostics } = compileSources([{ file: "bench.toml", text }]);
  if (!plan) {
    const errors = diagnostics.filter((d) => d.severity === "error").slice(0, 5);
    throw new Error(
      `Generated config does not compile: ${errors.map((d) => `${d.path.join(".")}: ${d.message}`).join("; ")}`,
    );
  }
  return plan;
}

/** Result of {@linkcode benchCompile}. */
export interface CompileTiming {
  readonly medianMs: number;
  readonly runsMs: readonly number[];
  readonly bytes: number;
  readonly plan: Plan;
}

/** Times `compileSources` on `text`: `warmup` untimed runs, then `runs` timed ones. */
export function benchCompile(text: string, options: { runs?: number; warmup?: number } = {}): CompileTiming {
  const { runs = 7, warmup = 2 } = options;
  let plan = compileOrThrow(text);
  for (let i = 1; i < warmup; i++) compileOrThrow(text);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    plan = compileOrThrow(text);
    times.push(performance.now() - t0);
  }
  return { medianMs: median(times), runsMs: times, bytes: text.length, plan };
}

const NO_HEADER = (): null => null;
const NO_VALUE = (): undefined => undefined;

/** A RouteRequest with no headers, query or cookies. */
export function plainRequest(host: string, path: string): RouteRequest {
  return { host, path, header: NO_HEADER, query: NO_VALUE, cookie: NO_VALUE };
}

/** A server of a plan with its locations in rank order. */
export interface RankedServer {
  readonly server: ServerPlan;
  readonly ranked: readonly LocationPlan[];
}

/** Finds a server and ranks its locations. */
export function rankedServer(plan: Plan, name: string): RankedServer {
  const server = plan.servers.find((s) => s.name === name);
  if (!server) throw new Error(`No server "${name}"`);
  return { server, ranked: server.locations.map((i) => plan.locations[i]!) };
}

/** Result of {@linkcode benchLookup}. */
export interface LookupTiming {
  readonly nsPerOp: number;
  readonly runsNs: readonly number[];
  /** Share of lookups that found a location. */
  readonly hitRate: number;
}

/** Lookups timed at a time in {@linkcode benchLookup}: enough that the clock's resolution does not matter. */
const BATCH = 4096;

/**
 * Times `ops` lookups (cycling through `requests`) per run and returns the
 * median ns/op. `linear` times the oracle instead.
 *
 * Every lookup gets a host string that V8 has not hashed yet, as a server
 * hands it over (each request's Host field is a new string): a string looked
 * up again would have its hash cached by the first lookup that used it as a
 * Map key, which no real request has. The fresh copies are made, untimed,
 * before each batch of {@linkcode BATCH} lookups.
 */
export function benchLookup(
  target: RankedServer,
  requests: readonly RouteRequest[],
  options: { ops?: number; runs?: number; warmup?: number; linear?: boolean } = {},
): LookupTiming {
  const { ops = 1_000_000, runs = 5, warmup = 1, linear = false } = options;
  const { server, ranked } = target;
  const table = server.routes;
  const n = requests.length;
  let hits = 0;
  for (const r of requests) if (lookupRoute(table, ranked, r) >= 0) hits++;
  const hostBytes = requests.map((r) => encoder.encode(r.host));
  const batch = Math.min(ops, Math.max(BATCH, n));
  let sink = 0;
  const once = () => {
    let ns = 0;
    for (let done = 0, j = 0; done < ops; done += batch) {
      const count = Math.min(batch, ops - done);
      const fresh: RouteRequest[] = [];
      for (let i = 0; i < count; i++, j = j + 1 === n ? 0 : j + 1) {
        fresh.push({ ...requests[j]!, host: decoder.decode(hostBytes[j]!) });
      }
      const t0 = performance.now();
      if (linear) { for (let i = 0; i < count; i++) sink += lookupLinear(ranked, fresh[i]!); }
      else for (let i = 0; i < count; i++) sink += lookupRoute(table, ranked, fresh[i]!);
      ns += (performance.now() - t0) * 1e6;
    }
    return ns / ops;
  };
  for (let i = 0; i < warmup; i++) once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(once());
  if (sink === 0.5) console.log(sink); // keep the loop's result alive
  return { nsPerOp: median(times), runsNs: times, hitRate: hits / n };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A fresh flat copy of a string, as a request parser would produce. */
function fresh(text: string): string {
  return decoder.decode(encoder.encode(text));
}

/**
 * Requests from sample templates, chosen deterministically. Every request
 * gets its own host and path strings (10% of hosts upper-cased), as a
 * server would hand them over.
 */
export function requestsFrom(samples: readonly Sample[], count: number, seed = 7): RouteRequest[] {
  const rand = prng(seed);
  const fill = (template: string) =>
    template.replace(
      /[#%]/g,
      (c) => c === "#" ? String(Math.floor(rand() * 100_000)) : WORDS[Math.floor(rand() * WORDS.length)]!,
    );
  const out: RouteRequest[] = [];
  for (let i = 0; i < count; i++) {
    const s = samples[Math.floor(rand() * samples.length)]!;
    const host = fill(s.host);
    out.push(plainRequest(fresh(rand() < 0.1 ? host.toUpperCase() : host), fresh(fill(s.path))));
  }
  return out;
}
