/**
 * Observability end to end: the proxy in its own process (the CLI, so a
 * SIGHUP reloads it), real origins (plain and TLS), real traffic (plain and
 * TLS clients, keep-alive, compression, a dead backend, a retry, a full
 * keep-alive pool), then the access log's context keys and the
 * `/metrics` scrape read back: each fed family has a sample with a real
 * value, and `promtool check metrics` parses the whole text.
 *
 * @module
 */
import assert from "node:assert/strict";
import { requireComponent } from "./components.ts";
import { makeTestPki, type TestPki } from "./_support/certs.ts";
import { echoHandler, freePort, startOrigin } from "./_support/origin.ts";
import { type Child, spawnDeno } from "./_support/process.ts";
import { pollFor } from "./_support/poll.ts";
import { findSamples, sampleValue } from "../runtime/observe/metrics/exposition.ts";
import { FAMILIES, PINGAP_LINT_EXCEPTIONS } from "../runtime/observe/metrics/mod.ts";

const RUN = ["run", "-A", "--unstable-net", "--unstable-no-legacy-abort", "mod.ts", "start", "-c"];
const prometheus = await requireComponent("prometheus", { binaries: ["promtool"], aptPackages: ["prometheus"] });

/** The context keys the access log prints, in this order, after `{path}`. */
const KEYS = [
  "connection_id",
  "connection_reused",
  "connection_time",
  "tls_version",
  "tls_cipher",
  "tls_handshake_time",
  "upstream_connect_time",
  "upstream_tcp_connect_time",
  "upstream_tls_handshake_time",
  "upstream_connection_time",
  "upstream_connected",
  "compression_ratio",
  "compression_time",
] as const;

type Line = { path: string } & Record<typeof KEYS[number], string>;

function parseLine(line: string): Line {
  const parts = line.split("|");
  const out: Record<string, string> = { path: parts[0]! };
  KEYS.forEach((k, i) => out[k] = parts[i + 1] ?? "");
  return out as Line;
}

async function logLines(file: string): Promise<Line[]> {
  try {
    return (await Deno.readTextFile(file)).split("\n").filter(Boolean).map(parseLine);
  } catch {
    return [];
  }
}

/** Runs `promtool check metrics` on `text`. */
async function promtool(text: string): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(prometheus!.promtool, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const o = await child.output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

/** GET over one raw HTTP/1.1 connection, `n` requests kept alive; returns the statuses. */
async function keptAlive(port: number, path: string, n: number): Promise<number[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const statuses: number[] = [];
  try {
    const buf = new Uint8Array(65536);
    for (let i = 0; i < n; i++) {
      await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
      let text = "";
      // Read one whole response (content-length framed).
      for (;;) {
        const got = await conn.read(buf);
        if (got === null) throw new Error("closed");
        text += new TextDecoder().decode(buf.subarray(0, got));
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) continue;
        const len = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? "0");
        if (text.length - end - 4 >= len) break;
      }
      statuses.push(Number(text.split(" ")[1]));
    }
  } finally {
    conn.close();
  }
  return statuses;
}

interface Setup {
  dir: string;
  pki: TestPki;
  child: Child;
  web: number;
  secure: number;
  conf: string;
  webLog: string;
  tlsLog: string;
  tlsClient: Deno.HttpClient;
  close(): Promise<void>;
}

