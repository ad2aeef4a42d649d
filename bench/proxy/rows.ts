/**
 * The rows of the proxy comparison and how they are measured: each row
 * names the servers it compares and its baseline; the servers of a row are
 * driven in alternation, round after round (the first server of a round
 * rotates), after a warm-up, and each figure is the median of the rounds
 * with the range beside it.
 *
 * @module
 */
import type { Fleet, ServerName } from "./fleet.ts";
import { h2load, type LoadResult, wrk } from "./load.ts";
import type { BenchTools } from "./tools.ts";
import { finiteMedian as median } from "../table.ts";
import { BENCH_AUTHORIZATION, CACHED_PREFIX, GZIP_LEVEL, TEXT_BODY } from "./configs.ts";

/** One comparison. */
export interface RowSpec {
  readonly label: string;
  readonly path: string;
  readonly servers: readonly ServerName[];
  /** The server each ratio is taken against. */
  readonly baseline: ServerName;
  readonly tool: "wrk" | "h2load";
  /** wrk script (POST). */
  readonly script?: string;
  /** Request fields wrk sends (`Name: value`). */
  readonly headers?: readonly string[];
}

/** The figures of one server in one row. */
export interface Measured {
  readonly server: ServerName;
  readonly runs: readonly LoadResult[];
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** The server's CPU time per request (user + system, its processes only), µs; median of the rounds. */
  readonly cpuPerRequest: number;
  /** Median of per-round ratios to the baseline (same round), NaN for the baseline itself. */
  readonly ratio: number;
}

/** A measured row (or why it was skipped). */
export interface RowResult {
  readonly spec: RowSpec;
  readonly measured: readonly Measured[];
  readonly skipped?: string;
}

/** Run sizes. */
export interface RunOptions {
  readonly seconds: number;
  readonly rounds: number;
  readonly warmup: number;
  readonly connections: number;
}

/** The rows of the issue, given the POST script path. */
export function rowSpecs(postScript: string): RowSpec[] {
  const proxies: ServerName[] = ["nginx", "haproxy", "ours"];
  return [
    { label: "small (18 B)", path: "/small", servers: proxies, baseline: "nginx", tool: "wrk" },
    { label: "64 KB", path: "/64k", servers: proxies, baseline: "nginx", tool: "wrk" },
    { label: "1 MB", path: "/1m", servers: proxies, baseline: "nginx", tool: "wrk" },
    { label: "POST 16 KB", path: "/post", servers: proxies, baseline: "nginx", tool: "wrk", script: postScript },
    {
      label: "/ping: plugin vs bare Deno.serve",
      path: "/ping",
      // With the two floors: no JavaScript front end answers Pingap's pong faster than these.
      servers: ["deno_bare", "deno_pong_header", "raw_pong", "ours"],
      baseline: "deno_bare",
      tool: "wrk",
    },
    {
      label: "small: own HTTP/1.1 front end vs Deno.serve",
      path: "/small",
      servers: ["ours_serve", "ours"],
      baseline: "ours_serve",
      tool: "wrk",
    },
    {
      label: "small, 10,000 locations vs 1",
      path: "/small",
      servers: ["ours", "ours_10k"],
      baseline: "ours",
      tool: "wrk",
    },
    {
      label: "small, access log + metrics on vs off",
      path: "/small",
      servers: ["ours", "ours_log"],
      baseline: "ours",
      tool: "wrk",
    },
    {
      label: "small, basic_auth + ip_restriction + limit vs none",
      path: "/small",
      servers: ["ours", "ours_access"],
      baseline: "ours",
      tool: "wrk",
      headers: [BENCH_AUTHORIZATION],
    },
    { label: "small, 2 workers vs 1", path: "/small", servers: ["ours", "ours_2w"], baseline: "ours", tool: "wrk" },
    {
      label: "static 64 KB file: directory plugin vs nginx",
      path: "/64k",
      servers: ["nginx_static", "ours_static"],
      baseline: "nginx_static",
      tool: "wrk",
    },
    {
      label: `64 KB text compressed with gzip (level ${GZIP_LEVEL}): compression plugin vs nginx gzip on`,
      path: TEXT_BODY.path,
      servers: ["nginx_gzip", "ours_gzip"],
      baseline: "nginx_gzip",
      tool: "wrk",
      headers: ["Accept-Encoding: gzip"],
    },
    {
      // The origin answers `max-age=3600`: after the warm-up's first request every request is a hit.
      label: "cache hit 64 KB: cache plugin (memory) vs nginx proxy_cache",
      path: `${CACHED_PREFIX}/64k`,
      servers: ["nginx_cache", "ours_cache"],
      baseline: "nginx_cache",
      tool: "wrk",
    },
    { label: "small over h2c (h2load)", path: "/small", servers: proxies, baseline: "nginx", tool: "h2load" },
  ];
}

async function once(tools: BenchTools, fleet: Fleet, spec: RowSpec, server: ServerName, seconds: number, c: number) {
  const ep = fleet.servers[server]!;
  if (spec.tool === "h2load") {
    return await h2load(tools.h2load!, { url: `http://127.0.0.1:${ep.h2cPort}${spec.path}`, seconds, connections: c });
  }
  const url = `http://127.0.0.1:${ep.port}${spec.path}`;
  return await wrk(tools.wrk!, {
    url,
    seconds,
    connections: c,
    ...(spec.script ? { script: spec.script } : {}),
    ...(spec.headers ? { headers: spec.headers } : {}),
  });
}

/**
 * Measures one row.
 *
 * @param tools Programs found.
 * @param fleet Servers started.
 * @param spec The row.
 * @param options Run sizes.
 * @returns The row's figures, or why it was skipped.
 */
export async function measureRow(
  tools: BenchTools,
  fleet: Fleet,
  spec: RowSpec,
  options: RunOptions,
): Promise<RowResult> {
  if (spec.tool === "wrk" && !tools.wrk) return { spec, measured: [], skipped: "wrk is missing" };
  if (spec.tool === "h2load" && !tools.h2load) return { spec, measured: [], skipped: "h2load is missing" };
  const servers = spec.servers.filter((s) => fleet.servers[s] !== undefined);
  if (!servers.includes(spec.baseline)) return { spec, measured: [], skipped: `${spec.baseline} is missing` };
  const c = options.connections;
  for (const s of servers) await once(tools, fleet, spec, s, options.warmup, c);
  const runs = new Map<ServerName, LoadResult[]>(servers.map((s) => [s, []]));
  const cpu = new Map<ServerName, number[]>(servers.map((s) => [s, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + r) % servers.length]!;
      const proc = fleet.servers[s]!.proc;
      const before = await proc.cpu();
      const result = await once(tools, fleet, spec, s, options.seconds, c);
      cpu.get(s)!.push((await proc.cpu() - before) / (result.rps * options.seconds));
      runs.get(s)!.push(result);
    }
  }
  const base = runs.get(spec.baseline)!;
  const measured = servers.map((server): Measured => {
    const list = runs.get(server)!;
    return {
      server,
      runs: list,
      rps: median(list.map((x) => x.rps)),
      p50: median(list.map((x) => x.p50)),
      p99: median(list.map((x) => x.p99)),
      errors: list.reduce((n, x) => n + x.errors, 0),
      cpuPerRequest: median(cpu.get(server)!),
      ratio: server === spec.baseline ? NaN : median(list.map((x, i) => x.rps / base[i]!.rps)),
    };
  });
  return { spec, measured };
}
