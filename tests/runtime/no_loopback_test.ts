/**
 * No loopback hop inside the proxy (issue 17): every connection is served in process, so a proxy process listens on
 * one socket per address and on nothing else: no loopback listener beside a plain address (once a `Deno.serve` for
 * h2c, relayed to), none beside a TLS address (once the HTTP/1.1 engine's own). The h2c preface on a server without
 * `enabled_h2` is answered 400 as an HTTP/1 request (as nginx and Pingora answer `PRI * HTTP/2.0` on an HTTP/1 port),
 * never with HTTP/2; on an `enabled_h2` server it is HTTP/2. The proxy runs in its own process; curl is the client.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeTestPki } from "../_support/certs.ts";
import { spawnProxy } from "../_support/process.ts";
import { startEchoOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

/** `ip:port` of each TCP socket the process `pid` listens on (IPv4), sorted. */
async function listening(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for await (const e of Deno.readDir(`/proc/${pid}/fd`)) {
    const target = await Deno.readLink(`/proc/${pid}/fd/${e.name}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  const out: string[] = [];
  for (const file of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    const text = await Deno.readTextFile(file).catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // State 0A: LISTEN; column 9: the inode.
      if (cols.length < 10 || cols[3] !== "0A" || !inodes.has(cols[9]!)) continue;
      const [hex, port] = cols[1]!.split(":") as [string, string];
      // IPv4 in /proc is little-endian hex; an IPv6 address is shown as it is.
      const ip = hex.length === 8 ? [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(".") : hex;
      out.push(`${ip}:${parseInt(port, 16)}`);
    }
  }
  return out.sort();
}

async function curl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command("curl", { args: ["-sS", "-m", "10", ...args], stdout: "piped", stderr: "piped" })
    .output();
  return { code: r.code, out: new TextDecoder().decode(r.stdout), err: new TextDecoder().decode(r.stderr) };
}

/** The first bytes the server answers to the h2c preface and an empty SETTINGS frame, up to the end. */
async function answerToPreface(port: number): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"));
    const buf = new Uint8Array(4096);
    let got = new Uint8Array(0);
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      const more = new Uint8Array(got.byteLength + n);
      more.set(got);
      more.set(buf.subarray(0, n), got.byteLength);
      got = more;
    }
    return new TextDecoder("latin1").decode(got);
  } finally {
    c.close();
  }
}

Deno.test("no loopback: one listening socket per address, plain and TLS; h2c without enabled_h2 is 400, with it HTTP/2", async () => {
  const origin = await startEchoOrigin("main");
  const pki = await makeTestPki([{ name: "a.test" }]);
  const leaf = pki.leaves["a.test"]!;
  // One loopback IP each (the port is any free one): a listening socket names its server by its IP.
  const server = (name: string, ip: string, extra: string) =>
    `[servers.${name}]\naddr = "${ip}:0"\nlocations = ["a"]\n${extra}\n`;
  // The first server is the one whose port proxy_main prints.
  const toml = `
${server("plain", "127.0.0.1", "")}
${server("plain_h2", "127.0.0.2", "enabled_h2 = true")}
${server("tls_deno", "127.0.0.3", "global_certificates = true")}
${server("tls_node", "127.0.0.4", 'global_certificates = true\ntls_min_version = "tlsv1.3"')}
${server("tls_node_h2", "127.0.0.5", 'global_certificates = true\ntls_min_version = "tlsv1.3"\nenabled_h2 = true')}
[locations.a]
upstream = "main"
[upstreams.main]
addrs = ["${origin.addr}"]
[certificates.a]
tls_cert = "${leaf.certFile}"
tls_key = "${leaf.keyFile}"
`;
  const { child, port, file } = await spawnProxy(toml);
  try {
    const sockets = await listening(child.pid);
    assert.deepEqual(
      sockets.map((a) => a.slice(0, a.lastIndexOf(":"))),
      ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"],
      `five addresses, five listening sockets: ${sockets.join(", ")}`,
    );
    assert.ok(sockets.includes(`127.0.0.1:${port}`));
    const at = (ip: string) => sockets.find((a) => a.startsWith(`${ip}:`))!;

    // Without enabled_h2: the preface is an HTTP/1 request line with version HTTP/2.0, answered 400, then the end.
    const answer = await answerToPreface(port);
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    const h2c = ["--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version} %{http_code}"];
    const refused = await curl([...h2c, `http://127.0.0.1:${port}/x`]);
    assert.notEqual(refused.code, 0, `curl got no HTTP/2 answer: ${refused.out} ${refused.err}`);
    assert.doesNotMatch(refused.out, /^2 /);
    // HTTP/1.1 on the same port is served.
    const h1 = await curl([
      "--http1.1",
      "-o",
      "/dev/null",
      "-w",
      "%{http_version} %{http_code}",
      `http://127.0.0.1:${port}/x`,
    ]);
    assert.equal(h1.out.trim(), "1.1 200", h1.err);

    // With enabled_h2: HTTP/2 with prior knowledge.
    const served = await curl([...h2c, `http://${at("127.0.0.2")}/x`]);
    assert.equal(served.out.trim(), "2 200", served.err);

    // The TLS addresses serve HTTP/1.1 (and h2 with enabled_h2) in process, with no loopback listener behind them.
    for (const [ip, h2] of [["127.0.0.3", false], ["127.0.0.4", false], ["127.0.0.5", true]] as const) {
      const p = at(ip).slice(ip.length + 1);
      const tls = ["--resolve", `a.test:${p}:${ip}`, "--cacert", pki.ca.certFile, "-o", "/dev/null"];
      const r = await curl([...tls, "--http1.1", "-w", "%{http_version} %{http_code}", `https://a.test:${p}/x`]);
      assert.equal(r.out.trim(), "1.1 200", `${ip}: ${r.err}`);
      const r2 = await curl([...tls, "--http2", "-w", "%{http_version} %{http_code}", `https://a.test:${p}/x`]);
      assert.equal(r2.out.trim(), h2 ? "2 200" : "1.1 200", `${ip}: ${r2.err}`);
    }
    assert.deepEqual(await listening(child.pid), sockets, "still one listening socket per address");
  } finally {
    await child.stop();
    await Deno.remove(file);
    await pki.remove();
    await origin.close();
  }
});