async function setup(): Promise<Setup> {
  const dir = await Deno.makeTempDir();
  const pki = await makeTestPki([{ name: "localhost" }]);
  const leaf = pki.leaves.localhost!;
  const echo = echoHandler("plain");
  // `/plain/slow…` answers late, so that requests sent together overlap on the upstream.
  const plain = await startOrigin("plain", async (req, info) => {
    if (req.url.includes("/slow")) await new Promise((r) => setTimeout(r, 300));
    return echo(req, info);
  });
  // A compressible answer for the compression plugin.
  const text = await startOrigin(
    "text",
    () => new Response("observability ".repeat(400), { headers: { "content-type": "text/plain" } }),
  );
  const tlsOrigin = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: leaf.cert,
    key: leaf.key,
    onListen() {},
  }, () => new Response("secure origin"));
  const dead = freePort();
  const web = freePort(), secure = freePort();
  const webLog = `${dir}/web.log`, tlsLog = `${dir}/tls.log`;
  const format = `{path}|${KEYS.map((k) => `{:${k}}`).join("|")}`;
  const conf = `${dir}/pingap.toml`;
  const toml = `
[basic]
upstream_keepalive_pool_size = 1

[upstreams.plain]
addrs = ["${plain.addr}"]

[upstreams.text]
addrs = ["${text.addr}"]

[upstreams.secure]
addrs = ["127.0.0.1:${tlsOrigin.addr.port}"]
sni = "localhost"
ca = "${pki.ca.certFile}"

[upstreams.broken]
addrs = ["127.0.0.1:${dead}"]

[upstreams.flaky]
addrs = ["127.0.0.1:${dead}", "${plain.addr}"]
enable_backend_stats = true

[plugins.gz]
category = "compression"
gzip_level = 6

[locations.plain]
path = "/plain"
upstream = "plain"

[locations.gz]
path = "/gz"
upstream = "text"
plugins = ["gz"]

[plugins.keep]
category = "cache"

[locations.cached]
path = "/cached"
upstream = "text"
plugins = ["keep"]

[locations.secure]
path = "/secure"
upstream = "secure"

[locations.broken]
path = "/broken"
upstream = "broken"

[locations.flaky]
path = "/flaky"
upstream = "flaky"
max_retries = 1

[servers.web]
addr = "127.0.0.1:${web}"
access_log = "${webLog}?rolling=never ${format}"
locations = ["plain", "gz", "cached", "secure", "broken", "flaky"]
prometheus_metrics = "/metrics"

[servers.tls]
addr = "127.0.0.1:${secure}"
global_certificates = true
access_log = "${tlsLog}?rolling=never ${format}"
locations = ["plain"]
prometheus_metrics = "/metrics"

[certificates.local]
tls_cert = "${leaf.certFile}"
tls_key = "${leaf.keyFile}"
is_default = true
`;
  await Deno.writeTextFile(conf, toml);
  const child = spawnDeno([...RUN, conf]);
  await child.waitFor(new RegExp(`listening on https://127\\.0\\.0\\.1:${secure}`));
  await child.waitFor(new RegExp(`listening on http://127\\.0\\.0\\.1:${web}`));
  const tlsClient = Deno.createHttpClient({ caCerts: [pki.ca.cert] });
  return {
    dir,
    pki,
    child,
    web,
    secure,
    conf,
    webLog,
    tlsLog,
    tlsClient,
    async close() {
      tlsClient.close();
      await child.stop();
      await plain.close();
      await text.close();
      await tlsOrigin.shutdown();
      await pki.remove();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function get(url: string, init: RequestInit & { client?: Deno.HttpClient } = {}): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

Deno.test({
  name: "observability: context keys and metric families read back real values after real traffic",
  sanitizeResources: false,
  async fn() {
    const s = await setup();
    try {
      const web = `http://127.0.0.1:${s.web}`;
      // Three requests on one kept-alive client connection.
      assert.deepEqual(await keptAlive(s.web, "/plain/a", 3), [200, 200, 200]);
      // Compressed.
      assert.equal(await get(`${web}/gz/x`, { headers: { "accept-encoding": "gzip" } }), 200);
      // Through the cache: a miss, then a hit (the cache families).
      assert.equal(await get(`${web}/cached/x`), 200);
      assert.equal(await get(`${web}/cached/x`), 200);
      // To a TLS upstream, on a new upstream connection.
      assert.equal(await get(`${web}/secure/x`), 200);
      // A dead backend: an upstream error.
      assert.equal(await get(`${web}/broken/x`), 502);
      // A dead backend and a live one, one retry allowed: until one request was retried.
      for (let i = 0; i < 4; i++) assert.equal(await get(`${web}/flaky/${i}`), 200);
      // Two at once to one backend with a pool of one: the second connection given back evicts the first.
      await Promise.all([get(`${web}/plain/slow1`), get(`${web}/plain/slow2`), get(`${web}/plain/slow3`)]);
      // Over TLS to the proxy.
      assert.equal(await get(`https://localhost:${s.secure}/plain/tls`, { client: s.tlsClient }), 200);
      // A reload that applies, then one that fails.
      await Deno.writeTextFile(s.conf, (await Deno.readTextFile(s.conf)).replace("max_retries = 1", "max_retries = 2"));
      Deno.kill(s.child.pid, "SIGHUP");
      await s.child.waitFor(/reload \(SIGHUP\): (?!config unchanged)/);
      const good = await Deno.readTextFile(s.conf);
      await Deno.writeTextFile(s.conf, good + "\n[servers.web]\naddr = 1\n");
      Deno.kill(s.child.pid, "SIGHUP");
      await s.child.waitFor(/reload \(SIGHUP\) failed/);
      await Deno.writeTextFile(s.conf, good);

      // --- The access log.
      const lines = await pollFor("access log lines", async () => {
        const l = await logLines(s.webLog);
        return l.filter((x) => x.path.startsWith("/plain/a")).length === 3 && l.some((x) => x.path === "/gz/x") &&
            l.some((x) => x.path === "/secure/x")
          ? l
          : undefined;
      });
      const kept = lines.filter((l) => l.path === "/plain/a");
      assert.equal(kept.length, 3);
      // One connection id for the three, the first not reused, the others reused.
      assert.match(kept[0]!.connection_id, /^\d+$/);
      assert.equal(new Set(kept.map((l) => l.connection_id)).size, 1);
      assert.deepEqual(kept.map((l) => l.connection_reused), ["false", "true", "true"]);
      assert.match(kept[2]!.connection_time, /^\d+$/);
      // Plain HTTP: no TLS facts.
      assert.equal(kept[0]!.tls_version, "");
      // The first request connected to the upstream; the pooled ones did not.
      assert.match(kept[0]!.upstream_tcp_connect_time, /^\d+$/);
      assert.equal(kept[0]!.upstream_tls_handshake_time, "", "no TLS to a plain upstream");
      assert.equal(kept[1]!.upstream_tcp_connect_time, "", "a pooled connection has no connect time");
      assert.match(kept[1]!.upstream_connection_time, /^\d+$/);
      assert.match(kept[0]!.upstream_connected, /^[1-9]\d*$/);
      const gz = lines.find((l) => l.path === "/gz/x")!;
      assert.ok(Number(gz.compression_ratio) > 5, `compression ratio ${gz.compression_ratio}`);
      assert.match(gz.compression_ratio, /^\d+\.\d$/);
      assert.match(gz.compression_time, /^\d+$/);
      assert.equal(kept[0]!.compression_ratio, "", "not compressed");
      const sec = lines.find((l) => l.path === "/secure/x")!;
      assert.match(sec.upstream_tls_handshake_time, /^\d+$/);
      assert.match(sec.upstream_tcp_connect_time, /^\d+$/);
      assert.ok(Number(sec.upstream_connect_time) >= Number(sec.upstream_tls_handshake_time));
      const tls = (await pollFor("TLS access log", async () => {
        const l = await logLines(s.tlsLog);
        return l.length ? l : undefined;
      }))[0]!;
      assert.match(tls.tls_version, /^TLSv1\.[23]$/);
      assert.match(tls.tls_cipher, /^TLS_[A-Z0-9_]+$/);
      assert.match(tls.tls_handshake_time, /^\d+$/);

      // --- The metrics.
      const text = await (await fetch(`${web}/metrics`)).text();
      const w = { server: "web" };
      const at = (name: string, labels: Record<string, string> = {}) => sampleValue(text, name, { ...w, ...labels });
      assert.equal(at("pingap_http_responses_status", { location: "plain", status: "200" }), 6);
      assert.equal(at("pingap_http_responses_status", { location: "broken", status: "502" }), 1);
      assert.ok(at("pingap_connection_reuses")! >= 2);
      assert.equal(at("pingap_upstream_errors", { upstream: "broken" }), 1);
      assert.ok(at("pingap_upstream_retries", { upstream: "flaky" })! >= 1);
      assert.ok(at("pingap_upstream_tls_handshake_time_count", { upstream: "secure" })! >= 1);
      assert.ok(at("pingap_upstream_tcp_connect_time_count", { upstream: "secure" })! >= 1);
      assert.ok(at("pingap_compression_ratio_count")! >= 1);
      assert.ok(at("pingap_compression_ratio_sum")! > 5);
      assert.ok(at("pingap_upstream_connections", { upstream: "plain" })! >= 1);
      assert.ok(at("pingap_upstream_discovery_time", { upstream: "plain" })! >= 0);
      assert.ok(at("pingap_upstream_selector_build_time", { upstream: "plain" })! >= 0);
      assert.ok(at("pingap_upstream_pool_eviction_idle_time_count")! >= 1);
      assert.equal(at("pingap_config_reloads", { result: "success" }), 1);
      assert.equal(at("pingap_config_reloads", { result: "failure" }), 1);
      assert.equal(at("pingap_config_last_reload_successful"), 0);
      assert.ok(at("pingap_config_last_reload_success_timestamp_seconds")! > 1.7e9);
      assert.equal(findSamples(text, "pingap_build_info", w)[0]?.value, 1);
      assert.ok(at("pingap_start_time_seconds")! > 1.7e9);
      const tlsText = await (await fetch(`https://localhost:${s.secure}/metrics`, { client: s.tlsClient })).text();
      assert.ok(sampleValue(tlsText, "pingap_tls_handshake_time_count", { server: "tls" })! >= 1);

      // Every family of ours is there, and each one not marked unfed has a sample.
      for (const f of FAMILIES) {
        assert.match(text, new RegExp(`^# TYPE ${f.name} ${f.type}$`, "m"), f.name);
        if (f.unfed || f.ours || f.name === "pingap_tls_handshake_time") continue;
        const name = f.type === "histogram" ? `${f.name}_count` : f.name;
        assert.ok(findSamples(text, name).length > 0, `${f.name} has no sample`);
      }
      assert.ok(findSamples(tlsText, "pingap_tls_handshake_time_count").length > 0);

      if (prometheus) {
        for (const t of [text, tlsText]) {
          const r = await promtool(t);
          assert.doesNotMatch(r.out, /error while linting|parsing error/, r.out);
          for (const line of r.out.split("\n").map((l) => l.trim()).filter(Boolean)) {
            const sp = line.indexOf(" ");
            assert.equal(line.slice(sp + 1), PINGAP_LINT_EXCEPTIONS.get(line.slice(0, sp)), `promtool: ${line}`);
          }
        }
      }
    } catch (e) {
      console.error(s.child.output());
      throw e;
    } finally {
      await s.close();
    }
  },
});

Deno.test("check: Pingap 0.16's context keys this version cannot fill are accepted with a warning naming why", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(
    file,
    `[upstreams.u]\naddrs = ["127.0.0.1:9"]\n\n[locations.l]\nupstream = "u"\n\n[servers.s]\naddr = "127.0.0.1:0"\n` +
      `locations = ["l"]\naccess_log = "{path} {:ja4} {:tls_client_serial} {:upstream_connect_offload_wait_time}"\n`,
  );
  try {
    const child = spawnDeno(["run", "--allow-read", "--allow-env", "mod.ts", "check", "-c", file]);
    assert.equal(await child.exited(), 0, child.output());
    const out = child.output();
    // The client-certificate keys are filled (tests/client_certificates_test.ts): no warning.
    assert.doesNotMatch(out, /tls_client_serial/);
    assert.match(out, /"\{:upstream_connect_offload_wait_time\}" is accepted but not applied.*offload/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
