/**
 * HTTPS bench: TLS handshakes per second and small-response requests per
 * second over TLS (HTTP/1.1 keep-alive with wrk, HTTP/2 with h2load), for
 * our proxy (a `global_certificates` server answering `/ping` with the ping
 * plugin) next to nginx (ssl + http2, 1 worker, `return 200`) and a bare
 * `Deno.serve` with its one certificate (the ceiling of Deno's own TLS).
 * All three serve the same ECDSA P-256 certificate, made with openssl.
 *
 * Run alone: `deno run -A bench/https_bench.ts [--seconds N]`. Wired into
 * `deno task bench` through {@linkcode runHttpsBench}.
 *
 * Handshakes: `wrk -t1 -c20` with `Connection: close`, so every request
 * is a new connection and a full TLS handshake (no resumption: wrk opens
 * each connection afresh). (Batches of `h2load -n N -c N` measured h2load's
 * own start-up more than the handshakes.) Read the ratios: the machine has 2
 * shared cores and the load generator runs on them too.
 *
 * @module
 */
import { makeTestPki } from "../tests/_support/certs.ts";
import { h2load, wrk } from "./proxy/load.ts";
import { type BenchProcess, freePort, spawnServer } from "./proxy/procs.ts";
import { type BenchTools, findTools } from "./proxy/tools.ts";
import { fmt, table } from "./table.ts";
import { measureWsEcho, spawnEchoOrigin } from "./ws_echo.ts";

/** One figure of the HTTPS bench. */
export interface Row {
  /** `nginx`, `ours`, `ours_http` (the same over plain HTTP: what TLS costs us) or `deno_tls` (bare `Deno.serve`, one certificate). */
  readonly server: string;
  /**
   * `handshakes/s`, `req/s h1` (wrk -t1 -c50 keep-alive), `req/s h2` (h2load -c10 -m5 over TLS), `req/s h2c` (the same
   * over plain HTTP/2), `req/s h1 plain` (ours without TLS: what TLS costs us) or `ws msg/s` (WebSocket echo through the server to an echo origin, 50 connections).
   */
  readonly metric: "handshakes/s" | "req/s h1" | "req/s h1 plain" | "req/s h2" | "req/s h2c" | "ws msg/s";
  /** The figure (NaN when skipped). */
  readonly value: number;
  /** 99th percentile latency, ms (NaN when the tool gives none). */
  readonly p99Ms: number;
  /** Failed requests and socket errors during the run. */
  readonly errors: number;
  /** Why skipped, when it was. */
  readonly skipped?: string;
}

/** Options of {@linkcode runHttpsBench}. */
export interface HttpsBenchOptions {
  /** Seconds per measurement (default 5). */
  readonly seconds?: number;
}

const ROOT = new URL("..", import.meta.url).pathname;

function nginxConf(dir: string, port: number, cert: string, key: string, plain: number, origin: number): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx_error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:${port} ssl http2 backlog=4096;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location = /ping { return 200 "pong"; }
  }
  server {
    listen 127.0.0.1:${plain} http2 backlog=4096;
    location = /ping { return 200 "pong"; }
  }
  map $http_upgrade $connection_upgrade { default upgrade; "" close; }
  server {
    listen 127.0.0.1:${plain + 1} backlog=4096;
    location /ws {
      proxy_pass http://127.0.0.1:${origin};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }
  }
}
`;
}

function oursToml(port: number, cert: string, key: string, tls: boolean, origin: number): string {
  return `[servers.bench]
addr = "127.0.0.1:${port}"
global_certificates = ${tls}
enabled_h2 = true
locations = ["ping", "ws"]

[locations.ping]
path = "=/ping"
plugins = ["pingap:ping"]

[locations.ws]
path = "/ws"
upstream = "echo"

[upstreams.echo]
addrs = ["127.0.0.1:${origin}"]

[certificates.bench]
tls_cert = "${cert}"
tls_key = "${key}"
is_default = true
`;
}

function denoTls(port: number, cert: string, key: string): string {
  return `Deno.serve({ hostname: "127.0.0.1", port: ${port}, cert: Deno.readTextFileSync(${JSON.stringify(cert)}), ` +
    `key: Deno.readTextFileSync(${JSON.stringify(key)}), onListen() {} }, () => new Response("pong"));\n`;
}

async function measure(
  server: string,
  port: number,
  tools: BenchTools,
  seconds: number,
  closeScript: string,
  plain?: { readonly h2c: number; readonly ws: number },
): Promise<Row[]> {
  const rows: Row[] = [];
  if (plain) rows.push(...await measurePlain(server, plain, tools, seconds));
  if (server === "ours_http") return rows;
  const url = `https://127.0.0.1:${port}/ping`;
  const skip = (metric: Row["metric"], why: string) =>
    rows.push({ server, metric, value: NaN, p99Ms: NaN, errors: 0, skipped: why });
  if (tools.wrk) {
    const hs = await wrk(tools.wrk, { url, seconds, connections: 20, script: closeScript });
    rows.push({ server, metric: "handshakes/s", value: hs.rps, p99Ms: hs.p99, errors: hs.errors });
    const r = await wrk(tools.wrk, { url, seconds, connections: 50 });
    rows.push({ server, metric: "req/s h1", value: r.rps, p99Ms: r.p99, errors: r.errors });
  } else {
    skip("handshakes/s", "no wrk");
    skip("req/s h1", "no wrk");
  }
  if (tools.h2load) {
    const r = await h2load(tools.h2load, { url, seconds, connections: 50 });
    rows.push({ server, metric: "req/s h2", value: r.rps, p99Ms: r.p99, errors: r.errors });
  }
  return rows;
}

