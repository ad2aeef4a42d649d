/**
 * Upstream client throughput: small GETs against a loopback origin through `fetch` (with
 * `Deno.createHttpClient`) and through the HTTP/1.1 client of `runtime/upstream/http1/client.ts`, sequential and with many
 * requests in flight, and the ratio of the two. Plain timing with `performance.now()` after a warm-up; nothing here
 * asserts a timing.
 *
 * Standalone: `deno run -A bench/upstream_client_bench.ts [--requests N] [--concurrency C] [--tls]
 * [--origin host:port]`. Without `--origin` it starts a `Deno.serve` origin in a child process (so the origin does
 * not share the client's thread). `--tls` serves the origin over TLS with the test certificate and times the client's
 * verified (`Deno.startTls`) path against its unverified (`node:tls`) path instead (fetch cannot reach the test
 * name `origin.test` without DNS).
 *
 * @module
 */
import { createHttp1Client } from "../runtime/upstream/http1/client.ts";
import { TEST_CA_CERT, TEST_LEAF_CERT, TEST_LEAF_KEY } from "../runtime/upstream/http1/testdata.ts";
import type { Backend, ConnectOptions, UpstreamClient } from "../runtime/upstream/types.ts";

/** Where the origin listens. */
export interface BenchOrigin {
  readonly host: string;
  readonly port: number;
  /** The origin speaks TLS with the test certificate (`origin.test`, test CA). */
  readonly tls?: boolean;
}

/** One measured run. */
export interface BenchResult {
  /** What was measured, e.g. "fetch" or "http1". */
  readonly client: string;
  /** "sequential" or "concurrent". */
  readonly mode: string;
  readonly requests: number;
  readonly concurrency: number;
  readonly ms: number;
  readonly rps: number;
}

/** Run sizes. */
export interface BenchOptions {
  /** Requests per run (default 20,000). */
  readonly requests?: number;
  /** Requests in flight in the concurrent runs (default 50). */
  readonly concurrency?: number;
  /** Warm-up requests before each run (default 1,000). */
  readonly warmup?: number;
}

type Send = () => Promise<void>;

async function run(send: Send, requests: number, concurrency: number): Promise<number> {
  let left = requests;
  async function lane(): Promise<void> {
    while (left > 0) {
      left--;
      await send();
    }
  }
  const started = performance.now();
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < concurrency; i++) lanes.push(lane());
  await Promise.all(lanes);
  return performance.now() - started;
}

function fetchSender(origin: BenchOrigin): { send: Send; close(): void } {
  // allowHost: fetch drops `host` otherwise (a proxy must keep it).
  const client = Deno.createHttpClient({ allowHost: true });
  const url = `http://${origin.host}:${origin.port}/small`;
  const init: RequestInit & { client: Deno.HttpClient } = { client, headers: { host: "origin.test" } };
  return {
    async send() {
      const res = await fetch(url, init);
      const n = (await res.arrayBuffer()).byteLength;
      if (res.status !== 200 || n !== 18) throw new Error(`Unexpected answer: ${res.status}, ${n} bytes`);
    },
    close() {
      client.close();
    },
  };
}

function http1Sender(client: UpstreamClient, backend: Backend): Send {
  const headers = new Headers({ host: "origin.test" });
  return async function send() {
    const res = await client.request(backend, { method: "GET", target: "/small", headers, body: null });
    let n = 0;
    if (res.body !== null) {
      const reader = res.body.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.length;
    }
    if (res.status !== 200 || n !== 18) throw new Error(`Unexpected answer: ${res.status}, ${n} bytes`);
  };
}

/**
 * Times small GETs through `fetch` and through the HTTP/1.1 client, sequential and concurrent.
 *
 * @param origin A loopback origin answering `GET /small` with a small body.
 * @param options Run sizes.
 * @returns One result per client and mode.
 */
