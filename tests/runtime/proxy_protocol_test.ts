/**
 * `proxy_protocol` on a plain HTTP/1.1 listener and a TLS one, with `pingap start` in its own process and raw clients: from a peer
 * in `basic.trusted_proxies`, a PROXY v1 or v2 header names the client the access log shows (`{remote}`,
 * `{client_ip}`) for every request on the connection; a trusted peer that sends no header is disconnected (WARN);
 * a peer outside the list is served with no header read (the bytes of one would be a bad request). On a TLS listener
 * the header comes before the handshake and is read there.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "../_support/origin.ts";
import { type Child, spawnDeno, START_ARGS } from "../_support/process.ts";
import { makeTestPki } from "../_support/certs.ts";
import { pollFor } from "../_support/poll.ts";

const enc = new TextEncoder();
const PING = "GET /ping HTTP/1.1\r\nHost: a\r\n\r\n";
const PING_CLOSE = "GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

function config(port: number, dir: string, trusted: string, extra = ""): string {
  return `${extra}
[basic]
trusted_proxies = ["${trusted}"]

[servers.s]
addr = "127.0.0.1:${port}"
proxy_protocol = true
# Two requests go in one write after the header.
h1_pipelining = true
${extra ? "global_certificates = true\nenabled_h2 = true" : ""}
access_log = "${dir}/access.log?rolling=never {remote} {client_ip} {status}"
locations = ["ping"]

[locations.ping]
path = "/ping"
plugins = ["pingap:ping"]
`;
}

/** Writes `bytes` on a new connection and reads until the proxy closes it (at most 10 s). */
async function exchange(port: number, bytes: Uint8Array): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 10_000);
  const parts: number[] = [];
  try {
    await conn.write(bytes);
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      parts.push(...buf.subarray(0, n));
    }
    conn.close();
  } catch {
    // Reset by the proxy, or closed by the timer.
  } finally {
    clearTimeout(timer);
  }
  return new TextDecoder().decode(new Uint8Array(parts));
}

function cat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bs = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(bs.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of bs) out.set(b, (at += b.byteLength) - b.byteLength);
  return out;
}

/** A PROXY v2 header: PROXY command, TCP over IPv4 (0x11) or IPv6 (0x21), with `src`:`port`. */
function v2(src: number[], port: number, command = 0x21): Uint8Array {
  const v6 = src.length === 16;
  const dst = new Array(src.length).fill(0);
  const addrs = [...src, ...dst, port >> 8, port & 255, 0, 80];
  return new Uint8Array([
    ...[0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a],
    command,
    v6 ? 0x21 : 0x11,
    0,
    addrs.length,
    ...addrs,
  ]);
}