/** The plain rows: HTTP/1.1 keep-alive (ours only: what TLS costs us), h2c, WebSocket echo. */
async function measurePlain(
  server: string,
  ports: { readonly h2c: number; readonly ws: number },
  tools: BenchTools,
  seconds: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  if (server === "ours_http" && tools.wrk) {
    const r = await wrk(tools.wrk, { url: `http://127.0.0.1:${ports.h2c}/ping`, seconds, connections: 50 });
    rows.push({ server, metric: "req/s h1 plain", value: r.rps, p99Ms: r.p99, errors: r.errors });
  }
  if (tools.h2load) {
    const r = await h2load(tools.h2load, { url: `http://127.0.0.1:${ports.h2c}/ping`, seconds, connections: 50 });
    rows.push({ server, metric: "req/s h2c", value: r.rps, p99Ms: r.p99, errors: r.errors });
  }
  const ws = await measureWsEcho(`ws://127.0.0.1:${ports.ws}/ws`, seconds, 50);
  rows.push({ server, metric: "ws msg/s", value: ws.rate, p99Ms: NaN, errors: ws.errors });
  return rows;
}

/**
 * Runs the HTTPS bench: nginx, our proxy and a bare `Deno.serve` with TLS,
 * one after the other, each alone on the machine.
 *
 * @returns One row per server and metric; a missing tool gives skipped rows.
 */
export async function runHttpsBench(options: HttpsBenchOptions = {}): Promise<Row[]> {
  const seconds = options.seconds ?? 5;
  const tools = await findTools();
  const pki = await makeTestPki([{ name: "bench.test", dns: ["bench.test", "localhost"] }]);
  const { certFile: cert, keyFile: key } = pki.leaves["bench.test"]!;
  const dir = pki.dir;
  const closeScript = `${dir}/close.lua`;
  await Deno.writeTextFile(closeScript, `wrk.headers["Connection"] = "close"\n`);
  const rows: Row[] = [];
  const originPort = freePort();
  const origin = spawnEchoOrigin(originPort);
  const plainPorts = new Map<string, { h2c: number; ws: number }>();
  const ours = (name: string, tls: boolean) => {
    const port = freePort();
    if (!tls) plainPorts.set(name, { h2c: port, ws: port });
    Deno.writeTextFileSync(`${dir}/${name}.toml`, oursToml(port, cert, key, tls, originPort));
    const args = ["run", "-A", "--unstable-net", "--unstable-no-legacy-abort", "mod.ts", "start", "-c"];
    const cmd = Deno.execPath();
    return spawnServer({
      name,
      cmd,
      args: [...args, `${dir}/${name}.toml`],
      port,
      cwd: ROOT,
      logFile: `${dir}/${name}.log`,
    });
  };
  const servers: [string, () => Promise<BenchProcess> | undefined][] = [
    ["nginx", () => {
      if (!tools.nginx) return undefined;
      const port = freePort();
      const plain = freePort();
      plainPorts.set("nginx", { h2c: plain, ws: plain + 1 });
      Deno.writeTextFileSync(`${dir}/nginx.conf`, nginxConf(dir, port, cert, key, plain, originPort));
      return spawnServer({
        name: "nginx",
        cmd: tools.nginx,
        args: ["-c", `${dir}/nginx.conf`, "-p", dir],
        port,
        logFile: `${dir}/nginx.log`,
      });
    }],
    ["ours", () => ours("ours", true)],
    ["ours_http", () => ours("ours_http", false)],
    ["deno_tls", () => {
      const port = freePort();
      Deno.writeTextFileSync(`${dir}/deno_tls.ts`, denoTls(port, cert, key));
      const args = ["run", "--allow-net", "--allow-read", `${dir}/deno_tls.ts`];
      return spawnServer({ name: "deno_tls", cmd: Deno.execPath(), args, port, logFile: `${dir}/deno_tls.log` });
    }],
  ];
  try {
    for (const [name, start] of servers) {
      const proc = await start();
      if (!proc) {
        rows.push({ server: name, metric: "handshakes/s", value: NaN, p99Ms: NaN, errors: 0, skipped: "not found" });
        continue;
      }
      try {
        rows.push(...await measure(name, proc.port, tools, seconds, closeScript, plainPorts.get(name)));
      } finally {
        await proc.stop();
      }
    }
  } finally {
    origin.kill();
    await origin.status;
    await pki.remove();
  }
  return rows;
}

/** The rows as a table, with each figure's ratio to nginx's for the same metric. */
export function httpsTable(rows: readonly Row[]): string {
  const nginx = new Map(rows.filter((r) => r.server === "nginx").map((r) => [r.metric, r.value]));
  return table([
    ["TLS and HTTP/2: server", "metric", "value", "× nginx", "p99 ms", "errors"],
    ...rows.map((r) => {
      const base = nginx.get(r.metric);
      const ratio = base && Number.isFinite(r.value) && r.server !== "nginx" ? `${(r.value / base).toFixed(2)} ×` : "";
      return [
        r.server,
        r.metric,
        r.skipped ? `SKIPPED: ${r.skipped}` : fmt(r.value, 0),
        ratio,
        Number.isFinite(r.p99Ms) ? fmt(r.p99Ms, 2) : "",
        String(r.errors),
      ];
    }),
  ]);
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--seconds");
  const seconds = i >= 0 ? Number(Deno.args[i + 1]) : 5;
  console.log(httpsTable(await runHttpsBench({ seconds })));
}
