/**
 * `deno run -A bench/proxy/profile.ts [--seconds N] [--path /small] [--locations N] [--observe] [--top N] [--keep]`: profiles our proxy under
 * wrk. Starts the nginx origin and our proxy (`mod.ts start`, one worker) with `--cpu-prof`, drives it with wrk,
 * stops it, and prints the functions with the most self time (and the profile's path with `--keep`).
 *
 * @module
 */
import { originNginx, ourToml, writeBodies } from "./configs.ts";
import { wrk } from "./load.ts";
import { freePort, spawnServer } from "./procs.ts";
import { findTools } from "./tools.ts";
import { fmt, table } from "../table.ts";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
}

/**
 * Self time per function of a V8 `.cpuprofile`, largest first.
 *
 * @param profile The parsed profile.
 * @returns `[function at file:line, share of samples]` pairs.
 */
export function selfTimes(profile: { nodes: readonly ProfileNode[] }): [string, number][] {
  const by = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const f = n.callFrame;
    const file = f.url.replace(/^.*\/(main|deno)\//, "").replace(/^ext:/, "ext:");
    const key = `${f.functionName || "(anonymous)"} ${file ? `${file}:${f.lineNumber + 1}` : ""}`.trim();
    by.set(key, (by.get(key) ?? 0) + hits);
  }
  return [...by].map(([k, v]): [string, number] => [k, v / total]).sort((a, b) => b[1] - a[1]);
}

async function main(args: readonly string[]): Promise<void> {
  const opt = (name: string, dflt: string) =>
    args[args.indexOf(name) + 1] && args.includes(name) ? args[args.indexOf(name) + 1]! : dflt;
  const tools = await findTools();
  if (!tools.nginx || !tools.wrk) throw new Error("profile needs nginx and wrk");
  const dir = await Deno.makeTempDir({ prefix: "pingap_prof_" });
  await writeBodies(dir);
  const originPort = freePort(), port = freePort();
  await Deno.writeTextFile(`${dir}/origin.conf`, originNginx(dir, originPort, tools.fileLimit));
  await Deno.writeTextFile(
    `${dir}/ours.toml`,
    ourToml({
      port,
      originPort,
      extraLocations: Number(opt("--locations", "1")) - 1,
      ...(args.includes("--observe") ? { accessLogFile: `${dir}/access.log`, metrics: true } : {}),
    }),
  );
  const origin = await spawnServer({
    name: "origin",
    cmd: tools.nginx,
    args: ["-c", `${dir}/origin.conf`, "-p", dir],
    port: originPort,
    logFile: `${dir}/origin.out`,
  });
  const ours = await spawnServer({
    name: "ours",
    cmd: Deno.execPath(),
    args: [
      "run",
      "--allow-all",
      "--unstable-net",
      "--unstable-no-legacy-abort",
      "--cpu-prof",
      `--cpu-prof-dir=${dir}/prof`,
      "mod.ts",
      "start",
      "-c",
      `${dir}/ours.toml`,
    ],
    port,
    cwd: new URL("../../", import.meta.url).pathname,
    logFile: `${dir}/ours.log`,
  });
  try {
    const url = `http://127.0.0.1:${port}${opt("--path", "/small")}`;
    await wrk(tools.wrk, { url, seconds: 2, connections: 50 });
    const r = await wrk(tools.wrk, { url, seconds: Number(opt("--seconds", "10")), connections: 50 });
    console.log(`${url}: ${fmt(r.rps, 0)} req/s (under the profiler), p99 ${fmt(r.p99, 2)} ms, ${r.errors} errors`);
  } finally {
    await ours.stop();
    await origin.stop();
  }
  const files = [...Deno.readDirSync(`${dir}/prof`)].map((e) => `${dir}/prof/${e.name}`);
  if (files.length === 0) throw new Error(`no profile written; log:\n${await Deno.readTextFile(`${dir}/ours.log`)}`);
  const top = selfTimes(JSON.parse(await Deno.readTextFile(files[0]!))).slice(0, Number(opt("--top", "30")));
  console.log(table([["Self time", "Function"], ...top.map(([k, v]) => [`${fmt(v * 100, 1)} %`, k])]));
  if (args.includes("--keep")) console.log(`profile: ${files[0]}`);
  else await Deno.remove(dir, { recursive: true });
}

if (import.meta.main) await main(Deno.args);
