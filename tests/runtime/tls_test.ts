/**
 * Serving TLS (issue 7) with real clients: `openssl s_client` and curl pick
 * certificates by SNI (exact, wildcard, default) on one port, HTTP/2 comes
 * by ALPN, TLS version limits refuse what is outside, a reload replaces a
 * certificate for new handshakes while an open keep-alive connection goes
 * on, an `is_ca` certificate mints leaves, and `http_to_https` redirects.
 * Certificates are made with openssl at test time.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { makeTestPki, type TestPki } from "../_support/certs.ts";
import { freePort, startOrigin } from "../_support/origin.ts";
import { compileToml, startTestProxy } from "../_support/proxy.ts";
import { requireComponent } from "../components.ts";
import { spawnDeno } from "../_support/process.ts";
import { until } from "../_support/load.ts";
import { startWorkers, workerCount } from "../../runtime/process/workers.ts";

const h2load = await requireComponent("h2load", { binaries: ["h2load"], aptPackages: ["nghttp2-client"] });

async function run(cmd: string, args: string[], stdin = ""): Promise<{ code: number; out: string }> {
  const p = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const r = await p.output();
  return { code: r.code, out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr) };
}

/** The subject CN the server presents for `servername` ("" when the handshake failed). */
async function presented(port: number, servername: string | undefined, extra: string[] = []): Promise<string> {
  const sni = servername ? ["-servername", servername] : ["-noservername"];
  const r = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, ...sni, ...extra], "");
  return /subject=.*CN ?= ?([^\s,/]+)/.exec(r.out)?.[1] ?? "";
}

/** curl to `https://<host>:<port>/x` resolved to 127.0.0.1, trusting the test CA. */
function curlTo(pki: TestPki, port: number, host: string, args: string[]) {
  const resolve = ["--resolve", `${host}:${port}:127.0.0.1`];
  return run("curl", ["-sS", "--cacert", pki.ca.certFile, ...resolve, ...args, `https://${host}:${port}/x`]);
}

/** {@linkcode curlTo} printing "<http version> <status> <redirect url>". */
function curl(pki: TestPki, port: number, host: string, args: string[] = []) {
  return curlTo(pki, port, host, ["-o", "/dev/null", "-w", "%{http_version} %{http_code} %{redirect_url}", ...args]);
}

function certToml(name: string, cert: { certFile: string; keyFile: string }, extra = ""): string {
  return `[certificates.${
    JSON.stringify(name)
  }]\ntls_cert = "${cert.certFile}"\ntls_key = "${cert.keyFile}"\n${extra}\n`;
}

/** A TLS server answering `GET /x` with the ping plugin, with `certs` (TOML) and more server keys. */
function pingServer(certs: string, serverKeys = ""): string {
  return `
[servers.s]
addr = "127.0.0.1:0"
global_certificates = true
locations = ["a"]
${serverKeys}
[locations.a]
plugins = ["pong"]
[plugins.pong]
category = "ping"
path = "/x"
${certs}`;
}

Deno.test("tls: three certificates on one port chosen by SNI; HTTP/2 by ALPN", async () => {
  const pki = await makeTestPki([{ name: "a.test" }, { name: "w", dns: ["*.w.test"] }, { name: "d.test" }]);
  const certs = [
    certToml("exact", pki.leaves["a.test"]!),
    certToml("wild", pki.leaves["w"]!),
    certToml("fallback", pki.leaves["d.test"]!, "is_default = true"),
  ];
  const proxy = await startTestProxy(pingServer(certs.join("\n"), "enabled_h2 = true"));
  try {
    assert.equal(proxy.proxy.listening[0]!.tlsEngine, "deno-tls", "Deno.listenTls with the store's SNI choice");
    assert.equal(await presented(proxy.port, "a.test"), "a.test");
    assert.equal(await presented(proxy.port, "x.w.test"), "w");
    assert.equal(await presented(proxy.port, "other.test"), "d.test");
    assert.equal(await presented(proxy.port, undefined), "d.test");
    // curl verifies each against the CA: the right certificate for each name.
    assert.equal((await curl(pki, proxy.port, "a.test", ["--http1.1"])).out, "1.1 200 ");
    assert.equal((await curl(pki, proxy.port, "x.w.test", ["--http2"])).out, "2 200 ");
    const mismatch = await curl(pki, proxy.port, "nothing.test");
    assert.notEqual(mismatch.code, 0, "d.test's certificate does not verify for nothing.test");
  } finally {
    await proxy.close();
    await pki.remove();
  }
});

