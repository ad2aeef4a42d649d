import assert from "node:assert/strict";
import { createH2Client } from "./client.ts";
import { createHttp1Client } from "../http1/client.ts";
import { TEST_CA_CERT, TEST_LEAF_CERT, TEST_LEAF_KEY } from "../http1/testdata.ts";
import { backendAt, get, options, rejection, text } from "../_test_utils.ts";

/** A TLS origin that speaks only HTTP/1.1 (ALPN `http/1.1`, or none), answering `h1` on every request. */
function h1TlsOrigin(alpn: boolean) {
  const l = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: TEST_LEAF_CERT,
    key: TEST_LEAF_KEY,
    ...(alpn ? { alpnProtocols: ["http/1.1"] } : {}),
  });
  const conns: Deno.TlsConn[] = [];
  let requests = 0;
  const serve = async (c: Deno.TlsConn) => {
    const buf = new Uint8Array(16384);
    let seen = "";
    try {
      for (;;) {
        const n = await c.read(buf);
        if (n === null) break;
        seen += new TextDecoder().decode(buf.subarray(0, n));
        while (seen.includes("\r\n\r\n")) {
          seen = seen.slice(seen.indexOf("\r\n\r\n") + 4);
          requests++;
          await c.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nh1"));
        }
      }
    } catch { /* gone */ }
  };
  const accepting = (async () => {
    try {
      for await (const c of l) {
        conns.push(c);
        void serve(c);
      }
    } catch { /* closed */ }
  })();
  return {
    backend: backendAt((l.addr as Deno.NetAddr).port),
    get connections() {
      return conns.length;
    },
    get requests() {
      return requests;
    },
    async close() {
      l.close();
      await accepting;
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

for (const alpn of [true, false]) {
  Deno.test(`h2h1: a TLS backend that ${alpn ? "picks http/1.1" : "does no ALPN"} is served over HTTP/1.1`, async () => {
    const origin = h1TlsOrigin(alpn);
    const o = options({ tls: true, sni: "origin.test" });
    const fallback = createHttp1Client(o, { caCerts: [TEST_CA_CERT] });
    const h2h1 = createH2Client(o, 10, { caCerts: [TEST_CA_CERT], fallback });
    const strict = createH2Client(o, 10, { caCerts: [TEST_CA_CERT] });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await h2h1.request(origin.backend, get("/"));
        assert.equal(res.status, 200);
        assert.equal(await text(res.body), "h1");
      }
      assert.equal(origin.requests, 3);
      // One handshake found out; the HTTP/1.1 pool then keeps its connection.
      assert.equal(origin.connections, 2);
      // `h2` alone: the connect fails.
      const e = await rejection(strict.request(origin.backend, get("/")));
      assert.equal(e.kind, "connect");
    } finally {
      h2h1.close();
      strict.close();
      await origin.close();
    }
  });
}
