/**
 * HTTP/1.1 over TLS is served in process (issue 17): the `node:tls` socket's decrypted bytes go to the HTTP/1.1 engine
 * directly, with no loopback connection per client. Counted in the proxy's own process: while 20 TLS clients hold
 * keep-alive connections, it holds about one socket each (the loopback relay held three: the client's, and both ends
 * of the loopback hop). SNI still picks the certificate.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeTestPki } from "../_support/certs.ts";
import { spawnProxy } from "../_support/process.ts";

/** Sockets the process `pid` holds open. */
async function sockets(pid: number): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(`/proc/${pid}/fd`)) {
    const target = await Deno.readLink(`/proc/${pid}/fd/${e.name}`).catch(() => "");
    if (target.startsWith("socket:")) n++;
  }
  return n;
}

Deno.test("tls in process: 20 keep-alive TLS clients hold about one socket each in the proxy, SNI picks the certificate", async () => {
  const pki = await makeTestPki([{ name: "a.test" }, { name: "b.test" }]);
  const cert = (name: string, c: { certFile: string; keyFile: string }) =>
    `[certificates.${name}]\ntls_cert = "${c.certFile}"\ntls_key = "${c.keyFile}"\n`;
  const toml = `
[servers.s]
addr = "127.0.0.1:0"
global_certificates = true
locations = ["a"]
[locations.a]
plugins = ["pong"]
[plugins.pong]
category = "ping"
path = "/x"
${cert("a", pki.leaves["a.test"]!)}
${cert("b", pki.leaves["b.test"]!)}`;
  const { child, port, file } = await spawnProxy(toml);
  const conns: Deno.TlsConn[] = [];
  try {
    const before = await sockets(child.pid);
    const buf = new Uint8Array(4096);
    for (let i = 0; i < 20; i++) {
      const name = i % 2 === 0 ? "a.test" : "b.test";
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
      // Verified against the CA for the name sent by SNI: the store chose that name's certificate.
      const c = await Deno.startTls(tcp, { hostname: name, caCerts: [pki.ca.cert] });
      conns.push(c);
      await c.write(new TextEncoder().encode(`GET /x HTTP/1.1\r\nHost: ${name}\r\n\r\n`));
      const n = await c.read(buf);
      assert.ok(n !== null);
      assert.match(new TextDecoder().decode(buf.subarray(0, n)), /^HTTP\/1\.1 200 /);
    }
    const held = (await sockets(child.pid)) - before;
    assert.ok(held >= 20 && held < 40, `the proxy holds ${held} sockets for 20 TLS clients`);
  } finally {
    for (const c of conns) c.close();
    await child.stop();
    await Deno.remove(file);
    await pki.remove();
  }
});