export async function benchUpstreamClient(origin: BenchOrigin, options: BenchOptions = {}): Promise<BenchResult[]> {
  const requests = options.requests ?? 20_000;
  const concurrency = options.concurrency ?? 50;
  const warmup = options.warmup ?? 1_000;
  const backend: Backend = { host: origin.host, port: origin.port, weight: 1, addr: `${origin.host}:${origin.port}` };
  const base: ConnectOptions = { tls: false, verifyCert: true, idleTimeout: 60_000, poolSize: 128 };
  const senders: { client: string; send: Send; close(): void }[] = [];
  if (origin.tls) {
    const verified = createHttp1Client({ ...base, tls: true, sni: "origin.test" }, { caCerts: [TEST_CA_CERT] });
    senders.push({
      client: "http1 tls (Deno.startTls)",
      send: http1Sender(verified, backend),
      close: () => verified.close(),
    });
    const unverified = createHttp1Client({ ...base, tls: true, sni: "origin.test", verifyCert: false });
    senders.push({
      client: "http1 tls (node:tls, no verify)",
      send: http1Sender(unverified, backend),
      close: () => unverified.close(),
    });
  } else {
    const f = fetchSender(origin);
    senders.push({ client: "fetch", send: f.send, close: f.close });
    const h1 = createHttp1Client(base);
    senders.push({ client: "http1", send: http1Sender(h1, backend), close: () => h1.close() });
  }
  const results: BenchResult[] = [];
  for (const [mode, lanes] of [["sequential", 1], ["concurrent", concurrency]] as const) {
    for (const s of senders) {
      await run(s.send, warmup, lanes);
      const ms = await run(s.send, requests, lanes);
      results.push({ client: s.client, mode, requests, concurrency: lanes, ms, rps: requests / (ms / 1000) });
    }
  }
  for (const s of senders) s.close();
  return results;
}

/** Serves `GET /small` (18 bytes) until killed; prints the port on stdout. */
function serveOrigin(tls: boolean): void {
  const body = new TextEncoder().encode("hello from origin\n");
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen({ port }) {
      console.log(port);
    },
    ...(tls ? { cert: TEST_LEAF_CERT, key: TEST_LEAF_KEY } : {}),
  }, function small() {
    return new Response(body, { headers: { "content-type": "text/plain" } });
  });
  void server.finished;
}

async function startChildOrigin(tls: boolean): Promise<{ origin: BenchOrigin; stop(): Promise<void> }> {
  const args = ["run", "-A", import.meta.filename!, "--serve-origin", ...(tls ? ["--tls"] : [])];
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const r = await reader.read();
    if (r.done) throw new Error("Cannot start origin: child exited");
    out += r.value;
  }
  const port = Number(out.trim());
  return {
    origin: { host: "127.0.0.1", port, tls },
    async stop() {
      child.kill();
      await child.status;
      await reader.cancel().catch(() => {});
    },
  };
}

function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const tls = Deno.args.includes("--tls");
  if (Deno.args.includes("--serve-origin")) return serveOrigin(tls);
  const requests = Number(flag("--requests") ?? 20_000);
  const concurrency = Number(flag("--concurrency") ?? 50);
  const external = flag("--origin");
  const child = external === undefined ? await startChildOrigin(tls) : null;
  const origin: BenchOrigin = child?.origin ?? {
    host: external!.slice(0, external!.lastIndexOf(":")),
    port: Number(external!.slice(external!.lastIndexOf(":") + 1)),
    tls,
  };
  console.log(
    `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs; origin ${origin.host}:${origin.port}` +
      `${tls ? " (TLS)" : ""}; ${requests} requests per run, concurrent = ${concurrency} in flight\n`,
  );
  try {
    const results = await benchUpstreamClient(origin, { requests, concurrency });
    console.log("| client | mode | req/s | ms |");
    console.log("| --- | --- | ---: | ---: |");
    for (const r of results) console.log(`| ${r.client} | ${r.mode} | ${Math.round(r.rps)} | ${Math.round(r.ms)} |`);
    console.log("");
    for (const mode of ["sequential", "concurrent"]) {
      const [a, b] = results.filter((r) => r.mode === mode);
      if (a && b) console.log(`${mode}: ${b.client} / ${a.client} = ${(b.rps / a.rps).toFixed(2)} ×`);
    }
  } finally {
    await child?.stop();
  }
}

if (import.meta.main) await main();
