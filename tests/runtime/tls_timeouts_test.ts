/**
 * The downstream time limits hold on HTTP/1.1 over TLS, served in process (issue 17, Build 3), as on plain TCP
 * (runtime/listen/h1/timeouts_test.ts): `downstream_read_timeout` closes a connection that sends no request and cuts a
 * stalled upload, and `downstream_write_timeout` cuts a client that stops reading (the upstream's body is then
 * cancelled). The slow head (slowloris) behind TLS is in tls_test.ts. The proxy runs in its own process; the tests
 * wait for the end with a generous bound and assert no timing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeTestPki, type TestPki } from "../_support/certs.ts";
import { startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";
import { readToEnd } from "../_support/read_to_end.ts";

async function tlsOpen(port: number, pki: TestPki): Promise<Deno.TlsConn> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  const c = await Deno.startTls(tcp, { hostname: "a.test", caCerts: [pki.ca.cert] });
  await c.handshake();
  return c;
}

function server(pki: TestPki, origin: string, keys: string): string {
  const leaf = pki.leaves["a.test"]!;
  return `
[servers.s]
addr = "127.0.0.1:0"
global_certificates = true
locations = ["all"]
${keys}
[locations.all]
upstream = "o"
[upstreams.o]
addrs = ["${origin}"]
[certificates.a]
tls_cert = "${leaf.certFile}"
tls_key = "${leaf.keyFile}"
`;
}

Deno.test("tls: downstream_read_timeout closes a silent connection and cuts a stalled upload", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const origin = await startOrigin("o", async (req) => new Response(`${(await req.arrayBuffer()).byteLength}`));
  const proxy = await startTestProxy(server(pki, origin.addr, 'downstream_read_timeout = "1s"'));
  try {
    assert.equal(proxy.proxy.listening[0]!.tlsEngine, "deno-tls", "the limits hold on the Deno.listenTls engine");
    // Handshake done, then nothing: closed without a byte.
    const silent = await tlsOpen(proxy.port, pki);
    assert.equal(await readToEnd(silent, 15_000), 0, "the silent connection was closed");
    // An upload that stops after 10 of its 100 bytes: cut (whatever answer comes first).
    const stalled = await tlsOpen(proxy.port, pki);
    await stalled.write(
      new TextEncoder().encode("POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100\r\n\r\n0123456789"),
    );
    assert.ok(await readToEnd(stalled, 15_000) >= 0, "the stalled upload was cut");
    // A request that keeps to the limits is answered.
    const c = await tlsOpen(proxy.port, pki);
    await c.write(new TextEncoder().encode("POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhello"));
    const buf = new Uint8Array(4096);
    const n = await c.read(buf);
    assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 200 [^]*\r\n\r\n5$/);
    c.close();
  } finally {
    await proxy.close();
    await origin.close();
    await pki.remove();
  }
});

Deno.test("tls: downstream_write_timeout cuts a client that stops reading; the upstream's body is cancelled", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const cancelled = Promise.withResolvers<void>();
  const chunk = new Uint8Array(64 * 1024);
  const origin = await startOrigin("o", () =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(chunk),
        cancel: () => cancelled.resolve(),
      }),
    ));
  const proxy = await startTestProxy(server(pki, origin.addr, 'downstream_write_timeout = "1s"'));
  try {
    const c = await tlsOpen(proxy.port, pki);
    await c.write(new TextEncoder().encode("GET /endless HTTP/1.1\r\nHost: a.test\r\n\r\n"));
    // Not reading: the buffers fill and the proxy's write waits, past the limit.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cut = await Promise.race([
      cancelled.promise.then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), 20_000)),
    ]);
    clearTimeout(timer);
    assert.ok(cut, "the stuck write was cut and the upstream's body cancelled");
    assert.ok(await readToEnd(c, 20_000) >= 0, "the connection was closed (an endless body never ends by itself)");
  } finally {
    await proxy.close();
    await origin.close();
    await pki.remove();
  }
});
