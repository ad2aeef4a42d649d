/**
 * The two TLS engines (issue 17), chosen per server by its config (runtime/tls/engine_choice.ts): `Deno.listenTls`
 * with the certificate store's SNI choice, unless a setting needs `node:tls` (`tls_client_ca`, `proxy_protocol`, TLS
 * versions other than 1.2–1.3, `{:tls_version}`/`{:tls_cipher}` in the access log). Real proxy, real curl: each
 * engine serves HTTP/1.1 and h2 by ALPN, fills `{:tls_handshake_time}` and `pingap_tls_handshake_time`, and an ACME
 * certificate put at run time is served on the next handshake while an open keep-alive connection goes on.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect } from "node:tls";
import { makeTestPki, type TestPki } from "../_support/certs.ts";
import { compileToml, startTestProxy } from "../_support/proxy.ts";
import { tlsEngineOf } from "../../runtime/tls/mod.ts";
import { sampleValue } from "../../runtime/observe/metrics/exposition.ts";

function server(pki: TestPki, keys = ""): string {
  const leaf = pki.leaves["a.test"]!;
  return `
[servers.s]
addr = "127.0.0.1:0"
global_certificates = true
enabled_h2 = true
locations = ["a"]
prometheus_metrics = "/metrics"
${keys}
[locations.a]
plugins = ["pong"]
[plugins.pong]
category = "ping"
path = "/x"
[certificates.a]
tls_cert = "${leaf.certFile}"
tls_key = "${leaf.keyFile}"
is_default = true
`;
}

async function curl(pki: TestPki, port: number, args: string[], path = "/x"): Promise<string> {
  const out = await new Deno.Command("curl", {
    args: [
      "-sS",
      "--cacert",
      pki.ca.certFile,
      "--resolve",
      `a.test:${port}:127.0.0.1`,
      ...args,
      `https://a.test:${port}${path}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

Deno.test("tls engines: the config alone picks deno-tls or node:tls", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  try {
    const engine = (keys: string, before = "") =>
      tlsEngineOf(compileToml(before + server(pki, keys)).servers[0]!, true);
    assert.equal(engine(""), "deno-tls");
    assert.equal(engine(`tls_min_version = "tlsv1.2"\ntls_max_version = "tlsv1.3"`), "deno-tls", "rustls' range");
    assert.equal(engine(`tls_min_version = "tlsv1.1"`), "deno-tls", "1.1 is served as 1.2 by both engines");
    assert.equal(engine(`access_log = "{status} {:tls_handshake_time}"`), "deno-tls");
    assert.equal(engine(`tls_min_version = "tlsv1.3"`), "node-tls");
    assert.equal(engine(`tls_max_version = "tlsv1.2"`), "node-tls");
    assert.equal(engine(`tls_client_ca = "${pki.ca.certFile}"`), "node-tls");
    assert.equal(engine(`proxy_protocol = true`, `[basic]\ntrusted_proxies = ["127.0.0.1"]\n`), "node-tls");
    assert.equal(engine(`access_log = "{status} {:tls_version}"`), "node-tls");
    assert.equal(engine(`access_log = "{:tls_cipher}"`), "node-tls");
    assert.equal(tlsEngineOf(compileToml(server(pki)).servers[0]!, false), "node-tls", "without --unstable-net");
  } finally {
    await pki.remove();
  }
});

Deno.test("tls engines: each serves HTTP/1.1 and h2 by ALPN and times its handshakes; only node:tls names the version", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const fast = await startTestProxy(server(pki, `access_log = "{proto} {status} {:tls_handshake_time}|"`));
  const node = await startTestProxy(server(pki, `access_log = "{proto} {status} {:tls_version}|"`));
  try {
    assert.equal(fast.proxy.listening[0]!.tlsEngine, "deno-tls");
    assert.equal(node.proxy.listening[0]!.tlsEngine, "node-tls");
    for (const p of [fast, node]) {
      assert.equal(
        await curl(pki, p.port, ["--http1.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}"]),
        "1.1 200",
      );
      assert.equal(
        await curl(pki, p.port, ["--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}"]),
        "2 200",
      );
      const metrics = await curl(pki, p.port, ["--http1.1"], "/metrics");
      assert.ok(sampleValue(metrics, "pingap_tls_handshake_time_count", { server: "s" })! >= 3, metrics.slice(0, 200));
    }
    const lines = (logs: string[]) => logs.filter((l) => / 200 /.test(l) && l.includes("|"));
    const fastLines = lines(fast.logs), nodeLines = lines(node.logs);
    assert.ok(fastLines.some((l) => /HTTP\/1\.1 200 \d+\|/.test(l)), fastLines.join("\n"));
    assert.ok(fastLines.some((l) => /HTTP\/2(\.0)? 200 \d+\|/.test(l)), fastLines.join("\n"));
    assert.ok(nodeLines.some((l) => /HTTP\/1\.1 200 TLSv1\.3\|/.test(l)), nodeLines.join("\n"));
  } finally {
    await fast.close();
    await node.close();
    await pki.remove();
  }
});

Deno.test("tls engines: a certificate put at run time (ACME) is served on the next deno-tls handshake; an open connection goes on", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const renewed = await pki.leaf({ name: "a.test.renewed", dns: ["a.test"] });
  const proxy = await startTestProxy(server(pki));
  const sock = connect({ host: "127.0.0.1", port: proxy.port, servername: "a.test", ca: pki.ca.cert });
  const fingerprint = async () => {
    const s = connect({ host: "127.0.0.1", port: proxy.port, servername: "a.test", ca: pki.ca.cert });
    await new Promise<void>((resolve, reject) => s.once("secureConnect", resolve).once("error", reject));
    const cn = String(s.getPeerCertificate().subject.CN);
    s.destroy();
    return cn;
  };
  const request = () =>
    new Promise<string>((resolve, reject) => {
      let got = "";
      const onData = (b: Uint8Array) => {
        got += new TextDecoder().decode(b);
        if (got.endsWith("pong")) (sock.off("data", onData), resolve(got.split("\r\n")[0]!));
      };
      sock.on("data", onData).once("error", reject);
      sock.write("GET /x HTTP/1.1\r\nhost: a.test\r\n\r\n");
    });
  try {
    assert.equal(proxy.proxy.listening[0]!.tlsEngine, "deno-tls");
    await new Promise<void>((resolve, reject) => sock.once("secureConnect", resolve).once("error", reject));
    assert.equal(await request(), "HTTP/1.1 200 OK");
    assert.equal(await fingerprint(), "a.test");
    // As runtime/acme/handoff.ts hands a renewed certificate over: straight into the store, no reload.
    proxy.proxy.certificates.put("acme-a", { cert: renewed.cert, key: renewed.key });
    let cn = "";
    for (let i = 0; i < 50 && cn !== "a.test.renewed"; i++) {
      cn = await fingerprint();
      if (cn !== "a.test.renewed") await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(cn, "a.test.renewed", "the next handshake gets the renewed certificate");
    assert.equal(await request(), "HTTP/1.1 200 OK", "the keep-alive connection opened before goes on");
    assert.equal(sock.getPeerCertificate().subject.CN, "a.test");
  } finally {
    sock.destroy();
    await proxy.close();
    await pki.remove();
  }
});
