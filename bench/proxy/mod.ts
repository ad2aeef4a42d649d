/**
 * `deno task bench proxy`: our proxy against nginx and HAProxy in one run.
 *
 * Starts an nginx origin (1 worker), nginx as a proxy (1 worker, upstream
 * keepalive), HAProxy (1 thread, `http-reuse always`), our proxy (1 worker,
 * `mod.ts start` on a generated config; also with 10,000 locations, with
 * access log + metrics, with 2 workers) and a bare `Deno.serve`; drives them
 * with wrk (h2load for h2c) in alternation after a warm-up, and prints one
 * table of req/s, p50/p99 and ratios, then RSS at idle and with 10,000 idle
 * keep-alive connections. Figures, not tests: nothing here asserts a timing.
 *
 * Options: `--quick` (2 s runs, 1 round), `--seconds N`, `--rounds N`,
 * `--connections N` (default 50), `--only TEXT` (rows whose label contains
 * it; `rss`: only the RSS table), `--no-idle` (skip the 10,000-connection RSS row), `--tls` (also the TLS
 * rows of `bench/https_bench.ts`).
 *
 * @module
 */
import { fmt, table } from "../table.ts";
import { type Fleet, type ServerName, startFleet } from "./fleet.ts";
import { holdConnections } from "./idle.ts";
import { postScript } from "./load.ts";
import { measureRow, type RowResult, rowSpecs, type RunOptions } from "./rows.ts";
import { type BenchTools, findTools, raiseFileLimit } from "./tools.ts";

const LABELS: Record<ServerName, string> = {
  nginx: "nginx 1w",
  haproxy: "HAProxy 1t",
  ours: "ours 1w",
  ours_serve: "ours 1w, Deno.serve",
  ours_10k: "ours 1w, 10,000 loc.",
  ours_log: "ours 1w, log+metrics",
  ours_2w: "ours 2w",
  ours_access: "ours 1w, basic_auth + ip_restriction + limit",
  deno_bare: "bare Deno.serve",
  deno_pong_header: "Deno.serve, pong + cache-control",
  raw_pong: "Deno.listen loop, fixed pong",
  nginx_static: "nginx 1w, static files",
  ours_static: "ours 1w, directory plugin",
  nginx_gzip: "nginx 1w, gzip on",
  ours_gzip: "ours 1w, compression plugin",
  nginx_cache: "nginx 1w, proxy_cache",
  ours_cache: "ours 1w, cache plugin",
};

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function rowLines(rows: readonly RowResult[]): string[][] {
  const out: string[][] = [[
    "Row",
    "Server",
    "req/s (median)",
    "range",
    "p50 ms",
    "p99 ms",
    "ratio",
    "CPU µs/req",
    "errors",
  ]];
  for (const row of rows) {
    if (row.skipped) {
      out.push([row.spec.label, `SKIPPED: ${row.skipped}`]);
      continue;
    }
    for (const m of row.measured) {
      const rps = m.runs.map((r) => r.rps);
      out.push([
        m === row.measured[0] ? row.spec.label : "",
        LABELS[m.server],
        fmt(m.rps, 0),
        `${fmt(Math.min(...rps), 0)}–${fmt(Math.max(...rps), 0)}`,
        fmt(m.p50, 2),
        fmt(m.p99, 2),
        Number.isNaN(m.ratio) ? "baseline" : `${fmt(m.ratio, 2)} × ${LABELS[row.spec.baseline]}`,
        fmt(m.cpuPerRequest, 0),
        String(m.errors),
      ]);
    }
  }
  return out;
}

async function rssRows(tools: BenchTools, fleet: Fleet, idle: Map<ServerName, number>, hold: boolean) {
  const out: string[][] = [["Server", "RSS idle (MiB)", "RSS with 10,000 idle keep-alive conns (MiB)", "held"]];
  const mib = (n: number) => fmt(n / 1024 / 1024, 1);
  const raised = hold && await raiseFileLimit(tools);
  for (const name of ["nginx", "haproxy", "ours"] as const) {
    const ep = fleet.servers[name];
    if (!ep) continue;
    let loaded = "skipped", held = "";
    if (hold) {
      const conns = await holdConnections(ep.port, 10_000);
      await new Promise((r) => setTimeout(r, 1000));
      loaded = mib(await ep.proc.rss());
      held = `${conns.open}${raised ? "" : " (ulimit -n not raised)"}`;
      conns.release();
      await new Promise((r) => setTimeout(r, 1000));
    }
    out.push([LABELS[name], mib(idle.get(name) ?? NaN), loaded, held]);
  }
  return out;
}

async function tlsRows(seconds: number): Promise<string> {
  const { runHttpsBench, httpsTable } = await import("../https_bench.ts");
  return httpsTable(await runHttpsBench({ seconds }));
}

/**
 * Runs the comparison and prints it.
 *
 * @param args Command-line options (see the module doc).
 * @returns The exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  const quick = args.includes("--quick");
  const options: RunOptions = {
    seconds: Number(option(args, "--seconds") ?? (quick ? 2 : 5)),
    rounds: Number(option(args, "--rounds") ?? (quick ? 1 : 3)),
    // A proxy just started still collects its start-up garbage under load (10,000 locations: the first ~10 s).
    warmup: quick ? 1 : 5,
    connections: Number(option(args, "--connections") ?? 50),
  };
  const only = option(args, "--only");
  const tools = await findTools();
  // With --only, only the servers of the chosen rows start (all of them for the RSS table).
  const chosen = only && only !== "rss" ? rowSpecs("").filter((r) => r.label.includes(only)) : undefined;
  const fleet = await startFleet(tools, chosen && new Set(chosen.flatMap((r) => r.servers)));
  try {
    const idle = new Map<ServerName, number>();
    for (const [name, ep] of Object.entries(fleet.servers)) idle.set(name as ServerName, await ep.proc.rss());
    console.log(
      `Proxy comparison: Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs shared by load generator, ` +
        `origin and proxy; ${options.rounds} round(s) of ${options.seconds} s per server, ` +
        `${options.connections} connections, alternating.`,
    );
    for (const s of fleet.skipped) console.log(`SKIPPED: ${s}`);
    const script = await postScript(fleet.dir, 16 * 1024);
    const results: RowResult[] = [];
    for (const spec of rowSpecs(script)) {
      if (only && !spec.label.includes(only)) continue;
      const r = await measureRow(tools, fleet, spec, options);
      console.error(`[bench] ${spec.label}: ${r.measured.map((m) => `${m.server} ${fmt(m.rps, 0)}`).join(", ")}`);
      results.push(r);
    }
    if (results.length) console.log("\n" + table(rowLines(results)));
    console.log(
      "\n" + table(await rssRows(tools, fleet, idle, !args.includes("--no-idle") && (!only || only === "rss"))),
    );
    if (args.includes("--tls")) console.log("\n" + await tlsRows(options.seconds));
    return 0;
  } finally {
    await fleet.stop();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
