/**
 * h2c by `Upgrade: h2c` (RFC 7540 §3.2; issue 17) with real clients over real sockets: on an `enabled_h2` server,
 * `curl --http2` on `http://` gets `101`, then its request answered over HTTP/2 on stream 1 and its next request on
 * the same connection as h2; nghttp `-u` likewise; the access log says `HTTP/2.0` for the upgraded request. Declined
 * (served as HTTP/1.1, the upstream never seeing `Upgrade` or `HTTP2-Settings`): an `HTTP2-Settings` that is not
 * base64url, of a bad length, with a value out of range, or twice; a `Connection` not naming `HTTP2-Settings`; a
 * request with a body; a server without `enabled_h2`; `Upgrade: h2c` over TLS. A stop lets an upgraded request in flight
 * finish.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, type Origin, startEchoOrigin, startOrigin } from "../_support/origin.ts";
import { rawJson, rawRequest, startTestProxy, type TestProxy } from "../_support/proxy.ts";
import { makeTestPki } from "../_support/certs.ts";
import { spawnProxy } from "../_support/process.ts";
import { requireComponent } from "../components.ts";

const nghttp = await requireComponent("h2load", { binaries: ["nghttp"], aptPackages: ["nghttp2-client"] });
const dec = new TextDecoder();

/** What curl sends with `--http2` on `http://` (its `HTTP2-Settings`: 100 streams, a 32 MiB window, no push). */
const SETTINGS = "AAMAAABkAAQCAAAAAAIAAAAA";

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function config(origin: Origin, h2: boolean, tls = ""): string {
  return `
[upstreams.main]
addrs = ["${origin.addr}"]
# The most an upstream lets through: any upgrade, hop-by-hop fields kept. \`Upgrade: h2c\` is still not its.
h1_upgrade = "preserve"
strip_hop_by_hop = false
[locations.a]
upstream = "main"
[servers.s]
addr = "127.0.0.1:0"
enabled_h2 = ${h2}
access_log = "{proto} {method} {path} {status}"
locations = ["a"]
${tls}`;
}

/** The upstream saw none of the upgrade's fields. */
function assertNoUpgradeFields(echo: Echo): void {
  assert.equal(echo.headers["upgrade"], undefined, JSON.stringify(echo.headers));
  assert.equal(echo.headers["http2-settings"], undefined, JSON.stringify(echo.headers));
  assert.ok(!/upgrade|http2-settings/i.test(echo.headers["connection"] ?? ""), JSON.stringify(echo.headers));
}

async function withProxy(h2: boolean, fn: (proxy: TestProxy, origin: Origin) => Promise<void>): Promise<void> {
  const origin = await startEchoOrigin("main");
  const proxy = await startTestProxy(config(origin, h2));
  try {
    await fn(proxy, origin);
  } finally {
    await proxy.close();
    await origin.close();
  }
}

Deno.test("h2c upgrade: curl --http2 gets 101, then both its requests over HTTP/2 on one connection", async () => {
  await withProxy(true, async (proxy) => {
    const r = await run("curl", [
      "-sv",
      "--http2",
      "--max-time",
      "10",
      "-w",
      "\n%{http_version}\n",
      `${proxy.url}/one`,
      `${proxy.url}/two`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /< HTTP\/1\.1 101 Switching Protocols/);
    assert.match(r.stderr, /< Upgrade: h2c/i);
    assert.match(r.stderr, /Re-using existing connection/);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 4, r.stdout);
    const [one, v1, two, v2] = lines as [string, string, string, string];
    assert.equal(v1, "2");
    assert.equal(v2, "2");
    const e1 = JSON.parse(one) as Echo;
    const e2 = JSON.parse(two) as Echo;
    assert.equal(e1.path, "/one");
    assert.equal(e2.path, "/two");
    assertNoUpgradeFields(e1);
    await proxy.close();
    assert.deepEqual(proxy.logs.filter((l) => l.includes(" /")), ["HTTP/2.0 GET /one 200", "HTTP/2.0 GET /two 200"]);
  });
});

Deno.test({
  name: "h2c upgrade: nghttp -u (its upgrade mode) gets the answer on stream 1",
  ignore: !nghttp,
  async fn() {
    await withProxy(true, async (proxy) => {
      const r = await run(nghttp!.nghttp, ["-uv", `${proxy.url}/nghttp`]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /HTTP Upgrade success/);
      assert.match(r.stdout, /recv \(stream_id=1\) :status: 200/);
      assert.match(r.stdout, /"path":"\/nghttp"/);
      assert.doesNotMatch(r.stdout, /"upgrade"|"http2-settings"/);
    });
  },
});

/** A raw `Upgrade: h2c` request with these extra fields; its answer must be HTTP/1.1's. */
const DECLINED: readonly { name: string; fields: Record<string, string>; body?: string }[] = [
  { name: "HTTP2-Settings not base64url", fields: { "HTTP2-Settings": "AAMA!ABk" } },
  { name: "HTTP2-Settings of a bad length", fields: { "HTTP2-Settings": "AAMAAA" } },
  // SETTINGS_ENABLE_PUSH = 2.
  { name: "HTTP2-Settings with a value out of range", fields: { "HTTP2-Settings": "AAIAAAAC" } },
  { name: "Connection not naming HTTP2-Settings", fields: { "HTTP2-Settings": SETTINGS } },
  { name: "a request with a body", fields: { "HTTP2-Settings": SETTINGS }, body: "hello" },
];