async function start(trusted: string, extra = ""): Promise<{ child: Child; port: number; dir: string }> {
  const port = freePort();
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/pingap.toml`, config(port, dir, trusted, extra));
  const child = spawnDeno([...START_ARGS, `${dir}/pingap.toml`]);
  await child.waitFor(/listening/);
  return { child, port, dir };
}

async function logLines(dir: string, count: number): Promise<string[]> {
  return await pollFor(`${count} access-log lines`, async () => {
    const lines = (await Deno.readTextFile(`${dir}/access.log`)).trim().split("\n").filter((l) => l !== "");
    return lines.length >= count ? lines : undefined;
  });
}

Deno.test("proxy_protocol: a trusted peer's v1 and v2 headers name the client of every request on the connection", async () => {
  const { child, port, dir } = await start("127.0.0.1");
  try {
    // v1, two requests on the connection: both are the header's client.
    const a = await exchange(port, enc.encode(`PROXY TCP4 192.0.2.7 10.0.0.1 5555 80\r\n${PING}${PING_CLOSE}`));
    assert.equal(a.match(/HTTP\/1\.1 200/g)?.length, 2, a);
    assert.deepEqual(await logLines(dir, 2), ["192.0.2.7 192.0.2.7 200", "192.0.2.7 192.0.2.7 200"]);
    // v1 over IPv6, v2 over IPv4 and IPv6.
    const b = await exchange(port, enc.encode(`PROXY TCP6 2001:db8::9 ::1 4000 80\r\n${PING_CLOSE}`));
    assert.match(b, /^HTTP\/1\.1 200/);
    const c = await exchange(port, cat(v2([198, 51, 100, 4], 6000), PING_CLOSE));
    assert.match(c, /^HTTP\/1\.1 200/);
    const d = await exchange(port, cat(v2([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 5], 7000), PING_CLOSE));
    assert.match(d, /^HTTP\/1\.1 200/);
    // v2 LOCAL (a health check of the balancer): the peer is the client.
    const e = await exchange(port, cat(v2([198, 51, 100, 4], 6000, 0x20), PING_CLOSE));
    assert.match(e, /^HTTP\/1\.1 200/);
    // A request the front end hands to Deno.serve (a chunked body) keeps the header's client.
    const chunked =
      "POST /ping HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n";
    const f = await exchange(port, enc.encode(`PROXY TCP4 203.0.113.5 10.0.0.1 5555 80\r\n${chunked}`));
    assert.match(f, /^HTTP\/1\.1 200/);
    assert.deepEqual((await logLines(dir, 7)).slice(2), [
      "2001:db8::9 2001:db8::9 200",
      "198.51.100.4 198.51.100.4 200",
      "2001:db8::5 2001:db8::5 200",
      "127.0.0.1 127.0.0.1 200",
      "203.0.113.5 203.0.113.5 200",
    ]);
  } finally {
    await child.stop();
  }
});

Deno.test("proxy_protocol: a trusted peer without a valid header is disconnected, logged at WARN", async () => {
  const { child, port, dir } = await start("127.0.0.1");
  try {
    assert.equal(await exchange(port, enc.encode(PING_CLOSE)), "");
    assert.equal(await exchange(port, enc.encode(`PROXY TCP4 nope 10.0.0.1 5555 80\r\n${PING_CLOSE}`)), "");
    await child.waitFor(/WARN.*connection from 127\.0\.0\.1:\d+ closed: not a PROXY protocol header/);
    await child.waitFor(/WARN.*closed: malformed PROXY v1 header/);
    // Still serving.
    const ok = await exchange(port, enc.encode(`PROXY TCP4 192.0.2.8 10.0.0.1 5555 80\r\n${PING_CLOSE}`));
    assert.match(ok, /^HTTP\/1\.1 200/);
    assert.deepEqual(await logLines(dir, 1), ["192.0.2.8 192.0.2.8 200"]);
  } finally {
    await child.stop();
  }
});

Deno.test("proxy_protocol: a peer outside trusted_proxies is served with no header read", async () => {
  const { child, port, dir } = await start("127.0.0.2");
  try {
    const plain = await exchange(port, enc.encode(PING_CLOSE));
    assert.match(plain, /^HTTP\/1\.1 200/);
    assert.deepEqual(await logLines(dir, 1), ["127.0.0.1 127.0.0.1 200"]);
    // A header it sends is not taken: it is the start of a bad request.
    const header = await exchange(port, enc.encode(`PROXY TCP4 192.0.2.7 10.0.0.1 5555 80\r\n${PING_CLOSE}`));
    assert.match(header, /^HTTP\/1\.1 400/);
  } finally {
    await child.stop();
  }
});

/** Writes `header` in clear, then `request` over TLS; what came back ("" when the connection was cut). */
async function tlsExchange(port: number, ca: string, header: Uint8Array, request: string): Promise<string> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    if (header.byteLength > 0) await tcp.write(header);
    const conn = await Deno.startTls(tcp, { hostname: "a.test", caCerts: [ca] });
    const timer = setTimeout(() => conn.close(), 10_000);
    const parts: number[] = [];
    try {
      await conn.write(enc.encode(request));
      const buf = new Uint8Array(4096);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        parts.push(...buf.subarray(0, n));
      }
      conn.close();
    } finally {
      clearTimeout(timer);
    }
    return new TextDecoder().decode(new Uint8Array(parts));
  } catch {
    try {
      tcp.close();
    } catch { /* closed */ }
    return "";
  }
}

Deno.test("proxy_protocol on a TLS listener: the header before the handshake names the client; none from a trusted peer is cut", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const leaf = pki.leaves["a.test"]!;
  const certs = `[certificates.a]\ntls_cert = "${leaf.certFile}"\ntls_key = "${leaf.keyFile}"\n\n`;
  const { child, port, dir } = await start("127.0.0.1", certs);
  try {
    const v1 = enc.encode("PROXY TCP4 192.0.2.9 10.0.0.1 5555 443\r\n");
    assert.match(await tlsExchange(port, pki.ca.cert, v1, `${PING}${PING_CLOSE}`), /^HTTP\/1\.1 200[^]*HTTP\/1\.1 200/);
    assert.match(await tlsExchange(port, pki.ca.cert, v2([198, 51, 100, 9], 6000), PING_CLOSE), /^HTTP\/1\.1 200/);
    assert.deepEqual(await logLines(dir, 3), [
      "192.0.2.9 192.0.2.9 200",
      "192.0.2.9 192.0.2.9 200",
      "198.51.100.9 198.51.100.9 200",
    ]);
    assert.equal(await tlsExchange(port, pki.ca.cert, new Uint8Array(0), PING_CLOSE), "");
    await child.waitFor(/WARN.*connection from 127\.0\.0\.1:\d+ closed: not a PROXY protocol header/);
  } finally {
    await child.stop();
    await pki.remove();
  }
});
