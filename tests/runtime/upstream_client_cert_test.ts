/**
 * Upstream `client_cert` / `client_key` (Pingap 0.16): mutual TLS to a
 * real `openssl s_server` that demands a client certificate signed by the
 * test CA. With the pair the request goes through; without it the
 * handshake fails (502).
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeTestPki } from "../_support/certs.ts";
import { freePort } from "../_support/origin.ts";
import { get, startTestProxy } from "../_support/proxy.ts";
import { createSecureServer, type ServerHttp2Stream } from "node:http2";
import type { TLSSocket } from "node:tls";

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "null", stderr: "piped" }).output();
  assert.ok(out.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** The test PKI with `api.test` and a client certificate (clientAuth, `client.pem`/`client.key`) signed by its CA. */
async function pkiWithClientCert() {
  const pki = await makeTestPki([{ name: "api.test" }]);
  const dir = pki.dir;
  // A client certificate (clientAuth) signed by the test CA.
  await run("openssl", [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "client.key",
    "-out",
    "client.csr",
    "-subj",
    "/CN=proxy-client",
  ], dir);
  await Deno.writeTextFile(`${dir}/client.ext`, "extendedKeyUsage=clientAuth\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "client.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "client.ext",
    "-out",
    "client.pem",
  ], dir);
  return pki;
}

Deno.test("upstream client_cert: a backend that demands a client certificate gets it (HTTP/1.1)", async () => {
  const pki = await pkiWithClientCert();
  const dir = pki.dir;
  const port = freePort();
  // -Verify 1: a client without a certificate signed by ca.pem fails the handshake; -www answers a page.
  const server = new Deno.Command("openssl", {
    args: [
      "s_server",
      "-accept",
      `127.0.0.1:${port}`,
      "-cert",
      "api.test.pem",
      "-key",
      "api.test.key",
      "-CAfile",
      "ca.pem",
      "-Verify",
      "1",
      "-www",
      "-quiet",
    ],
    cwd: dir,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const upstream = (extra: string) =>
    `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n[locations.l]\nupstream = "u"\n` +
    `[upstreams.u]\naddrs = ["127.0.0.1:${port}"]\nsni = "api.test"\nca = "${dir}/ca.pem"\n${extra}`;
  const withCert = await startTestProxy(
    upstream(`client_cert = "${dir}/client.pem"\nclient_key = "${dir}/client.key"\n`),
  );
  const without = await startTestProxy(upstream(""));
  try {
    // s_server may still be starting.
    let got = await get(`${withCert.url}/`);
    for (let i = 0; i < 50 && got.status === 502; i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      got = await get(`${withCert.url}/`);
    }
    assert.equal(got.status, 200, got.text);
    assert.match(got.text, /s_server/);
    assert.equal((await get(`${without.url}/`)).status, 502);
  } finally {
    await withCert.close();
    await without.close();
    server.kill("SIGTERM");
    await server.status;
    await pki.remove();
  }
});

Deno.test("upstream client_cert over h2: the h2 client presents it, verified against the upstream's ca", async () => {
  const pki = await pkiWithClientCert();
  const dir = pki.dir;
  const server = createSecureServer({
    cert: await Deno.readTextFile(`${dir}/api.test.pem`),
    key: await Deno.readTextFile(`${dir}/api.test.key`),
    ca: await Deno.readTextFile(`${dir}/ca.pem`),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on("stream", (stream: ServerHttp2Stream) => {
    const peer = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate();
    stream.respond({ ":status": 200 });
    stream.end(`h2 client ${peer?.subject?.CN ?? "none"}`);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const port = (server.address() as { port: number }).port;
  const upstream = (extra: string) =>
    `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n[locations.l]\nupstream = "u"\n` +
    `[upstreams.u]\naddrs = ["127.0.0.1:${port}"]\nalpn = "h2"\nsni = "api.test"\nca = "${dir}/ca.pem"\n${extra}`;
  const withCert = await startTestProxy(
    upstream(`client_cert = "${dir}/client.pem"\nclient_key = "${dir}/client.key"\n`),
  );
  const without = await startTestProxy(upstream(""));
  try {
    const got = await get(`${withCert.url}/`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.text, "h2 client proxy-client");
    assert.equal((await get(`${without.url}/`)).status, 502);
  } finally {
    await withCert.close();
    await without.close();
    await new Promise((ok) => server.close(ok));
    await pki.remove();
  }
});
