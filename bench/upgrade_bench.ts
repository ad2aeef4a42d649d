/**
 * `deno run -A bench/upgrade_bench.ts [N]`: failed requests across repeated `--upgrade`s
 * under load. An origin, then our proxy (`mod.ts start`) on a fixed port;
 * wrk drives it while a new process takes over every few seconds. Printed
 * per client mode: requests, and failed ones (socket errors and non-2xx answers).
 *
 * Modes: keep-alive connections (wrk's default) and a new connection per
 * request (`Connection: close`), which exercises the listen queues.
 *
 * @module
 */
import { freePort } from "../tests/_support/origin.ts";
import { type Child, spawnDeno } from "../tests/_support/process.ts";
import { START_ARGS, upgradeConfig } from "../tests/_support/upgrade.ts";
import { type LoadResult, wrk } from "./proxy/load.ts";

/** One mode's outcome. */
export interface UpgradeRow {
  readonly mode: string;
  readonly upgrades: number;
  readonly wrk: LoadResult;
}

async function startProxy(file: string, upgrade: boolean): Promise<Child> {
  const child = spawnDeno(upgrade ? [...START_ARGS, file, "--upgrade"] : [...START_ARGS, file]);
  await child.waitFor(/listening on/);
  return child;
}

/** Runs `upgrades` takeovers, `every` ms apart, under wrk with `headers`. */
export async function measureUpgrades(
  options: { upgrades: number; every: number; connections: number; headers?: string[] },
): Promise<LoadResult> {
  const origin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("hello world\n"));
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  const port = freePort();
  await Deno.writeTextFile(file, upgradeConfig(`127.0.0.1:${origin.addr.port}`, port, `${dir}/pingap.pid`, "1s"));
  const children: Child[] = [await startProxy(file, false)];
  try {
    const seconds = Math.ceil(((options.upgrades + 1) * options.every) / 1000);
    const load = wrk("wrk", {
      url: `http://127.0.0.1:${port}/`,
      connections: options.connections,
      seconds,
      headers: options.headers ?? [],
    });
    for (let i = 0; i < options.upgrades; i++) {
      await new Promise((r) => setTimeout(r, options.every));
      const old = children[children.length - 1]!;
      children.push(await startProxy(file, true));
      await old.waitFor(/shutting down/, 5_000);
    }
    return await load;
  } finally {
    await Promise.allSettled(children.map((c) => c.stop()));
    await origin.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const upgrades = Number(Deno.args[0] ?? 10);
  const rows: UpgradeRow[] = [];
  for (const [mode, headers] of [["keep-alive", []], ["new connection per request", ["Connection: close"]]] as const) {
    rows.push({
      mode,
      upgrades,
      wrk: await measureUpgrades({ upgrades, every: 1500, connections: 50, headers: [...headers] }),
    });
  }
  console.log("| client | upgrades | requests | req/s | failed (socket errors + non-2xx) |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.mode} | ${r.upgrades} | ${r.wrk.requests} | ${Math.round(r.wrk.rps)} | ${r.wrk.errors} |`);
  }
}