Deno.test({
  name: "tls: h2load negotiates h2 by ALPN and gets every answer",
  ignore: !h2load,
  async fn() {
    const pki = await makeTestPki([{ name: "a.test" }]);
    const proxy = await startTestProxy(
      pingServer(certToml("a", pki.leaves["a.test"]!, "is_default = true"), "enabled_h2 = true"),
    );
    try {
      const r = await run(h2load!.h2load, ["-n", "200", "-c", "4", "-m", "10", `https://127.0.0.1:${proxy.port}/x`]);
      assert.match(r.out, /Application protocol: h2/);
      assert.match(r.out, /200 succeeded/);
      assert.match(r.out, /status codes: 200 2xx/);
    } finally {
      await proxy.close();
      await pki.remove();
    }
  },
});

Deno.test("tls: tls_min_version and tls_max_version refuse handshakes outside", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const cert = certToml("a", pki.leaves["a.test"]!, "is_default = true");
  const only13 = await startTestProxy(pingServer(cert, `tls_min_version = "tlsv1.3"`));
  const only12 = await startTestProxy(pingServer(cert, `tls_max_version = "tlsv1.2"`));
  try {
    assert.equal(only13.proxy.listening[0]!.tlsEngine, "node-tls", "rustls cannot be limited to TLS 1.3");
    assert.equal(only12.proxy.listening[0]!.tlsEngine, "node-tls");
    assert.equal(await presented(only13.port, "a.test", ["-tls1_3"]), "a.test");
    assert.equal(await presented(only13.port, "a.test", ["-tls1_2"]), "", "TLS 1.2 refused under min 1.3");
    assert.equal(await presented(only12.port, "a.test", ["-tls1_2"]), "a.test");
    assert.equal(await presented(only12.port, "a.test", ["-tls1_3"]), "", "TLS 1.3 refused under max 1.2");
  } finally {
    await only13.close();
    await only12.close();
    await pki.remove();
  }
});

/** One HTTP/1.1 request on an open TLS socket; resolves with the status line. */
function request(sock: TLSSocket, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const onData = (b: Uint8Array) => {
      got += new TextDecoder().decode(b);
      const end = got.indexOf("\r\n\r\n");
      // The length field may be the head's last (the HTTP/1.1 front end writes it last).
      const m = end < 0 ? null : /\r\ncontent-length: (\d+)/i.exec(got.slice(0, end + 2));
      if (m && got.length >= end + 4 + Number(m[1])) {
        sock.off("data", onData);
        resolve(got.split("\r\n")[0]!);
      }
    };
    sock.on("data", onData);
    sock.once("error", reject);
    sock.write(`GET /x HTTP/1.1\r\nhost: ${host}\r\n\r\n`);
  });
}

Deno.test("tls: a reload replaces a certificate for new handshakes; an open keep-alive connection goes on", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const second = await pki.leaf({ name: "a.test.2", dns: ["a.test"] });
  const toml = (c: { certFile: string; keyFile: string }) => pingServer(certToml("a", c));
  const proxy = await startTestProxy(toml(pki.leaves["a.test"]!));
  const sock = tlsConnect({ host: "127.0.0.1", port: proxy.port, servername: "a.test", ca: pki.ca.cert });
  try {
    assert.equal(proxy.proxy.listening[0]!.tlsEngine, "deno-tls");
    await new Promise<void>((resolve, reject) => sock.once("secureConnect", resolve).once("error", reject));
    const first = sock.getPeerCertificate().fingerprint256;
    assert.equal(await request(sock, "a.test"), "HTTP/1.1 200 OK");
    await proxy.proxy.swap(compileToml(toml(second)));
    assert.equal(await presented(proxy.port, "a.test"), "a.test.2", "a new handshake sees the new certificate");
    assert.equal(await request(sock, "a.test"), "HTTP/1.1 200 OK", "the open connection goes on");
    assert.equal(sock.getPeerCertificate().fingerprint256, first);
  } finally {
    sock.destroy();
    await proxy.close();
    await pki.remove();
  }
});