Deno.test("h2c upgrade: a malformed or declined Upgrade: h2c is served as HTTP/1.1 without its fields", async (t) => {
  await withProxy(true, async (proxy) => {
    for (const c of DECLINED) {
      await t.step(c.name, async () => {
        const connection = c.name.startsWith("Connection") ? "Upgrade" : "Upgrade, HTTP2-Settings";
        const res = await rawRequest(proxy.port, c.body ? "POST" : "GET", "/d", {
          Host: "a.test",
          Connection: connection,
          Upgrade: "h2c",
          ...c.fields,
        }, c.body);
        assert.equal(res.status, 200, dec.decode(res.raw));
        assert.match(dec.decode(res.raw), /^HTTP\/1\.1 200/);
        const echo = rawJson<Echo>(res);
        assertNoUpgradeFields(echo);
        assert.equal(echo.bodyLength, c.body?.length ?? 0);
      });
    }
    await t.step("two HTTP2-Settings fields", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
      await conn.write(new TextEncoder().encode(
        `GET /d HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\n` +
          `HTTP2-Settings: ${SETTINGS}\r\nHTTP2-Settings: ${SETTINGS}\r\n\r\n`,
      ));
      let text = "";
      const buf = new Uint8Array(16384);
      // An upgrade taken by mistake would leave the connection open.
      const timer = setTimeout(() => conn.close(), 5000);
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          text += dec.decode(buf.subarray(0, n));
        }
        conn.close();
      } catch { /* closed by the timer */ }
      clearTimeout(timer);
      assert.match(text, /^HTTP\/1\.1 200/);
      assertNoUpgradeFields(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as Echo);
    });
  });
});

Deno.test("h2c upgrade: a server without enabled_h2 serves curl --http2 as HTTP/1.1, the upstream sees no upgrade", async () => {
  await withProxy(false, async (proxy) => {
    const r = await run("curl", [
      "-sv",
      "--max-time",
      "10",
      "--http2",
      "-w",
      "\n%{http_version}\n",
      `${proxy.url}/plain`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /^< HTTP\/[\d.]+ 101\b/m);
    const [body, version] = r.stdout.split("\n").filter((l) => l !== "") as [string, string];
    assert.equal(version, "1.1");
    assertNoUpgradeFields(JSON.parse(body) as Echo);
  });
});

// Both TLS engines (runtime/tls/engine_choice.ts), the proxy in its own process (`--unstable-net`, which `deno-tls`
// needs): `{:tls_version}` in the access log asks for `node:tls`, a log without it gets `Deno.listenTls`.
for (const [engine, log] of [["node-tls", "{proto} {:tls_version}"], ["deno-tls", "{proto}"]] as const) {
  Deno.test(`h2c upgrade: Upgrade: h2c over TLS (${engine}, ALPN http/1.1) is ignored, served as HTTP/1.1`, async () => {
    const pki = await makeTestPki([{ name: "a.test" }]);
    const origin = await startEchoOrigin("main");
    const c = pki.leaves["a.test"]!;
    const toml = config(
      origin,
      true,
      `global_certificates = true\n[certificates.c]\ntls_cert = "${c.certFile}"\n` +
        `tls_key = "${c.keyFile}"\nis_default = true\n`,
    ).replace(/^access_log = .*$/m, `access_log = "${log}"`);
    const { child, port, file } = await spawnProxy(toml);
    try {
      const r = await run("curl", [
        "-sv",
        "--http1.1",
        "--max-time",
        "10",
        "--cacert",
        pki.ca.certFile,
        "--resolve",
        `a.test:${port}:127.0.0.1`,
        "-H",
        "Connection: Upgrade, HTTP2-Settings",
        "-H",
        "Upgrade: h2c",
        "-H",
        `HTTP2-Settings: ${SETTINGS}`,
        "-w",
        "\n%{http_version}\n",
        `https://a.test:${port}/tls`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /^< HTTP\/[\d.]+ 101\b/m);
      const [body, version] = r.stdout.split("\n").filter((l) => l !== "") as [string, string];
      assert.equal(version, "1.1");
      assertNoUpgradeFields(JSON.parse(body) as Echo);
    } finally {
      await child.stop();
      await Deno.remove(file);
      await origin.close();
      await pki.remove();
    }
  });
}

Deno.test("h2c upgrade: a stop lets the upgraded request in flight finish over HTTP/2", async () => {
  const release = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  const origin = await startOrigin("slow", async () => {
    arrived.resolve();
    await release.promise;
    return new Response("late but whole");
  });
  const proxy = await startTestProxy(config(origin, true));
  try {
    const curl = run("curl", ["-sS", "--max-time", "10", "--http2", "-w", "\n%{http_version}", `${proxy.url}/slow`]);
    await arrived.promise;
    const stopped = proxy.close();
    await new Promise((r) => setTimeout(r, 300));
    release.resolve();
    const r = await curl;
    await stopped;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "late but whole\n2");
  } finally {
    release.resolve();
    await proxy.close();
    await origin.close();
  }
});
