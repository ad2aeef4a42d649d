/**
 * A short comparison of HTTP/2 engines (issue 17, Build 1): the same small answer (`hello`) over h2c (prior knowledge)
 * and h2 over TLS (ALPN), served by `Deno.serve` (hyper) and by `node:http2` (which can send trailers, gRPC's need),
 * each with `h2load -t1 -c10 -m5` for `--seconds` (default 3). The machine is shared: the figures are rough.
 *
 * Run: `deno run -A --unstable-net bench/h2_engines.ts [--seconds N]`.
 *
 * @module
 */
import http2 from "node:http2";
import { makeTestPki } from "../tests/_support/certs.ts";
import { h2load } from "./proxy/load.ts";
import { fmt, table } from "./table.ts";

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

const rows: string[][] = [["engine", "req/s", "errors"]];
try {
  for (const start of [() => denoServe(false), () => nodeHttp2(false), () => denoServe(true), () => nodeHttp2(true)]) {
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
