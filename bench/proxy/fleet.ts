/**
 * Every server of the proxy bench, started once in a temp dir: the nginx
 * origin, nginx and HAProxy as proxies, our proxy in its variants (one
 * location, the same on Deno.serve alone, 10,000 locations, access log + metrics, two workers, gzip, cache), nginx
 * with `gzip on` and with `proxy_cache`, a bare `Deno.serve` and the two floors of `/ping` (see configs.ts). A server
 * whose program is missing is left out, and so is one no row of the run needs (`--only`).
 *
 * @module
 */
import {
  bareDenoServe,
  haproxyConfig,
  type NginxProxyVariant,
  originNginx,
  type OurConfig,
  ourStaticToml,
  ourToml,
  pongDenoServe,
  pongRawListen,
  proxyNginx,
  writeBodies,
} from "./configs.ts";
import { type BenchProcess, freePort, spawnServer } from "./procs.ts";
import type { BenchTools } from "./tools.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Names of the servers under test. */
export type ServerName =
  | "nginx"
  | "haproxy"
  | "ours"
  | "ours_serve"
  | "ours_10k"
  | "ours_log"
  | "ours_2w"
  | "ours_access"
  | "deno_bare"
  | "deno_pong_header"
  | "raw_pong"
  | "nginx_static"
  | "ours_static"
  | "nginx_gzip"
  | "ours_gzip"
  | "nginx_cache"
  | "ours_cache";

/** A server under test: its HTTP/1.1 port and, for the proxies, an h2c port. */
export interface Endpoint {
  readonly proc: BenchProcess;
  readonly port: number;
  readonly h2cPort?: number;
}

/** The started servers. */
export interface Fleet {
  readonly dir: string;
  readonly origin: BenchProcess;
  readonly servers: Partial<Record<ServerName, Endpoint>>;
  /** Why servers are missing. */
  readonly skipped: string[];
  stop(): Promise<void>;
}

function limitOf(tools: BenchTools) {
  return tools.prlimit ? { prlimit: { path: tools.prlimit, nofile: tools.fileLimit } } : {};
}

function deno(
  name: string,
  dir: string,
  tools: BenchTools,
  file: string,
  port: number,
  proxy: boolean,
  env?: Record<string, string>,
) {
  const args = proxy
    ? ["run", "--allow-all", "--unstable-net", "--unstable-no-legacy-abort", "mod.ts", "start", "-c", file]
    : ["run", "--allow-net", file];
  return spawnServer({
    name,
    cmd: Deno.execPath(),
    args,
    port,
    cwd: ROOT,
    logFile: `${dir}/${name}.log`,
    ...limitOf(tools),
    ...(env ? { env } : {}),
  });
}

/**
 * Starts the servers the tools allow.
 *
 * @param tools Programs found.
 * @param wanted The servers the run's rows need (all when absent); the origin always starts.
 * @returns The fleet; `stop()` ends every process it started.
 */
