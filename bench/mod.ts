/**
 * `deno task bench`: compile time of a large generated config and route
 * lookup time for a small and a large server, printed as a table with the
 * two targets:
 *
 * - 10,000 locations compile in under 1 s;
 * - a lookup among 10,000 locations takes at most 2 × a lookup among 10.
 *
 * Then the comparison of the proxy with nginx and HAProxy (`bench/proxy/`,
 * a few minutes; see bench/README.md). `deno task bench proxy` runs only
 * that comparison, `deno task bench routes` only the tables above.
 * `deno task bench fuzz [--cases 20000] [--seed N]` runs only the config
 * fuzzer (bench/config_fuzz_bench.ts).
 *
 * Options: `--quick` (fewer runs), `--linear` (also time the linear oracle);
 * the proxy comparison's options are in `bench/proxy/mod.ts`.
 *
 * @module
 */
import {
  benchCompile,
  benchLookup,
  generateConfig,
  type LookupTiming,
  median,
  type RankedServer,
  rankedServer,
  requestsFrom,
} from "./compile_bench.ts";
import type { RouteRequest } from "../compiler/mod.ts";
import { fmt, table } from "./table.ts";

// `deno task bench fuzz`: only the config fuzzer, 20,000 cases by default.
if (Deno.args[0] === "fuzz") {
  const { main } = await import("./config_fuzz_bench.ts");
  Deno.exit(await main(Deno.args.slice(1)));
}

// `deno task bench proxy`: only the (slow) comparison with nginx and HAProxy.
if (Deno.args[0] === "proxy") {
  const { main } = await import("./proxy/mod.ts");
  Deno.exit(await main(Deno.args.slice(1)));
}

const quick = Deno.args.includes("--quick");
const withLinear = Deno.args.includes("--linear");

console.log(
  `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${navigator.hardwareConcurrency} CPUs${quick ? " (quick)" : ""}\n`,
);

// Compile: 10,000 locations, 1,000 upstreams, 100 servers.
const big = generateConfig({ locations: 10_000, upstreams: 1_000, servers: 100, seed: 1 });
const compile = benchCompile(big.text, { runs: quick ? 3 : 7, warmup: quick ? 1 : 2 });
const plan = compile.plan;

// Lookup: a server with 10 locations, and the server with all 10,000.
const small = generateConfig({ locations: 10, upstreams: 10, servers: 2, seed: 2 });
const smallPlan = benchCompile(small.text, { runs: 1, warmup: 0 }).plan;
const smallServer = rankedServer(smallPlan, small.bigServer);
const bigServer = rankedServer(plan, big.bigServer);
const lookupOptions = { ops: quick ? 100_000 : 300_000, runs: quick ? 5 : 21, warmup: 2 };
// 4,096 distinct requests spread over every location (the headline), and a
// hot set of 64 requests (most traffic hits few routes; the table's hot part
// then stays in the CPU caches).
//
// The two servers are timed in alternation, one run of each at a time: on a
// shared machine, speed drifts over seconds, and two medians taken one after
// the other would compare the machine's phases as much as the lookups. The
// ratio is the median of the ratios of adjacent runs, for the same reason.
function benchLookupPair(
  a: RankedServer,
  aRequests: readonly RouteRequest[],
  b: RankedServer,
  bRequests: readonly RouteRequest[],
): [LookupTiming, LookupTiming, number[]] {
  const { ops, runs, warmup } = lookupOptions;
  const aRuns: LookupTiming[] = [];
  const bRuns: LookupTiming[] = [];
  for (let i = 0; i < runs; i++) {
    aRuns.push(benchLookup(a, aRequests, { ops, runs: 1, warmup: i === 0 ? warmup : 0 }));
    bRuns.push(benchLookup(b, bRequests, { ops, runs: 1, warmup: i === 0 ? warmup : 0 }));
  }
  const merge = (list: LookupTiming[]): LookupTiming => {
    const runsNs = list.map((t) => t.nsPerOp);
    return { nsPerOp: median(runsNs), runsNs, hitRate: list[0]!.hitRate };
  };
  const ratios = bRuns.map((t, i) => t.nsPerOp / aRuns[i]!.nsPerOp).sort((x, y) => x - y);
  return [merge(aRuns), merge(bRuns), ratios];
}
const [smallLookup, bigLookup, ratios] = benchLookupPair(
  smallServer,
  requestsFrom(small.samples, 4096),
  bigServer,
  requestsFrom(big.samples, 4096),
);
const ratio = median(ratios);
const [smallHot, bigHot, hotRatios] = benchLookupPair(
  smallServer,
  requestsFrom(small.samples, 64),
  bigServer,
  requestsFrom(big.samples, 64),
);
const hotRatio = median(hotRatios);
const range = (list: readonly number[]) => `${fmt(list[0]!, 2)}–${fmt(list[list.length - 1]!, 2)}`;

