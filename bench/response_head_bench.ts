/**
 * The upstream response head on the pass-through path, in process: a typical nginx head and its 18-byte body parsed
 * as the HTTP/1.1 client does (`parseResponseHead`, the body copied out of the connection's buffer), then written to
 * a client by the HTTP/1.1 front end (`writeResponse`) on a connection whose writes go nowhere. Prints µs of CPU
 * (user + system, all threads: GC included) per response. Figures, not a test:
 *
 * ```sh
 * deno run -A bench/response_head_bench.ts [seconds per figure, default 2]
 * ```
 *
 * @module
 */
import process from "node:process";
import { Output, writeResponse } from "../runtime/listen/h1/response.ts";
import { WholeResponse } from "../runtime/upstream/http1/exchange.ts";
import { copyBytes, parseResponseHead } from "../runtime/upstream/http1/head.ts";

const HEAD = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Jul 2025 10:00:00 GMT\r\n" +
  "Content-Type: text/plain\r\nContent-Length: 18\r\nLast-Modified: Mon, 30 Jun 2025 09:00:00 GMT\r\n" +
  'Connection: keep-alive\r\nETag: "68625e50-12"\r\nAccept-Ranges: bytes\r\n\r\n';
const input = new TextEncoder().encode(HEAD + "hello from origin\n");

/** A connection whose writes succeed at once. */
const sink = { write: (b: Uint8Array) => Promise.resolve(b.byteLength) };
const out = new Output(sink as unknown as Deno.Conn, { tick: 0 });

function parseOnly(n: number): void {
  for (let i = 0; i < n; i++) parseResponseHead(input, 0, input.length);
}

async function parseAndWrite(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const head = parseResponseHead(input, 0, input.length)!;
    const whole = copyBytes(input, head.end, head.end + head.contentLength);
    const res = new WholeResponse(head, whole, {
      reused: true,
      connectTime: 0,
      tlsTime: 0,
      connectionTime: 0,
      responseTime: 0,
    });
    await writeResponse(out, res, false, false);
  }
}

/** CPU time of this process in µs (steadier than the wall clock on a busy machine). */
function cpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** µs of CPU per call of `fn`, over `seconds`, after a warm-up. */
async function measure(fn: (n: number) => unknown, seconds: number): Promise<number> {
  await fn(20_000);
  let count = 0;
  const start = cpu();
  const wall = performance.now();
  while (performance.now() - wall < seconds * 1000) {
    await fn(10_000);
    count += 10_000;
  }
  return (cpu() - start) / count;
}

const seconds = Number(Deno.args[0] ?? 2);
for (let round = 0; round < 3; round++) {
  const parse = await measure(parseOnly, seconds);
  const both = await measure(parseAndWrite, seconds);
  console.log(`parse ${parse.toFixed(2)} µs, parse + write ${both.toFixed(2)} µs per response`);
}
