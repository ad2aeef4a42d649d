/**
 * A real etcd (Debian `etcd-server`) for tests: started on free 127.0.0.1
 * ports with a temporary data directory, stoppable and restartable on the
 * same ports and data, and a raw `put` through etcd's JSON gateway.
 *
 * @module
 */
import assert from "node:assert/strict";
import { b64 } from "../../runtime/storage/mod.ts";
import { freePort } from "./origin.ts";

/** A running etcd. */
export interface Etcd {
  readonly port: number;
  readonly endpoint: string;
  url(base?: string, query?: string): string;
  /** Stops it (SIGTERM, then waits). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data directory. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
  log(): string;
}

/** Starts etcd from the binary at `etcdPath`. */
export async function startEtcd(etcdPath: string): Promise<Etcd> {
  const dir = await Deno.makeTempDir({ prefix: "pingap-etcd-" });
  const port = freePort();
  const peer = freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let child: Deno.ChildProcess | undefined;
  let output = "";
  let pump: Promise<void> = Promise.resolve();
  const start = async () => {
    child = new Deno.Command(etcdPath, {
      args: [
        "--name=test",
        `--data-dir=${dir}/data`,
        `--listen-client-urls=${endpoint}`,
        `--advertise-client-urls=${endpoint}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=test=http://127.0.0.1:${peer}`,
        "--log-level=warn",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const decoder = new TextDecoder();
    const read = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s) output += decoder.decode(chunk, { stream: true });
    };
    pump = Promise.all([read(child.stdout), read(child.stderr)]).then(() => {});
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const r = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        const body = await r.text();
        if (r.ok && body.includes('"true"')) return;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`etcd did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    if (!child) return;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await pump;
    child = undefined;
  };
  await start();
  return {
    port,
    endpoint,
    url: (base = "pingap", query = "") => `etcd://127.0.0.1:${port}/${base}${query ? `?${query}` : ""}`,
    stop,
    start,
    async dispose() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    log: () => output,
  };
}

/** Runs `fn` with a fresh etcd, disposed afterwards. */
export async function withEtcd(etcdPath: string, fn: (etcd: Etcd) => Promise<void>): Promise<void> {
  const etcd = await startEtcd(etcdPath);
  try {
    await fn(etcd);
  } finally {
    await etcd.dispose();
  }
}

/** Puts one key. */
export async function put(etcd: Etcd, key: string, value: string): Promise<void> {
  const r = await fetch(`${etcd.endpoint}/v3/kv/put`, {
    method: "POST",
    body: JSON.stringify({ key: b64(key), value: b64(value) }),
  });
  assert.equal(r.status, 200, await r.text());
  await r.body?.cancel().catch(() => {});
}