Deno.test("no loopback but PINGAP_HTTP1=deno-serve: a TLS address relays to a Deno.serve on loopback, which knows the client", async () => {
  const before = Deno.env.get("PINGAP_HTTP1");
  Deno.env.set("PINGAP_HTTP1", "deno-serve");
  const origin = await startEchoOrigin("main");
  const pki = await makeTestPki([{ name: "a.test" }]);
  const leaf = pki.leaves["a.test"]!;
  try {
    const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
global_certificates = true
locations = ["a"]
[locations.a]
upstream = "main"
[upstreams.main]
addrs = ["${origin.addr}"]
[certificates.a]
tls_cert = "${leaf.certFile}"
tls_key = "${leaf.keyFile}"
`);
    try {
      const p = proxy.port;
      const r = await curl([
        "--resolve",
        `a.test:${p}:127.0.0.1`,
        "--cacert",
        pki.ca.certFile,
        "-o",
        "/dev/null",
        "-w",
        "%{http_version} %{http_code}",
        `https://a.test:${p}/x`,
      ]);
      // 421 would say the relayed connection's client was not found by its loopback port.
      assert.equal(r.out.trim(), "1.1 200", r.err);
    } finally {
      await proxy.close();
    }
  } finally {
    if (before === undefined) Deno.env.delete("PINGAP_HTTP1");
    else Deno.env.set("PINGAP_HTTP1", before);
    await pki.remove();
    await origin.close();
  }
});