const rows: string[][] = [
  ["Measure", "Value", "Detail"],
  [
    "Compile 10,000 locations / 1,000 upstreams / 100 servers",
    `${fmt(compile.medianMs)} ms`,
    `median of ${compile.runsMs.length} runs (${compile.runsMs.map((t) => fmt(t, 0)).join(", ")}); ${
      fmt(compile.bytes / 1024, 0)
    } KiB TOML`,
  ],
  [
    "Lookup, server with 10 locations",
    `${fmt(smallLookup.nsPerOp)} ns/op`,
    `median of ${smallLookup.runsNs.length} × ${lookupOptions.ops.toLocaleString("en-US")} lookups; ${
      fmt(smallLookup.hitRate * 100, 0)
    }% hit`,
  ],
  [
    "Lookup, server with 10,000 locations",
    `${fmt(bigLookup.nsPerOp)} ns/op`,
    `median of ${bigLookup.runsNs.length} × ${lookupOptions.ops.toLocaleString("en-US")} lookups; ${
      fmt(bigLookup.hitRate * 100, 0)
    }% hit`,
  ],
  [
    "Lookup ratio 10,000 / 10",
    `${fmt(ratio, 2)} ×`,
    `4,096 distinct requests over all locations; median of ${ratios.length} paired runs (${range(ratios)})`,
  ],
  ["Lookup, 10 locations, hot set", `${fmt(smallHot.nsPerOp)} ns/op`, "64 distinct requests"],
  ["Lookup, 10,000 locations, hot set", `${fmt(bigHot.nsPerOp)} ns/op`, "64 distinct requests"],
  [
    "Lookup ratio 10,000 / 10, hot set",
    `${fmt(hotRatio, 2)} ×`,
    `for information (${range(hotRatios)}); the target uses the rows above`,
  ],
];
if (withLinear) {
  const linear = benchLookup(bigServer, requestsFrom(big.samples, 4096), {
    ...lookupOptions,
    ops: 2_000,
    warmup: 1,
    linear: true,
  });
  rows.push([
    "Linear oracle, 10,000 locations",
    `${fmt(linear.nsPerOp)} ns/op`,
    `median of ${linear.runsNs.length} × 2,000 lookups`,
  ]);
}
console.log(table(rows));

const targets: [string, boolean, string][] = [
  ["10,000 locations compile in under 1 s", compile.medianMs < 1000, `${fmt(compile.medianMs)} ms`],
  ["lookup with 10,000 ≤ 2 × lookup with 10", ratio <= 2, `${fmt(ratio, 2)} ×`],
];
console.log("\n" + table([["Target", "Holds", "Measured"], ...targets.map(([t, ok, m]) => [t, ok ? "yes" : "NO", m])]));

if (Deno.args[0] !== "routes") {
  console.log("");
  const { main } = await import("./proxy/mod.ts");
  Deno.exit(await main(Deno.args));
}
