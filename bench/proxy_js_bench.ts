/**
 * The proxy's own JavaScript per request, without the kernel: the whole proxy (front end, pipeline, upstream client)
 * started by `startProxy` on the bench's config, with `Deno.listen` and `Deno.connect` replaced by in-memory sockets.
 * One client connection sends the same request again and again on keep-alive; the upstream answers at once with
 * nginx's fields. Nothing is asserted: it prints µs per request, which repeats within a few percent on a busy machine
 * (a wrk run here spreads over ±20 %), so it tells whether a change to the request path made it cheaper.
 *
 * `deno run -A --unstable-net --unstable-no-legacy-abort bench/proxy_js_bench.ts [/ping | /small | /post] [requests]`
 * (`/post` sends a 16 KB body, in reads of at most what the proxy's buffer takes, as a socket would.)
 *
 * @module
 */
import { compileSources } from "../compiler/mod.ts";
import { startProxy } from "../runtime/lifecycle/start.ts";
import { ourToml } from "./proxy/configs.ts";

const PORT = 18400;
const ORIGIN = 18080;
const path = Deno.args[0] ?? "/small";
const total = Number(Deno.args[1] ?? 200_000);
const warm = Math.min(20_000, Math.floor(total / 10));

const encoder = new TextEncoder();
const POST_BODY = 16 * 1024;
const request = path === "/post"
  ? encoder.encode(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\nUser-Agent: wrk\r\nContent-Length: ${POST_BODY}\r\n\r\n` +
      "x".repeat(POST_BODY),
  )
  : encoder.encode(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n`);
const answer = encoder.encode(
  "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 22 Nov 2026 13:00:00 GMT\r\nContent-Type: text/plain\r\n" +
    'Content-Length: 18\r\nLast-Modified: Sun, 22 Nov 2026 12:00:00 GMT\r\nConnection: keep-alive\r\nETag: "1-2"\r\n' +
    "Accept-Ranges: bytes\r\n\r\nhello from origin\n",
);
const addr = (port: number) => ({ transport: "tcp" as const, hostname: "127.0.0.1", port });

let sent = 0;
/** How much of the current request the proxy has read. */
let at = 0;
let started = 0;
let bytesOut = 0;
const finished = Promise.withResolvers<void>();

/** The client: a new request whenever the proxy reads, until `total`. */
const client = {
  remoteAddr: addr(40_001),
  localAddr: addr(PORT),
  setNoDelay() {},
  setKeepAlive() {},
  close() {},
  read(buf: Uint8Array): Promise<number | null> {
    if (at === 0) {
      if (sent === warm) started = performance.now();
      if (sent++ >= total) {
        finished.resolve();
        return new Promise(() => {});
      }
    }
    const n = Math.min(buf.byteLength, request.byteLength - at);
    buf.set(request.subarray(at, at + n));
    at = at + n === request.byteLength ? 0 : at + n;
    return Promise.resolve(n);
  },
  write(bytes: Uint8Array): Promise<number> {
    bytesOut += bytes.byteLength;
    return Promise.resolve(bytes.byteLength);
  },
};

/** An upstream connection: every write is a request, answered by the next read. */
class Upstream {
  readonly remoteAddr = addr(ORIGIN);
  readonly localAddr = addr(40_002);
  #ready = 0;
  #waiting: { buf: Uint8Array; resolve: (n: number) => void } | undefined;
  setNoDelay(): void {}
  setKeepAlive(): void {}
  close(): void {}
  write(bytes: Uint8Array): Promise<number> {
    const w = this.#waiting;
    if (w === undefined) this.#ready++;
    else {
      this.#waiting = undefined;
      w.buf.set(answer);
      w.resolve(answer.byteLength);
    }
    return Promise.resolve(bytes.byteLength);
  }
  read(buf: Uint8Array): Promise<number> {
    if (this.#ready === 0) return new Promise((resolve) => (this.#waiting = { buf, resolve }));
    this.#ready--;
    buf.set(answer);
    return Promise.resolve(answer.byteLength);
  }
}

const realListen = Deno.listen;
const fakeListen = (options: Deno.TcpListenOptions) => {
  if (options.port !== PORT) return realListen(options);
  let accepted = false;
  return {
    addr: addr(PORT),
    accept: () => accepted ? new Promise(() => {}) : (accepted = true, Promise.resolve(client)),
    close() {},
  };
};
Object.assign(Deno, { listen: fakeListen, connect: () => Promise.resolve(new Upstream()) });

const { plan, diagnostics } = compileSources([{
  file: "bench.toml",
  text: ourToml({ port: PORT, originPort: ORIGIN }),
}]);
if (!plan) throw new Error(`bench config: ${JSON.stringify(diagnostics)}`);
const proxy = await startProxy(plan, { log: () => {} });
await finished.promise;
const us = (performance.now() - started) * 1000 / (total - warm);
console.log(
  `${path}: ${us.toFixed(2)} µs of JavaScript a request, ${(bytesOut / total).toFixed(0)} bytes out a request`,
);
await Promise.race([proxy.shutdown(), new Promise((r) => setTimeout(r, 500))]);
Deno.exit(0);
