/**
 * The HTTP/1.1 engine over a `node:tls` socket in process (`NodeSocketStream` given to `listenH1().serve`): requests
 * over TLS with no loopback hop, keep-alive, a chunked upload and a client that closes.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { listenH1 } from "./h1/mod.ts";
import { NodeSocketStream } from "./byte_stream.ts";
import { responseWith } from "../http/response_build.ts";
import { TEST_CA_CERT, TEST_LEAF_CERT, TEST_LEAF_KEY } from "../upstream/http1/testdata.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("listenH1().serve(NodeSocketStream): HTTP/1.1 over node:tls in process, keep-alive and a chunked upload", async () => {
  const facts: {
    id: number | undefined;
    served: number | undefined;
    tls: string | undefined;
    v: string | undefined;
  }[] = [];
  const h1 = await listenH1({ hostname: "127.0.0.1", port: 0 }, async (req) => {
    const body = req.body ? await new Response(req.body).text() : "";
    facts.push({
      id: req.connection?.id,
      served: req.served,
      tls: req.connection?.tls?.version,
      v: req.version,
    });
    return responseWith(`${req.method} ${req.target} ${body}`, { status: 200 });
  });
  const server = tls.createServer(
    { cert: TEST_LEAF_CERT, key: TEST_LEAF_KEY },
    // The TLS listener reads these facts once the handshake is done; the engine hands them to every request.
    (s) =>
      h1.serve(
        new NodeSocketStream(s, undefined, {
          version: s.getProtocol() ?? "",
          cipher: "",
          servername: "",
          handshakeMs: 1,
        }),
      ),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  const c = await Deno.startTls(tcp, { hostname: "origin.test", caCerts: [TEST_CA_CERT] });
  try {
    await c.write(enc.encode(
      "GET /one HTTP/1.1\r\nHost: t\r\n\r\n" +
        "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
        "GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ));
    const buf = new Uint8Array(65536);
    let text = "";
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n));
    }
    const bodies = text.split(/\r\n\r\n/).slice(1).map((b) => b.split("HTTP/1.1")[0]);
    assert.deepEqual(bodies, ["GET /one ", "POST /up abc", "GET /last "]);
    // Facts of the connection, as plain fields: one id, the requests before each, TLS facts, the request's version.
    const id = facts[0]!.id;
    assert.deepEqual(facts, [0, 1, 2].map((served) => ({ id, served, tls: "TLSv1.3", v: "HTTP/1.1" })));
  } finally {
    c.close();
    server.close();
    await h1.shutdown();
  }
});