export async function startFleet(tools: BenchTools, wanted?: ReadonlySet<ServerName>): Promise<Fleet> {
  const want = (name: ServerName) => wanted === undefined || wanted.has(name);
  const dir = await Deno.makeTempDir({ prefix: "pingap_bench_" });
  await writeBodies(dir);
  const started: BenchProcess[] = [];
  const servers: Partial<Record<ServerName, Endpoint>> = {};
  const skipped: string[] = [];
  const limit = limitOf(tools);
  const stop = async () => {
    await Promise.allSettled(started.map((p) => p.stop()));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    if (!tools.nginx) throw new Error("nginx is missing: the origin cannot start, so no row can run");
    const originPort = freePort();
    await Deno.writeTextFile(`${dir}/origin.conf`, originNginx(dir, originPort, tools.fileLimit));
    const origin = await spawnServer({
      name: "origin",
      cmd: tools.nginx,
      args: ["-c", `${dir}/origin.conf`, "-p", dir],
      port: originPort,
      logFile: `${dir}/origin.out`,
      ...limit,
    });
    started.push(origin);

    // nginx as a proxy: plain, with gzip on, with proxy_cache.
    const nginxes: [ServerName, NginxProxyVariant][] = [["nginx", "plain"], ["nginx_gzip", "gzip"], [
      "nginx_cache",
      "cache",
    ]];
    for (const [name, variant] of nginxes) {
      if (!want(name)) continue;
      const port = freePort(), h2cPort = freePort();
      const conf = proxyNginx(dir, port, h2cPort, originPort, tools.fileLimit, name, variant);
      await Deno.writeTextFile(`${dir}/${name}.conf`, conf);
      const proc = await spawnServer({
        name,
        cmd: tools.nginx,
        args: ["-c", `${dir}/${name}.conf`, "-p", dir],
        port,
        logFile: `${dir}/${name}.out`,
        ...limit,
      });
      started.push(proc);
      servers[name] = { proc, port, h2cPort };
    }

    if (!want("haproxy")) {
      // Not needed by this run's rows.
    } else if (tools.haproxy) {
      const port = freePort(), h2cPort = freePort();
      await Deno.writeTextFile(`${dir}/haproxy.cfg`, haproxyConfig(port, h2cPort, originPort, tools.fileLimit));
      const proc = await spawnServer({
        name: "haproxy",
        cmd: tools.haproxy,
        args: ["-db", "-f", `${dir}/haproxy.cfg`],
        port,
        logFile: `${dir}/haproxy.out`,
        ...limit,
      });
      started.push(proc);
      servers.haproxy = { proc, port, h2cPort };
    } else skipped.push("HAProxy rows: haproxy is missing");

    const ours: [ServerName, Partial<OurConfig>, Record<string, string>?][] = [
      ["ours", {}],
      // The same proxy with Deno.serve alone on plain HTTP/1.1 instead of our front end (runtime/listen/h1).
      ["ours_serve", {}, { PINGAP_HTTP1: "deno-serve" }],
      ["ours_10k", { extraLocations: 9_999 }],
      ["ours_log", { accessLogFile: `${dir}/access.log`, metrics: true }],
      ["ours_2w", { threads: 2 }],
      ["ours_access", { accessPlugins: true }],
      ["ours_gzip", { bodyPlugin: "gzip" }],
      ["ours_cache", { bodyPlugin: "cache" }],
    ];
    for (const [name, variant, env] of ours) {
      if (!want(name)) continue;
      const port = freePort();
      const file = `${dir}/${name}.toml`;
      await Deno.writeTextFile(file, ourToml({ port, originPort, ...variant }));
      const proc = await deno(name, dir, tools, file, port, true, env);
      started.push(proc);
      servers[name] = { proc, port, h2cPort: port };
    }

    // The static row: nginx (the origin) and our directory plugin serving the same files.
    servers.nginx_static = { proc: origin, port: originPort };
    if (want("ours_static")) {
      const port = freePort();
      const file = `${dir}/ours_static.toml`;
      await Deno.writeTextFile(file, ourStaticToml(port, `${dir}/www`));
      const proc = await deno("ours_static", dir, tools, file, port, true);
      started.push(proc);
      servers.ours_static = { proc, port };
    }

    // The /ping row's baseline, and the two floors of /ping: no JavaScript front end answers it faster.
    const floors: [ServerName, (port: number) => string][] = [
      ["deno_bare", bareDenoServe],
      ["deno_pong_header", pongDenoServe],
      ["raw_pong", pongRawListen],
    ];
    for (const [name, source] of floors) {
      if (!want(name)) continue;
      const port = freePort();
      await Deno.writeTextFile(`${dir}/${name}.ts`, source(port));
      const proc = await deno(name, dir, tools, `${dir}/${name}.ts`, port, false);
      started.push(proc);
      servers[name] = { proc, port };
    }
    return { dir, origin, servers, skipped, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
