import assert from "node:assert/strict";
import { connect } from "node:tls";
import { makeTestPki } from "../../tests/_support/certs.ts";
import { inspectCertificate } from "../../compiler/mod.ts";
import { listenTls } from "./listener.ts";
import { CertStore } from "./store.ts";

Deno.test("listenTls() hands decrypted connections to the plain listener and maps them to the client", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const store = new CertStore();
  const a = pki.leaves["a.test"]!;
  store.replaceConfig([inspectCertificate("a", {}, { cert: a.cert, key: a.key }).certificate!]);
  const seen: { port: number; client?: { hostname: string; port: number; servername: string } | undefined }[] = [];
  const ref: { tls?: Awaited<ReturnType<typeof listenTls>> } = {};
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (_req, info) => {
    seen.push({ port: info.remoteAddr.port, client: ref.tls?.client(info.remoteAddr.port) });
    return new Response("hi");
  });
  const handshakes: number[] = [];
  const tls = ref.tls = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    h2: false,
    store,
    target: plain.addr,
    onHandshake: (ms) => handshakes.push(ms),
  });
  try {
    const sock = connect({ host: "127.0.0.1", port: tls.addr.port, servername: "a.test", ca: pki.ca.cert });
    await new Promise<void>((resolve, reject) => sock.once("secureConnect", resolve).once("error", reject));
    const answer = new Promise<string>((resolve) => {
      let got = "";
      sock.on("data", (b: Uint8Array) => {
        got += new TextDecoder().decode(b);
        if (got.endsWith("hi")) resolve(got);
      });
    });
    sock.write("GET / HTTP/1.1\r\nhost: a.test\r\n\r\n");
    assert.match(await answer, /^HTTP\/1\.1 200 OK/);
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]!.client, { hostname: "127.0.0.1", port: sock.localPort, servername: "a.test" });
    assert.notEqual(seen[0]!.port, sock.localPort, "the plain listener sees our loopback connection");
    assert.equal(handshakes.length, 1);
    assert.ok(handshakes[0]! >= 0);
    // A handshake with no certificate for the name fails.
    const none = connect({ host: "127.0.0.1", port: tls.addr.port, servername: "b.test", ca: pki.ca.cert });
    await assert.rejects(new Promise((resolve, reject) => none.once("secureConnect", resolve).once("error", reject)));
    none.destroy();
    sock.destroy();
  } finally {
    tls.close();
    await plain.shutdown();
    tls.destroy();
    await pki.remove();
  }
});
