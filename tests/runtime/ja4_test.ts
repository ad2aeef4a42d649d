/**
 * `ja4 = true` with `pingap start` in its own process and real TLS clients (curl, `openssl s_client`, Deno's rustls):
 * the TLS listener reads each ClientHello before the handshake, and the access log (`{:ja4}`, `{:ja4_ro}`) and the
 * `$ja4` header variable carry its fingerprint; the request is served and SNI still picks the certificate. With
 * `proxy_protocol` the PROXY header comes first, then the hello (there over h2 as well as HTTP/1.1). Bytes that are no ClientHello go to the TLS server
 * all the same, which refuses them, and the proxy goes on.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, startEchoOrigin } from "../_support/origin.ts";
import { type Child, spawnDeno, START_ARGS } from "../_support/process.ts";
import { makeTestPki, type TestPki } from "../_support/certs.ts";
import { pollFor } from "../_support/poll.ts";

const enc = new TextEncoder();
const JA4 = /^t13d\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/;

interface Setup {
  readonly child: Child;
  readonly port: number;
  readonly dir: string;
  readonly pki: TestPki;
  close(): Promise<void>;
}

async function start(proxyProtocol: boolean): Promise<Setup> {
  const pki = await makeTestPki([{ name: "a.test" }, { name: "b.test" }]);
  const origin = await startEchoOrigin("o");
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const [a, b] = [pki.leaves["a.test"]!, pki.leaves["b.test"]!];
  await Deno.writeTextFile(
    `${dir}/pingap.toml`,
    `[certificates.a]\ntls_cert = "${a.certFile}"\ntls_key = "${a.keyFile}"\n\n` +
      `[certificates.b]\ntls_cert = "${b.certFile}"\ntls_key = "${b.keyFile}"\n\n` +
      (proxyProtocol ? `[basic]\ntrusted_proxies = ["127.0.0.1"]\n\n` : "") +
      `[upstreams.o]\naddrs = ["${origin.addr}"]\n\n` +
      `[locations.l]\nupstream = "o"\nproxy_set_headers = ["X-Ja4:$ja4"]\n\n` +
      `[servers.s]\naddr = "127.0.0.1:${port}"\nglobal_certificates = true\nja4 = true\n` +
      // With proxy_protocol, h2 too: an h2 connection goes to the HTTP/2 engine in process, with its TLS facts.
      (proxyProtocol ? "proxy_protocol = true\nenabled_h2 = true\n" : "") +
      `access_log = "${dir}/access.log?rolling=never {remote} {host} {:ja4} {:ja4_ro} {status}"\nlocations = ["l"]\n`,
  );
  const child = spawnDeno([...START_ARGS, `${dir}/pingap.toml`]);
  await child.waitFor(/listening/);
  return {
    child,
    port,
    dir,
    pki,
    async close() {
      await child.stop();
      await origin.close();
      await pki.remove();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The access log's lines, once there are `count`: `[remote, host, ja4, ja4_ro, status]` each. */
async function logLines(dir: string, count: number): Promise<string[][]> {
  return await pollFor(`${count} access-log lines`, async () => {
    const text = await Deno.readTextFile(`${dir}/access.log`).catch(() => "");
    const lines = text.split("\n").filter((l) => l !== "");
    return lines.length >= count ? lines.map((l) => l.split(" ")) : undefined;
  });
}

/**
 * curl over TLS to `host` (resolved to 127.0.0.1), checking the certificate against the test CA: the headers the echo
 * origin got, and the HTTP version curl spoke.
 */
