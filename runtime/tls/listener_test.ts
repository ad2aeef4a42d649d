import assert from "node:assert/strict";
import { connect, type TLSSocket } from "node:tls";
import { makeTestPki } from "../../tests/_support/certs.ts";
import { inspectCertificate } from "../../compiler/mod.ts";
import { listenTls, type TlsClient } from "./listener.ts";
import { CertStore } from "./store.ts";

/** Once `sock` is connected, sends a GET and resolves with what came back up to the `hi` body. */
async function getHi(sock: TLSSocket): Promise<string> {
  await new Promise<void>((resolve, reject) => sock.once("secureConnect", resolve).once("error", reject));
  const answer = new Promise<string>((resolve) => {
    let got = "";
    sock.on("data", (b: Uint8Array) => {
      got += new TextDecoder().decode(b);
      if (got.endsWith("hi")) resolve(got);
    });
  });
  sock.write("GET / HTTP/1.1\r\nhost: a.test\r\n\r\n");
  return await answer;
}

Deno.test("listenTls() hands decrypted connections to the plain listener and maps them to the client", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const store = new CertStore();
  const a = pki.leaves["a.test"]!;
  store.replaceConfig([inspectCertificate("a", {}, { cert: a.cert, key: a.key }).certificate!]);
  const seen: { port: number; client?: TlsClient | undefined }[] = [];
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
    assert.match(await getHi(sock), /^HTTP\/1\.1 200 OK/);
    assert.equal(seen.length, 1);
    const { tls: facts, ...client } = seen[0]!.client!;
    assert.deepEqual(client, { hostname: "127.0.0.1", port: sock.localPort, servername: "a.test" });
    // What the handshake settled, for the `{:tls_*}` access-log keys.
    assert.match(facts.version, /^TLSv1\.[23]$/);
    assert.match(facts.cipher, /^TLS_/);
    assert.ok(facts.handshakeMs > 0);
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

Deno.test("listenTls() closes a connection whose handshake does not finish within handshakeTimeout", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const store = new CertStore();
  const a = pki.leaves["a.test"]!;
  store.replaceConfig([inspectCertificate("a", {}, { cert: a.cert, key: a.key }).certificate!]);
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("hi"));
  const tls = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    h2: false,
    store,
    target: plain.addr,
    handshakeTimeout: 500,
  });
  // Half a ClientHello (a record header that announces more than comes), then silence.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: tls.addr.port });
  let gaveUp = false;
  const giveUp = setTimeout(() => {
    gaveUp = true;
    conn.close();
  }, 20_000);
  let closedByServer = false;
  try {
    await conn.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
    const buf = new Uint8Array(1024);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
    }
    closedByServer = !gaveUp;
  } catch {
    // closed by the test's own deadline
  } finally {
    clearTimeout(giveUp);
    try {
      conn.close();
    } catch { /* closed */ }
  }
  try {
    assert.ok(closedByServer, "the server closed the half-done handshake");
    // A finished handshake is not cut by that timer.
    const sock = connect({ host: "127.0.0.1", port: tls.addr.port, servername: "a.test", ca: pki.ca.cert });
    await new Promise<void>((resolve, reject) => sock.once("secureConnect", resolve).once("error", reject));
    await new Promise((r) => setTimeout(r, 1000));
    const answer = new Promise<string>((resolve, reject) => {
      let got = "";
      sock.on("data", (b: Uint8Array) => {
        got += new TextDecoder().decode(b);
        if (got.endsWith("hi")) resolve(got);
      });
      sock.once("close", () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
    });
    sock.write("GET / HTTP/1.1\r\nhost: a.test\r\n\r\n");
    assert.match(await answer, /^HTTP\/1\.1 200 OK/);
    sock.destroy();
  } finally {
    tls.close();
    await plain.shutdown();
    tls.destroy();
    await pki.remove();
  }
});

/** A TCP relay to `port` that passes the client's first `slow` bytes on a few at a time, then the rest as it comes. */
function choppingRelay(port: number, slow: number): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const down of listener) {
      const up = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(down, up);
      up.readable.pipeTo(down.writable).catch(() => {});
      (async () => {
        let sent = 0;
        const w = up.writable.getWriter();
        for await (const chunk of down.readable) {
          for (let at = 0; at < chunk.byteLength;) {
            const n = sent < slow ? 5 : chunk.byteLength - at;
            await w.write(chunk.slice(at, at + n));
            if (sent < slow) await new Promise((r) => setTimeout(r, 1));
            at += n;
            sent += n;
          }
        }
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test("listenTls() with ja4 fingerprints a ClientHello that comes a few bytes at a time, and hands all of it on", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const store = new CertStore();
  const a = pki.leaves["a.test"]!;
  store.replaceConfig([inspectCertificate("a", {}, { cert: a.cert, key: a.key }).certificate!]);
  const ref: { tls?: Awaited<ReturnType<typeof listenTls>> } = {};
  const seen: (TlsClient | undefined)[] = [];
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (_req, info) => {
    seen.push(ref.tls?.client(info.remoteAddr.port));
    return new Response("hi");
  });
  const tls = ref.tls = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    h2: false,
    store,
    target: plain.addr,
    ja4: true,
  });
  const relay = choppingRelay(tls.addr.port, 400);
  try {
    const sock = connect({ host: "127.0.0.1", port: relay.port, servername: "a.test", ca: pki.ca.cert });
    assert.match(await getHi(sock), /^HTTP\/1\.1 200 OK/);
    // node:tls (rustls under Deno) as the client: SNI, ALPN none, TLS 1.3.
    assert.match(seen[0]?.tls.ja4?.ja4 ?? "", /^t13d\d{4}00_[0-9a-f]{12}_[0-9a-f]{12}$/);
    sock.destroy();
  } finally {
    relay.close();
    tls.close();
    await plain.shutdown();
    tls.destroy();
    await pki.remove();
  }
});

Deno.test("listenTls() with ja4 closes a connection whose ClientHello does not come whole within handshakeTimeout", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const store = new CertStore();
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("hi"));
  const tls = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    h2: false,
    store,
    target: plain.addr,
    handshakeTimeout: 500,
    ja4: true,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: tls.addr.port });
  let gaveUp = false;
  const giveUp = setTimeout(() => {
    gaveUp = true;
    conn.close();
  }, 20_000);
  try {
    // Half a ClientHello, then silence: read before the TLS server, under the same deadline.
    await conn.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
    const buf = new Uint8Array(1024);
    while ((await conn.read(buf).catch(() => null)) !== null) { /* nothing comes */ }
    assert.ok(!gaveUp, "the server closed the half-sent hello");
  } finally {
    clearTimeout(giveUp);
    try {
      conn.close();
    } catch { /* closed */ }
    tls.close();
    await plain.shutdown();
    tls.destroy();
    await pki.remove();
  }
});