Deno.test("tls: an is_ca certificate mints a leaf per SNI, verified against the CA", async () => {
  const pki = await makeTestPki();
  const proxy = await startTestProxy(pingServer(certToml("ca", pki.ca, "is_ca = true\nis_default = true")));
  try {
    assert.equal(await presented(proxy.port, "foo.bar.test"), "*.bar.test");
    assert.equal((await curl(pki, proxy.port, "foo.bar.test")).out, "1.1 200 ");
    assert.equal((await curl(pki, proxy.port, "example.test")).out, "1.1 200 ");
  } finally {
    await proxy.close();
    await pki.remove();
  }
});

Deno.test("tls: redirect http_to_https sends plain HTTP to https and serves HTTPS", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const proxy = await startTestProxy(`
[servers.plain]
addr = "127.0.0.1:0"

locations = ["a"]
[servers.secure]
addr = "127.0.0.1:${freePort()}"
global_certificates = true
locations = ["a"]
[locations.a]
plugins = ["https", "pong"]
[plugins.https]
category = "redirect"
http_to_https = true
[plugins.pong]
category = "ping"
path = "/x"
${certToml("a", pki.leaves["a.test"]!, "is_default = true")}`);
  try {
    const secure = proxy.proxy.listening.find((l) => l.server === "secure")!.port;
    const plain = await run("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code} %{redirect_url}",
      `${proxy.url}/x?q=1`,
    ]);
    assert.equal(plain.out, `307 https://127.0.0.1:${proxy.port}/x?q=1`);
    assert.equal((await curl(pki, secure, "a.test")).out, "1.1 200 ");
  } finally {
    await proxy.close();
    await pki.remove();
  }
});

Deno.test("tls: a certificate expiring within buffer_days sends tls_validity to the webhook at start", async () => {
  const pki = await makeTestPki([{ name: "soon.test", days: 3 }]);
  const got = Promise.withResolvers<Record<string, string>>();
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.resolve(await req.json());
    return new Response(null, { status: 204 });
  });
  const proxy = await startTestProxy(`
[basic]
webhook = "http://127.0.0.1:${receiver.addr.port}/hook"
webhook_notifications = ["tls_validity"]
webhook_batch_window = "0s"
${pingServer(certToml("soon", pki.leaves["soon.test"]!, "is_default = true"))}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const body = await Promise.race([
      got.promise,
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error("no webhook within 5 s")), 5000)),
    ]);
    assert.equal(body.category, "tls_validity");
    assert.equal(body.level, "warn");
    assert.match(body.message!, /certificate "soon" \(soon\.test\) will be expired on .*, in 2 days/);
  } finally {
    clearTimeout(timer);
    await proxy.close();
    await receiver.shutdown();
    await pki.remove();
  }
});

Deno.test("tls: with two workers the tls_validity webhook is sent once, not once per worker", async () => {
  const pki = await makeTestPki([{ name: "soon.test", days: 3 }]);
  let posts = 0;
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if ((await req.json()).category === "tls_validity") posts++;
    return new Response(null, { status: 204 });
  });
  const plan = compileToml(`
[basic]
webhook = "http://127.0.0.1:${receiver.addr.port}/hook"
webhook_notifications = ["tls_validity"]
webhook_batch_window = "0s"
${pingServer(certToml("soon", pki.leaves["soon.test"]!, "is_default = true"), "threads = 2")}`);
  const group = await startWorkers(plan, workerCount(plan));
  try {
    assert.equal(group.size, 2);
    await until(() => Promise.resolve(posts > 0));
    // Time for a second worker's notice to arrive, were there one.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(posts, 1);
  } finally {
    await group.shutdown();
    await receiver.shutdown();
    await pki.remove();
  }
});

Deno.test("tls: large bodies pass both ways through the TLS listener (backpressure), over HTTP/1.1 and HTTP/2", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const big = new Uint8Array(6 * 1024 * 1024).fill(97);
  const origin = await startOrigin("big", async (req) => {
    const n = (await req.arrayBuffer()).byteLength;
    return req.method === "POST" ? new Response(`got ${n}`) : new Response(big);
  });
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
global_certificates = true
enabled_h2 = true
locations = ["a"]
[locations.a]
upstream = "big"
client_max_body_size = "10mb"
[upstreams.big]
addrs = ["${origin.addr}"]
${certToml("a", pki.leaves["a.test"]!, "is_default = true")}`);
  const upload = `${pki.dir}/upload.bin`;
  await Deno.writeFile(upload, big);
  try {
    for (const version of ["--http1.1", "--http2"]) {
      const down = await curl(pki, proxy.port, "a.test", [version]);
      assert.equal(down.out, version === "--http2" ? "2 200 " : "1.1 200 ");
      const size = await curlTo(pki, proxy.port, "a.test", [version, "-o", "/dev/null", "-w", "%{size_download}"]);
      assert.equal(size.out, String(big.length));
      const up = await curlTo(pki, proxy.port, "a.test", [version, "--data-binary", `@${upload}`]);
      assert.equal(up.out, `got ${big.length}`);
    }
  } finally {
    await proxy.close();
    await origin.close();
    await pki.remove();
  }
});

