/**
 * A short comparison of TLS engines in front of the HTTP/1.1 front end (issue 17, Build 1): the same small answer
 * (`hello`, made once) served over HTTPS by
 *
 * - `node_tls_relay`: today's path: the `node:tls` listener of runtime/tls (SNI from the certificate store) relaying
 *   each decrypted connection over loopback to `listenH1`;
 * - `node_tls_inproc`: `node:tls` handing each decrypted socket, as a `NodeSocketStream`, to the same `listenH1` engine
 *   in process (no loopback hop; SNI stays possible through `SNICallback`);
 * - `deno_tls_h1`: `Deno.listenTls` (one certificate) handing the decrypted stream to the same `listenH1` engine, in
 *   process, no loopback hop;
 * - `deno_tls_sole`, `deno_tls_sni`: the `deno-tls` engine of runtime/tls (runtime/tls/deno_listener.ts, what serves a
 *   `global_certificates` server now) handing each `Deno.TlsConn` to the same `listenH1` engine: with one default
 *   certificate (given to `Deno.listenTls` as it is), and with a second one (Deno's SNI resolver over the store);
 * - `deno_serve_tls`: `Deno.serve` with the certificate (hyper; the ceiling of Deno's own TLS, no proxy engine);
 * - `plain_h1`: `listenH1` without TLS (what TLS costs).
 *
 * Each with `wrk -t1 -c50` keep-alive, and handshakes with `Connection: close` (`-c20`), for `--seconds` (default 3)
 * each. The machine is shared and the load generator runs on it too: the figures are rough; read the ratios.
 *
 * Run: `deno run -A --unstable-net bench/tls_engines.ts [--seconds N]`.
 *
 * @module
 */
import { makeTestPki } from "../tests/_support/certs.ts";
import { wrk } from "./proxy/load.ts";
import { listenH1 } from "../runtime/listen/h1/mod.ts";
import { CertStore, listenDenoTls, listenTls } from "../runtime/tls/mod.ts";
import { responseWith } from "../runtime/http/response_build.ts";
import { fmt, table } from "./table.ts";
import tls from "node:tls";
import { NodeSocketStream } from "../runtime/listen/byte_stream.ts";

const seconds = Number(Deno.args[Deno.args.indexOf("--seconds") + 1] ?? 3) || 3;
const pki = await makeTestPki([{ name: "localhost", dns: ["localhost"] }, { name: "other.test" }]);
const { cert, key } = pki.leaves["localhost"]!;
const other = pki.leaves["other.test"]!;

const answer = () => Promise.resolve(responseWith("hello", { status: 200 }));

interface Engine {
  readonly name: string;
  readonly url: string;
  stop(): Promise<void>;
}

async function nodeTlsRelay(): Promise<Engine> {
  const h1 = await listenH1({ hostname: "127.0.0.1", port: 0 }, answer);
  const store = new CertStore();
  store.put("localhost", { cert, key, isDefault: true });
  const front = await listenTls({ hostname: "127.0.0.1", port: 0, h2: false, store, target: h1.addr });
  return {
    name: "node_tls_relay",
    url: `https://127.0.0.1:${front.addr.port}/`,
    stop: async () => (front.close(), await h1.shutdown(), front.destroy()),
  };
}

async function nodeTlsInProcess(): Promise<Engine> {
  const h1 = await listenH1({ hostname: "127.0.0.1", port: 0 }, answer);
  const server = tls.createServer({ cert, key, ALPNProtocols: ["http/1.1"] }, (socket) => {
    h1.serve(new NodeSocketStream(socket));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    name: "node_tls_inproc",
    url: `https://127.0.0.1:${port}/`,
    stop: async () => (server.close(), await h1.shutdown()),
  };
}

async function denoTlsH1(): Promise<Engine> {
  const h1 = await listenH1({ hostname: "127.0.0.1", port: 0, tls: { cert, key } }, answer);
  return { name: "deno_tls_h1", url: `https://127.0.0.1:${h1.addr.port}/`, stop: () => h1.shutdown() };
}

/** The `deno-tls` engine; with `sni`, a second certificate makes it choose by SNI (Deno's resolver). */
async function denoTlsEngine(sni: boolean): Promise<Engine> {
  const h1 = await listenH1({ hostname: "127.0.0.1", port: 0 }, answer);
  const store = new CertStore();
  store.put("localhost", { cert, key, isDefault: true });
  if (sni) store.put("other", { cert: other.cert, key: other.key });
  const front = listenDenoTls({ hostname: "127.0.0.1", port: 0, h2: false, store, serve: h1.serve });
  return {
    name: sni ? "deno_tls_sni" : "deno_tls_sole",
    url: `https://127.0.0.1:${front.addr.port}/`,
    stop: async () => (front.close(), await h1.shutdown(), front.destroy()),
  };
}

async function denoServeTls(): Promise<Engine> {
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen: (a) => ready.resolve(a as Deno.NetAddr) },
    () => new Response("hello"),
  );
  const addr = await ready.promise;
  return { name: "deno_serve_tls", url: `https://127.0.0.1:${addr.port}/`, stop: () => server.shutdown() };
}

async function plainH1(): Promise<Engine> {
  const h1 = await listenH1({ hostname: "127.0.0.1", port: 0 }, answer);
  return { name: "plain_h1", url: `http://127.0.0.1:${h1.addr.port}/`, stop: () => h1.shutdown() };
}

const rows: string[][] = [];
try {
  for (
    const start of [
      nodeTlsRelay,
      nodeTlsInProcess,
      denoTlsH1,
      () => denoTlsEngine(false),
      () => denoTlsEngine(true),
      denoServeTls,
      plainH1,
    ]
  ) {
    const e = await start();
    try {
      const keep = await wrk("wrk", { url: e.url, seconds, connections: 50 });
      const hs = await wrk("wrk", { url: e.url, seconds, connections: 20, headers: ["Connection: close"] });
      rows.push([e.name, fmt(keep.rps), fmt(keep.p99), fmt(hs.rps), String(keep.errors + hs.errors)]);
    } finally {
      await e.stop();
    }
  }
} finally {
  await pki.remove();
}
console.log(table([["engine", "req/s h1 keep-alive", "p99 ms", "new connections/s", "errors"], ...rows]));