async function curlTls(
  s: Setup,
  host: string,
  ...extra: string[]
): Promise<{ headers: Record<string, string>; version: string }> {
  const out = await new Deno.Command("curl", {
    args: [
      "-sS",
      "--fail",
      "--cacert",
      s.pki.ca.certFile,
      "--resolve",
      `${host}:${s.port}:127.0.0.1`,
      "-w",
      "\n%{http_version}",
      ...extra,
      `https://${host}:${s.port}/x`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const text = new TextDecoder().decode(out.stdout);
  const cut = text.lastIndexOf("\n");
  return { headers: JSON.parse(text.slice(0, cut)).headers, version: text.slice(cut + 1) };
}

/** `openssl s_client` to `host` by SNI, verifying against the test CA, sending one request: what came back. */
async function opensslGet(s: Setup, host: string): Promise<string> {
  const child = new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      `127.0.0.1:${s.port}`,
      "-servername",
      host,
      "-CAfile",
      s.pki.ca.certFile,
      "-verify_return_error",
      "-verify_hostname",
      host,
      "-quiet",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(enc.encode(`GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
  await w.close();
  const out = await child.output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

/** Writes `bytes` raw, ends its side, and waits until the proxy closes the connection (at most 10 s). */
async function rawExchange(port: number, bytes: Uint8Array): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 10_000);
  try {
    await conn.write(bytes);
    await conn.closeWrite();
    const buf = new Uint8Array(4096);
    while ((await conn.read(buf)) !== null) { /* the TLS server's alert, if any */ }
    conn.close();
  } catch {
    // Reset, or closed by the timer.
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("ja4: curl and openssl s_client get their own t13d fingerprints in the access log and $ja4, SNI still picks the certificate", async () => {
  const s = await start(false);
  try {
    // curl to a.test and b.test: each verifies the certificate of its name, so SNI picked it.
    const viaA = await curlTls(s, "a.test");
    const viaB = await curlTls(s, "b.test", "--http1.1");
    const ssl = await opensslGet(s, "b.test");
    assert.match(ssl, /HTTP\/1\.1 200/);
    const lines = await logLines(s.dir, 3);
    const [a, b, o] = lines.map((l) => ({ remote: l[0], host: l[1], ja4: l[2]!, ro: l[3]!, status: l[4] }));
    for (const l of [a!, b!, o!]) {
      assert.match(l.ja4, JA4);
      assert.equal(l.status, "200");
      assert.ok(l.ro.startsWith(l.ja4.slice(0, 10) + "_"), l.ro);
    }
    assert.deepEqual([a!.host, b!.host, o!.host], ["a.test", "b.test", "b.test"]);
    // curl offers h2 and http/1.1 by ALPN (h2 first); openssl offers none.
    assert.equal(a!.ja4.slice(8, 10), "h2");
    assert.equal(o!.ja4.slice(8, 10), "00");
    assert.notEqual(a!.ja4, o!.ja4);
    // `$ja4` is the same fingerprint, per connection.
    assert.equal(viaA.headers["x-ja4"], a!.ja4);
    assert.equal(viaB.headers["x-ja4"], b!.ja4);
  } catch (e) {
    console.error(s.child.output());
    throw e;
  } finally {
    await s.close();
  }
});

Deno.test("ja4: bytes that are no ClientHello, or a hello cut short, are refused by TLS and the proxy goes on", async () => {
  const s = await start(false);
  try {
    await rawExchange(s.port, enc.encode("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"));
    // A record header announcing a ClientHello, then the client goes.
    await rawExchange(s.port, new Uint8Array([0x16, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3]));
    // A handshake record that holds no ClientHello, and one announcing 64 KiB.
    await rawExchange(s.port, new Uint8Array([0x16, 3, 1, 0, 4, 2, 0, 0, 0]));
    await rawExchange(s.port, new Uint8Array([0x16, 3, 1, 0, 4, 1, 1, 0, 0, ...new Array(64).fill(0)]));
    const ok = await curlTls(s, "a.test");
    assert.match(ok.headers["x-ja4"] ?? "", JA4);
    const lines = await logLines(s.dir, 1);
    assert.equal(lines.length, 1);
    assert.match(lines[0]![2]!, JA4);
  } catch (e) {
    console.error(s.child.output());
    throw e;
  } finally {
    await s.close();
  }
});

Deno.test("ja4 with proxy_protocol: the PROXY header, then the ClientHello; both are read", async () => {
  const s = await start(true);
  try {
    // curl sends a PROXY v1 header naming itself, then its hello; h2 by ALPN.
    const viaCurl = await curlTls(s, "a.test", "--haproxy-protocol", "--http2");
    // Deno's client (rustls) behind a header naming another client.
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    await tcp.write(enc.encode("PROXY TCP4 192.0.2.9 10.0.0.1 5555 443\r\n"));
    const conn = await Deno.startTls(tcp, {
      hostname: "b.test",
      caCerts: [s.pki.ca.cert],
      alpnProtocols: ["http/1.1"],
    });
    await conn.write(enc.encode("GET /x HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n"));
    let answer = "";
    const buf = new Uint8Array(4096);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      answer += new TextDecoder().decode(buf.subarray(0, n));
    }
    conn.close();
    assert.match(answer, /^HTTP\/1\.1 200/);
    const [c, d] = await logLines(s.dir, 2);
    assert.equal(c![0], "127.0.0.1");
    assert.equal(viaCurl.version, "2");
    assert.match(c![2]!, JA4);
    assert.equal(viaCurl.headers["x-ja4"], c![2]);
    assert.deepEqual([d![0], d![1]], ["192.0.2.9", "b.test"]);
    assert.match(d![2]!, /^t13d\d{4}h1_/);
    assert.notEqual(c![2], d![2]);
  } catch (e) {
    console.error(s.child.output());
    throw e;
  } finally {
    await s.close();
  }
});
