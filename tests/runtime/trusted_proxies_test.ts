/**
 * Trusted forwarded headers (issue 15, finding 5): `X-Forwarded-For` / `X-Real-IP` name the client only on a
 * connection from `basic.trusted_proxies`, for the access log's `{client_ip}`, `$client_ip` and `hash:ip`. The proxy
 * runs in its own process (`mod.ts start`), writes its access log to a file, and balances two echo origins by
 * `hash:ip`; the client is 127.0.0.1.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Echo } from "../_support/origin.ts";
import { freePort, type Origin, startEchoOrigin } from "../_support/origin.ts";
import { type Child, spawnDeno, START_ARGS } from "../_support/process.ts";
import { rawJson, rawRequest } from "../_support/proxy.ts";

interface Running {
  readonly port: number;
  /** Rewrites the config with `basic` as its `[basic]` section and reloads it (SIGHUP). */
  reload(basic: string): Promise<void>;
  /** Resolves with the access log's lines once it holds `count` of them. */
  lines(count: number): Promise<string[]>;
}

/** Two echo origins behind a proxy process with `basic` as its `[basic]` section. */
async function withProxy(basic: string, fn: (proxy: Running) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const log = `${dir}/access.log`;
  const file = `${dir}/pingap.toml`;
  const port = freePort();
  const origins: Origin[] = [];
  let child: Child | undefined;
  try {
    for (let i = 0; i < 2; i++) origins.push(await startEchoOrigin(`o${i}`));
    const config = (basic: string) => `
[basic]
${basic}

[servers.s]
addr = "127.0.0.1:${port}"
locations = ["all"]
access_log = "${log}?rolling=never {client_ip} {path}"

[locations.all]
upstream = "pool"
enable_reverse_proxy_headers = true
proxy_set_headers = ["X-Client:$client_ip"]

[upstreams.pool]
addrs = [${origins.map((o) => `"${o.addr}"`).join(", ")}]
algo = "hash:ip"
`;
    await Deno.writeTextFile(file, config(basic));
    child = spawnDeno([...START_ARGS, file]);
    const started = child;
    let reloads = 0;
    await child.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
    await fn({
      port,
      async reload(basic) {
        await Deno.writeTextFile(file, config(basic));
        Deno.kill(started.pid, "SIGHUP");
        reloads++;
        for (let i = 0; i < 500 && (started.output().match(/reload \(SIGHUP\)/g) ?? []).length < reloads; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.match(started.output(), /reload \(SIGHUP\): /, "reloaded");
        assert.doesNotMatch(started.output(), /reload \(SIGHUP\) failed/);
      },
      async lines(count) {
        for (let i = 0; i < 500; i++) {
          const text = await Deno.readTextFile(log).catch(() => "");
          const lines = text.split("\n").filter((l) => l !== "");
          if (lines.length >= count) return lines;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`the access log has fewer than ${count} lines:\n${await Deno.readTextFile(log).catch(String)}`);
      },
    });
  } finally {
    if (child) assert.equal(await child.stop(), 0, "the proxy stops cleanly");
    for (const o of origins) await o.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function echo(port: number, path: string, headers: Record<string, string> = {}): Promise<Echo> {
  const res = await rawRequest(port, "GET", path, { host: "t", ...headers });
  assert.equal(res.status, 200, path);
  return rawJson<Echo>(res);
}

/** Forwarded headers that claim 16 different clients. */
function spoofs(): Record<string, string>[] {
  return Array.from({ length: 16 }, (_, i) => ({ "x-forwarded-for": `203.0.113.${i + 1}` }));
}

Deno.test("trusted proxies unset: a client's X-Forwarded-For / X-Real-IP name nobody", async (t) => {
  await withProxy("", async (proxy) => {
    await t.step("the access log's {client_ip} is the peer", async () => {
      await echo(proxy.port, "/xff", { "x-forwarded-for": "1.2.3.4" });
      await echo(proxy.port, "/real", { "x-real-ip": "5.6.7.8" });
      assert.deepEqual(await proxy.lines(2), ["127.0.0.1 /xff", "127.0.0.1 /real"]);
    });
    await t.step("hash:ip: spoofed headers do not move the request", async () => {
      const names = new Set<string>();
      for (const h of spoofs()) names.add((await echo(proxy.port, "/hash", h)).name);
      assert.equal(names.size, 1, `spoofed headers moved the request: ${[...names]}`);
    });
    await t.step("$client_ip is the peer; the forwarded headers the upstream gets are unchanged", async () => {
      const e = await echo(proxy.port, "/xff", { "x-forwarded-for": "1.2.3.4" });
      assert.equal(e.headers["x-client"], "127.0.0.1", "$client_ip");
      assert.equal(e.headers["x-forwarded-for"], "1.2.3.4, 127.0.0.1", "the client's list plus the peer");
      assert.equal(e.headers["x-real-ip"], "127.0.0.1");
    });
  });
});

Deno.test("trusted proxies [127.0.0.1]: its X-Forwarded-For names the client, read right to left", async (t) => {
  await withProxy('trusted_proxies = ["127.0.0.1"]', async (proxy) => {
    await t.step("the access log's {client_ip} is the forwarded client", async () => {
      await echo(proxy.port, "/xff", { "x-forwarded-for": "1.2.3.4" });
      // A trusted hop is skipped; the rightmost untrusted address wins over what a client wrote left of it.
      await echo(proxy.port, "/chain", { "x-forwarded-for": "6.6.6.6, 1.2.3.4, 127.0.0.1" });
      await echo(proxy.port, "/real", { "x-real-ip": "5.6.7.8" });
      // Not an address: the walk stops at the trusted hop before it.
      await echo(proxy.port, "/garbage", { "x-forwarded-for": "nonsense" });
      const lines = await proxy.lines(4);
      assert.deepEqual(lines, ["1.2.3.4 /xff", "1.2.3.4 /chain", "5.6.7.8 /real", "127.0.0.1 /garbage"]);
    });
    await t.step("hash:ip: the forwarded client decides the backend", async () => {
      const names = new Set<string>();
      for (const h of spoofs()) names.add((await echo(proxy.port, "/hash", h)).name);
      assert.equal(names.size, 2, "16 forwarded clients over 2 backends");
    });
    await t.step("$client_ip is the forwarded client; the peer is still appended to X-Forwarded-For", async () => {
      const e = await echo(proxy.port, "/xff", { "x-forwarded-for": "1.2.3.4" });
      assert.equal(e.headers["x-client"], "1.2.3.4", "$client_ip");
      assert.equal(e.headers["x-forwarded-for"], "1.2.3.4, 127.0.0.1");
      assert.equal(e.headers["x-real-ip"], "127.0.0.1", "X-Real-IP is $remote_addr, as Pingap's default");
    });
  });
});

Deno.test("trusted proxies: a reload that drops the peer from trusted_proxies stops hash:ip and the log from reading its headers", async () => {
  await withProxy('trusted_proxies = ["127.0.0.1"]', async (proxy) => {
    await echo(proxy.port, "/before", { "x-forwarded-for": "1.2.3.4" });
    await proxy.reload('trusted_proxies = ["10.0.0.1"]');
    const names = new Set<string>();
    for (const h of spoofs()) names.add((await echo(proxy.port, "/hash", h)).name);
    assert.equal(names.size, 1, `the list of before the reload still counted: ${[...names]}`);
    const lines = await proxy.lines(1 + spoofs().length);
    assert.deepEqual([lines[0], lines[1]], ["1.2.3.4 /before", "127.0.0.1 /hash"]);
  });
});
