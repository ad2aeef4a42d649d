/**
 * `deno task bench upgrade`: failed requests across repeated `--upgrade`s
 * under load. An origin, then our proxy (`mod.ts start`) on a fixed port;
 * wrk drives it while a new process takes over every few seconds. Printed
 * per client mode: requests, socket errors and non-2xx answers.
 *
 * Modes: keep-alive connections (wrk's default) and a new connection per
 * request (`Connection: close`), which exercises the listen queues.
 *
 * @module
 */
import { freePort } from "../tests/_support/origin.ts";
import { type Child, spawnDeno } from "../tests/_support/process.ts";
import { START_ARGS, upgradeConfig } from "../tests/_support/upgrade.ts";

/** What wrk reported. */
export interface WrkResult {
  readonly requests: number;
  readonly rps: number;
  readonly non2xx: number;
  readonly errors: { connect: number; read: number; write: number; timeout: number };
}

async function runWrk(
  url: string,
  options: { connections: number; seconds: number; headers: readonly string[] },
): Promise<WrkResult> {
  const args = [
    "-t1",
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    ...options.headers.flatMap((h) => ["-H", h]),
  ];
  const out = await new Deno.Command("wrk", { args: [...args, url], stdout: "piped", stderr: "inherit" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const num = (re: RegExp) => Number(text.match(re)?.[1] ?? 0);
  const e = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requests: num(/(\d+) requests in/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    errors: {
      connect: Number(e?.[1] ?? 0),
      read: Number(e?.[2] ?? 0),
      write: Number(e?.[3] ?? 0),
      timeout: Number(e?.[4] ?? 0),
    },
  };
}

/** One mode's outcome. */
export interface UpgradeRow {
  readonly mode: string;
  readonly upgrades: number;
  readonly wrk: WrkResult;
}

async function startProxy(file: string, upgrade: boolean): Promise<Child> {
  const child = spawnDeno(upgrade ? [...START_ARGS, file, "--upgrade"] : [...START_ARGS, file]);
  await child.waitFor(/listening on/);
  return child;
}

/** Runs `upgrades` takeovers, `every` ms apart, under wrk with `headers`. */
export async function measureUpgrades(
  options: { upgrades: number; every: number; connections: number; headers?: string[] },
): Promise<WrkResult> {
  const origin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("hello world\n"));
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  const port = freePort();
  await Deno.writeTextFile(file, upgradeConfig(`127.0.0.1:${origin.addr.port}`, port, `${dir}/pingap.pid`, "1s"));
  const children: Child[] = [await startProxy(file, false)];
  try {
    const seconds = Math.ceil(((options.upgrades + 1) * options.every) / 1000);
    const load = runWrk(`http://127.0.0.1:${port}/`, {
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
  console.log("| client | upgrades | requests | req/s | socket errors | non-2xx |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) {
    const e = r.wrk.errors;
    console.log(
      `| ${r.mode} | ${r.upgrades} | ${r.wrk.requests} | ${
        Math.round(r.wrk.rps)
      } | connect ${e.connect}, read ${e.read}, write ${e.write}, timeout ${e.timeout} | ${r.wrk.non2xx} |`,
    );
  }
}
