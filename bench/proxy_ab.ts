/**
 * A/B of two checkouts of this proxy on the same origin: the figures a change to the request path owes its note.
 *
 * Both proxies run the bench's TOML (`bench/proxy/configs.ts`) against one nginx origin, each pinned to core 1 with
 * `taskset`, while `wrk` and the origin share core 0. Rounds alternate A, B, A, B… so that the machine's phases fall
 * on both alike; each round prints req/s and the proxy's CPU µs per request (from `/proc`), and the end prints the
 * medians and B's ratio to A.
 *
 * ```sh
 * git worktree add --detach ../base <commit-before>
 * deno run -A bench/proxy_ab.ts --a ../base --b . [--rows small,ping,64k,1m,post,chunked,post-chunked] [--rounds 5] [--seconds 4]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { originNginx, ourToml, writeBodies } from "./proxy/configs.ts";
import { postScript, wrk } from "./proxy/load.ts";
import { type BenchProcess, freePort, spawnServer } from "./proxy/procs.ts";

/** One row: a path, and the wrk script that makes it a POST. */
interface AbRow {
  readonly name: string;
  readonly path: string;
  readonly post?: number;
  /** The POST body goes chunked, in 4 KiB chunks (the front end's chunked decoder). */
  readonly chunked?: boolean;
}

const ROWS: readonly AbRow[] = [
  { name: "small", path: "/small" },
  { name: "ping", path: "/ping" },
  { name: "64k", path: "/64k" },
  { name: "1m", path: "/1m" },
  { name: "post", path: "/post", post: 16 * 1024 },
  // The origin answers chunked (nginx's SSI filter drops the length): the upstream client's chunked decoder.
  { name: "chunked", path: "/64k-chunked" },
  { name: "post-chunked", path: "/post", post: 16 * 1024, chunked: true },
];

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function startProxy(label: string, checkout: string, dir: string, originPort: number): Promise<BenchProcess> {
  const port = freePort();
  const conf = `${dir}/${label}.toml`;
  await Deno.writeTextFile(conf, ourToml({ port, originPort }));
  return spawnServer({
    name: label,
    cmd: "taskset",
    args: [
      "-c",
      "1",
      Deno.execPath(),
      "run",
      "--allow-all",
      "--unstable-net",
      "--unstable-no-legacy-abort",
      `${checkout}/mod.ts`,
      "start",
      "-c",
      conf,
    ],
    port,
    logFile: `${dir}/${label}.log`,
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      a: { type: "string" },
      b: { type: "string" },
      rows: { type: "string", default: "small,ping,64k,1m,post" },
      rounds: { type: "string", default: "5" },
      seconds: { type: "string", default: "4" },
      connections: { type: "string", default: "50" },
    },
  });
  if (!values.a || !values.b) throw new Error("Give both checkouts: --a DIR --b DIR");
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const wanted = values.rows.split(",");
  const rows = ROWS.filter((r) => wanted.includes(r.name));
  const dir = await Deno.makeTempDir({ prefix: "proxy_ab_" });
  await writeBodies(dir);
  // wrk on core 0, beside the origin; the proxies have core 1 to themselves.
  const pinnedWrk = `${dir}/wrk.sh`;
  await Deno.writeTextFile(pinnedWrk, '#!/bin/sh\nexec taskset -c 0 wrk "$@"\n', { mode: 0o755 });
  const originPort = freePort();
  await Deno.writeTextFile(`${dir}/origin.conf`, originNginx(dir, originPort, 4096));
  const origin = await spawnServer({
    name: "origin",
    cmd: "taskset",
    args: ["-c", "0", "nginx", "-c", `${dir}/origin.conf`],
    port: originPort,
    logFile: `${dir}/origin.log`,
  });
  const proxies = {
    A: await startProxy("A", values.a, dir, originPort),
    B: await startProxy("B", values.b, dir, originPort),
  };
  try {
    for (const row of rows) {
      const script = row.post ? await postScript(dir, row.post, row.chunked) : undefined;
      const figures = {
        A: { rps: [] as number[], cpu: [] as number[] },
        B: { rps: [] as number[], cpu: [] as number[] },
      };
      // A warm-up each, then alternating rounds.
      for (const p of Object.values(proxies)) {
        await wrk(pinnedWrk, {
          url: `http://127.0.0.1:${p.port}${row.path}`,
          seconds: 1,
          connections,
          ...(script ? { script } : {}),
        });
      }
      for (let i = 0; i < rounds; i++) {
        for (const label of (i % 2 === 0 ? ["A", "B"] : ["B", "A"]) as ("A" | "B")[]) {
          const p = proxies[label];
          const before = await p.cpu();
          const r = await wrk(pinnedWrk, {
            url: `http://127.0.0.1:${p.port}${row.path}`,
            seconds,
            connections,
            ...(script ? { script } : {}),
          });
          const cpu = (await p.cpu()) - before;
          figures[label].rps.push(r.rps);
          figures[label].cpu.push(cpu / Math.max(1, r.requests));
          console.log(
            `${row.name.padEnd(6)} round ${i + 1} ${label}: ${Math.round(r.rps)} req/s, ` +
              `${(cpu / Math.max(1, r.requests)).toFixed(1)} µs CPU/req, ${r.errors} errors`,
          );
        }
      }
      const a = { rps: median(figures.A.rps), cpu: median(figures.A.cpu) };
      const b = { rps: median(figures.B.rps), cpu: median(figures.B.cpu) };
      console.log(
        `== ${row.name}: A ${Math.round(a.rps)} req/s ${a.cpu.toFixed(1)} µs | B ${Math.round(b.rps)} req/s ` +
          `${b.cpu.toFixed(1)} µs | B/A req/s ${(b.rps / a.rps).toFixed(3)}, CPU ${(b.cpu / a.cpu).toFixed(3)}`,
      );
    }
  } finally {
    await proxies.A.stop();
    await proxies.B.stop();
    await origin.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
