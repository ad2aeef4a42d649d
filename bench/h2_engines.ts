/**
 * A short comparison of HTTP/2 engines (issue 17, Build 1): the same small answer (`hello`) over h2c (prior knowledge)
 * and h2 over TLS (ALPN), served by `Deno.serve` (hyper) and by `node:http2` (which can send trailers, gRPC's need),
 * and by the proxy's own HTTP/2 engine (`own_engine`, runtime/listen/h2/engine.ts: h2c from a `Deno.listen` connection,
 * h2 from a `node:tls` socket), each with `h2load -t1 -c10 -m5` for `--seconds` (default 3). The machine is shared: the figures are rough.
 *
 * Run: `deno run -A --unstable-net bench/h2_engines.ts [--seconds N]`.
 *
 * @module
 */
import http2 from "node:http2";
import { createServer as createTlsServer } from "node:tls";
import { createH2Engine } from "../runtime/listen/h2/engine.ts";
import { responseWith } from "../runtime/http/response_build.ts";
import { makeTestPki } from "../tests/_support/certs.ts";
import { h2load } from "./proxy/load.ts";
import { fmt, table } from "./table.ts";

const only = Deno.args.includes("--row") ? Number(Deno.args[Deno.args.indexOf("--row") + 1]) : undefined;
const seconds = Number(Deno.args[Deno.args.indexOf("--seconds") + 1] ?? 3) || 3;
const pki = await makeTestPki([{ name: "localhost" }]);
const { cert, key } = pki.leaves["localhost"]!;

interface Engine {
  readonly name: string;
  readonly url: string;
  stop(): Promise<void>;
}

async function denoServe(tls: boolean): Promise<Engine> {
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    ...(tls ? { cert, key } : {}),
    onListen: (a) => ready.resolve(a as Deno.NetAddr),
  }, () => new Response("hello"));
  const addr = await ready.promise;
  return {
    name: `deno_serve ${tls ? "h2 TLS" : "h2c"}`,
    url: `${tls ? "https" : "http"}://127.0.0.1:${addr.port}/`,
    stop: () => server.shutdown(),
  };
}

async function nodeHttp2(tls: boolean): Promise<Engine> {
  const handler = (_req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => res.end("hello");
  const server = tls ? http2.createSecureServer({ cert, key }, handler) : http2.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    name: `node_http2 ${tls ? "h2 TLS" : "h2c"}`,
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}/`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * The proxy's own HTTP/2 engine (runtime/listen/h2/engine.ts): h2c from a `Deno.listen` connection (as the HTTP/1.1
 * engine hands it), h2 from a `node:tls` socket.
 */
async function h2Engine(tls: boolean): Promise<Engine> {
  const engine = createH2Engine({ authority: () => "127.0.0.1" }, () => responseWith("hello", {}));
  if (tls) {
    const server = createTlsServer(
      { cert, key, ALPNProtocols: ["h2"] },
      (s) => engine.serveSocket(s, { hostname: "", port: 0 }),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    return {
      name: "own_engine h2 TLS (node:tls in process)",
      url: `https://127.0.0.1:${port}/`,
      stop: async () => (server.close(), await engine.shutdown(500)),
    };
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of l) void engine.serveStream(c, new Uint8Array(0), { hostname: "", port: 0 });
  })().catch(() => {});
  return {
    name: "own_engine h2c (Deno.listen)",
    url: `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}/`,
    stop: async () => (l.close(), await engine.shutdown(500)),
  };
}

const rows: string[][] = [["engine", "req/s", "errors"]];
try {
  const starts = [
    () => denoServe(false),
    () => nodeHttp2(false),
    () => h2Engine(false),
    () => denoServe(true),
    () => nodeHttp2(true),
    () => h2Engine(true),
  ];
  for (const start of starts) {
    if (only !== undefined && starts.indexOf(start) !== only) continue;
    const e = await start();
    try {
      const r = await h2load("h2load", { url: e.url, seconds, connections: 50 });
      rows.push([e.name, fmt(r.rps), String(r.errors)]);
    } catch (err) {
      rows.push([e.name, `failed: ${(err as Error).message.slice(0, 60)}`, "–"]);
    } finally {
      await Promise.race([e.stop(), new Promise((r) => setTimeout(r, 2000))]);
    }
  }
} finally {
  await pki.remove();
}
console.log(table(rows));
