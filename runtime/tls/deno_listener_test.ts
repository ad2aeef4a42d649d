import assert from "node:assert/strict";
import { connect, type TLSSocket } from "node:tls";
import { inspectCertificate } from "../../compiler/mod.ts";
import { type MadeCert, makeTestPki } from "../../tests/_support/certs.ts";
import type { ByteStream } from "../listen/byte_stream.ts";
import { type DenoTlsListener, listenDenoTls } from "./deno_listener.ts";
import { CertStore } from "./store.ts";

/** Answers every read with a small HTTP/1.1 response naming `what`, until the client ends. */
async function answer(conn: ByteStream, what: string): Promise<void> {
  const buf = new Uint8Array(4096);
  const body = `${what} ${conn.tls ? "tls" : "plain"}`;
  try {
    while ((await conn.read(buf)) !== null) {
      await conn.write(new TextEncoder().encode(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`));
    }
  } catch { /* cut */ }
  try {
    conn.close();
  } catch { /* closed */ }
}

/** The subject CN the listener presents for `servername` ("" when the handshake failed). */
async function presented(port: number, servername: string | undefined): Promise<string> {
  const sni = servername ? ["-servername", servername] : ["-noservername"];
  const out = await new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${port}`, ...sni],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return /subject=.*CN ?= ?([^\s,/]+)/.exec(new TextDecoder().decode(out.stdout))?.[1] ?? "";
}

/** A node:tls client that has finished its handshake. */
async function open(port: number, servername: string, ca: string, alpn?: string[]): Promise<TLSSocket> {
  const sock = connect({ host: "127.0.0.1", port, servername, ca, ...(alpn ? { ALPNProtocols: alpn } : {}) });
  await new Promise<void>((resolve, reject) => sock.once("secureConnect", resolve).once("error", reject));
  return sock;
}

/** One request on `sock`; the body of the answer. */
function get(sock: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const onData = (b: Uint8Array) => {
      got += new TextDecoder().decode(b);
      const m = /content-length: (\d+)\r\n\r\n/.exec(got);
      if (m && got.length >= m.index + m[0].length + Number(m[1])) {
        sock.off("data", onData);
        resolve(got.slice(m.index + m[0].length));
      }
    };
    sock.on("data", onData);
    sock.once("error", reject);
    sock.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
  });
}

function config(name: string, c: MadeCert, isDefault = false) {
  return inspectCertificate(name, isDefault ? { is_default: true } : {}, { cert: c.cert, key: c.key }).certificate!;
}

async function withListener(
  store: CertStore,
  extra: { h2?: boolean; handshakeTimeout?: number; maxNames?: number; h2Seen?: string[] },
  body: (l: DenoTlsListener) => Promise<void>,
): Promise<void> {
  const l = listenDenoTls({
    hostname: "127.0.0.1",
    port: 0,
    h2: extra.h2 ?? false,
    store,
    serve: (conn) => void answer(conn, "h1"),
    serveH2: (conn, client) => {
      extra.h2Seen?.push(`${client.hostname} ${client.tls.handshakeMs >= 0}`);
      void answer(conn, "h2");
    },
    ...(extra.handshakeTimeout ? { handshakeTimeout: extra.handshakeTimeout } : {}),
    ...(extra.maxNames ? { maxNames: extra.maxNames } : {}),
  });
  try {
    await body(l);
  } finally {
    l.close();
    l.destroy();
  }
}

Deno.test("listenDenoTls() picks the store's certificate by SNI (exact, wildcard, default) and hands h2 by ALPN to serveH2", async () => {
  const pki = await makeTestPki([{ name: "a.test" }, { name: "w", dns: ["*.w.test"] }, { name: "d.test" }]);
  const store = new CertStore();
  store.replaceConfig([
    config("a", pki.leaves["a.test"]!),
    config("w", pki.leaves["w"]!),
    config("d", pki.leaves["d.test"]!, true),
  ]);
  const h2Seen: string[] = [];
  try {
    await withListener(store, { h2: true, h2Seen }, async (l) => {
      assert.equal(await presented(l.addr.port, "a.test"), "a.test");
      assert.equal(await presented(l.addr.port, "x.w.test"), "w");
      assert.equal(await presented(l.addr.port, "other.test"), "d.test");
      assert.equal(await presented(l.addr.port, undefined), "d.test");
      const h1 = await open(l.addr.port, "a.test", pki.ca.cert, ["http/1.1"]);
      assert.equal(await get(h1), "h1 tls", "http/1.1 goes to serve, with the TLS facts set");
      h1.destroy();
      const h2 = await open(l.addr.port, "x.w.test", pki.ca.cert, ["h2"]);
      assert.equal(h2.alpnProtocol, "h2");
      assert.equal(await get(h2), "h2 tls", "h2 goes to serveH2");
      h2.destroy();
      assert.deepEqual(h2Seen, ["127.0.0.1 true"]);
    });
  } finally {
    await pki.remove();
  }
});

Deno.test("listenDenoTls() reopens its socket when the store serves other material: new handshakes see it, open connections go on", async () => {
  const pki = await makeTestPki([{ name: "a.test" }, { name: "b.test" }]);
  const second = await pki.leaf({ name: "a.test.2", dns: ["a.test"] });
  const store = new CertStore();
  const a = config("a", pki.leaves["a.test"]!), b = config("b", pki.leaves["b.test"]!);
  store.replaceConfig([a, b]);
  try {
    await withListener(store, {}, async (l) => {
      const before = await open(l.addr.port, "a.test", pki.ca.cert);
      assert.equal(await get(before), "h1 tls");
      // A reload that keeps every certificate's material keeps the socket.
      store.replaceConfig([config("a", pki.leaves["a.test"]!), config("b", pki.leaves["b.test"]!)]);
      await l.settled();
      assert.equal(l.reopened, 0, "same material: same socket");
      // A reload with other material for a.test.
      store.replaceConfig([config("a", second), b]);
      await l.settled();
      assert.equal(l.reopened, 1);
      assert.equal(await presented(l.addr.port, "a.test"), "a.test.2", "a new handshake sees the new certificate");
      assert.equal(await presented(l.addr.port, "b.test"), "b.test");
      assert.equal(await get(before), "h1 tls", "the connection opened before goes on");
      // A certificate put at run time (ACME) reopens it too.
      store.put("acme", { cert: pki.leaves["a.test"]!.cert, key: pki.leaves["a.test"]!.key });
      await l.settled();
      assert.equal(l.reopened, 2);
      assert.equal(await presented(l.addr.port, "a.test"), "a.test", "the put certificate wins for its names");
      before.destroy();
    });
  } finally {
    await pki.remove();
  }
});

Deno.test("listenDenoTls() reopens after maxNames distinct SNI names, so made-up names cannot grow Deno's cache", async () => {
  const pki = await makeTestPki([{ name: "d.test" }, { name: "a.test" }]);
  const store = new CertStore();
  // Two certificates: the resolver chooses (one default alone is given to Deno as it is, no resolver).
  store.replaceConfig([config("d", pki.leaves["d.test"]!, true), config("a", pki.leaves["a.test"]!)]);
  try {
    await withListener(store, { maxNames: 2 }, async (l) => {
      for (const name of ["n1.test", "n2.test"]) assert.equal(await presented(l.addr.port, name), "d.test");
      assert.equal(l.reopened, 0);
      assert.equal(await presented(l.addr.port, "n3.test"), "d.test");
      await l.settled();
      assert.equal(l.reopened, 1);
      assert.equal(await presented(l.addr.port, "n4.test"), "d.test", "the new socket serves");
    });
  } finally {
    await pki.remove();
  }
});

Deno.test("listenDenoTls() closes a connection whose handshake does not finish within handshakeTimeout", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const store = new CertStore();
  store.replaceConfig([config("a", pki.leaves["a.test"]!, true)]);
  try {
    await withListener(store, { handshakeTimeout: 500 }, async (l) => {
      // A client that connects and says nothing (one that sends part of a ClientHello is closed at once by Deno
      // itself, measured: the timer is for silence).
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: l.addr.port });
      let gaveUp = false;
      const giveUp = setTimeout(() => {
        gaveUp = true;
        conn.close();
      }, 20_000);
      try {
        const buf = new Uint8Array(1024);
        while ((await conn.read(buf).catch(() => null)) !== null);
      } finally {
        clearTimeout(giveUp);
        try {
          conn.close();
        } catch { /* closed */ }
      }
      assert.ok(!gaveUp, "the server closed the half-done handshake");
      // A finished handshake is not cut by that timer.
      const sock = await open(l.addr.port, "a.test", pki.ca.cert);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await get(sock), "h1 tls");
      sock.destroy();
    });
  } finally {
    await pki.remove();
  }
});

Deno.test("listenDenoTls() gives a sole default certificate to Deno as it is, and chooses by SNI once a second one comes", async () => {
  const pki = await makeTestPki([{ name: "d.test" }, { name: "a.test" }]);
  const store = new CertStore();
  store.replaceConfig([config("d", pki.leaves["d.test"]!, true)]);
  assert.deepEqual(store.soleDefault(), { cert: pki.leaves["d.test"]!.cert, key: pki.leaves["d.test"]!.key });
  try {
    await withListener(store, {}, async (l) => {
      assert.equal(await presented(l.addr.port, "a.test"), "d.test");
      assert.equal(await presented(l.addr.port, undefined), "d.test");
      store.put("a", { cert: pki.leaves["a.test"]!.cert, key: pki.leaves["a.test"]!.key });
      assert.equal(store.soleDefault(), undefined);
      await l.settled();
      assert.equal(await presented(l.addr.port, "a.test"), "a.test");
      assert.equal(await presented(l.addr.port, "other.test"), "d.test");
    });
  } finally {
    await pki.remove();
  }
});