Deno.test("tls: SIGHUP applies a certificate file rewritten in place, with the config unchanged (a renewal)", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const renewed = await pki.leaf({ name: "a.test.renewed", dns: ["a.test"] });
  const dir = await Deno.makeTempDir();
  const live = { certFile: `${dir}/a.pem`, keyFile: `${dir}/a.key` };
  await Deno.copyFile(pki.leaves["a.test"]!.certFile, live.certFile);
  await Deno.copyFile(pki.leaves["a.test"]!.keyFile, live.keyFile);
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/pingap.toml`,
    pingServer(certToml("a", live)).replace("127.0.0.1:0", `127.0.0.1:${port}`),
  );
  const child = spawnDeno(["run", "-A", "--unstable-net", "mod.ts", "start", "-c", `${dir}/pingap.toml`]);
  try {
    await child.waitFor(/listening on https:/);
    assert.equal(await presented(port, "a.test"), "a.test");
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\): config unchanged/);
    await Deno.copyFile(renewed.certFile, live.certFile);
    await Deno.copyFile(renewed.keyFile, live.keyFile);
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\): certificate files changed/);
    assert.equal(await presented(port, "a.test"), "a.test.renewed");
    assert.equal(await child.stop(), 0);
  } finally {
    await child.stop();
    await pki.remove();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls: requests go through the HTTP/1.1 front end: a slow head is cut after downstream_read_timeout, CONNECT gets 405", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const proxy = await startTestProxy(
    pingServer(certToml("a", pki.leaves["a.test"]!), 'downstream_read_timeout = "1s"'),
  );
  const open = async () => {
    const sock = tlsConnect({ host: "127.0.0.1", port: proxy.port, servername: "a.test", ca: pki.ca.cert });
    sock.on("error", () => {});
    await new Promise<void>((resolve, reject) => sock.once("secureConnect", resolve).once("error", reject));
    return sock;
  };
  const socks: TLSSocket[] = [];
  try {
    assert.equal(proxy.proxy.listening[0]!.tlsEngine, "deno-tls");
    // A head dripped a byte every 200 ms: closed by the server (before the test's own 15 s deadline).
    const slow = await open();
    socks.push(slow);
    const closed = new Promise<boolean>((resolve) => {
      const deadline = setTimeout(() => resolve(false), 15_000);
      slow.once("close", () => (clearTimeout(deadline), resolve(true)));
    });
    slow.write("GET /x HTTP/1.1\r\nhost: a.test\r\nx-a: ");
    const drip = setInterval(() => slow.writable && slow.write("a"), 200);
    const wasClosed = await closed;
    clearInterval(drip);
    assert.ok(wasClosed, "the slow head was cut");
    // The screen of heads applies behind TLS too.
    const c = await open();
    socks.push(c);
    const answer = new Promise<string>((resolve) => {
      let got = "";
      c.on("data", (b: Uint8Array) => got += new TextDecoder().decode(b));
      c.once("close", () => resolve(got));
    });
    c.write("CONNECT a.test:443 HTTP/1.1\r\nhost: a.test:443\r\n\r\n");
    assert.match(await answer, /^HTTP\/1\.1 405 /);
  } finally {
    for (const s of socks) s.destroy();
    await proxy.close();
    await pki.remove();
  }
});
