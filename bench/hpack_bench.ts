/**
 * Micro-bench of the HPACK codec (runtime/listen/h2/hpack.ts): nanoseconds per decode of a typical browser request
 * block, the first on a connection (literals, Huffman) and a repeat (mostly dynamic-table indexes), and per encode of
 * a typical response. Prints, never asserts: `deno run bench/hpack_bench.ts [iterations]`.
 *
 * @module
 */
import { HpackDecoder, HpackEncoder } from "../runtime/listen/h2/hpack.ts";

const iterations = Number(Deno.args[0] ?? 200_000);

const request = (path: string): string[] => [
  ":method",
  "GET",
  ":authority",
  "www.example.com",
  ":scheme",
  "https",
  ":path",
  path,
  "sec-ch-ua",
  '"Chromium";v="120", "Not?A_Brand";v="24", "Google Chrome";v="120"',
  "sec-ch-ua-mobile",
  "?0",
  "sec-ch-ua-platform",
  '"Linux"',
  "upgrade-insecure-requests",
  "1",
  "user-agent",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "accept",
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
  "sec-fetch-site",
  "none",
  "sec-fetch-mode",
  "navigate",
  "sec-fetch-dest",
  "document",
  "accept-encoding",
  "gzip, deflate, br",
  "accept-language",
  "en-US,en;q=0.9",
  "cookie",
  "session=0123456789abcdef0123456789abcdef; theme=dark",
];

const response = [
  ":status",
  "200",
  "server",
  "pingap",
  "content-type",
  "text/html; charset=utf-8",
  "content-length",
  "5120",
  "date",
  new Date().toUTCString(),
  "cache-control",
  "private, max-age=0",
];

// A browser's encoder: the first block indexes everything, the second is mostly indexes.
const browser = new HpackEncoder();
const first = browser.encode(request("/"));
const repeat = browser.encode(request("/app.js?v=42"));

function time(name: string, bytes: number, run: () => void): void {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) run();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) run();
  const ns = ((performance.now() - start) * 1e6) / iterations;
  console.log(`${name.padEnd(44)} ${String(bytes).padStart(4)} B  ${ns.toFixed(0).padStart(6)} ns/op`);
}

let sink = 0;
time("decode first request block (new decoder)", first.length, () => {
  sink += new HpackDecoder().decode(first).length;
});
const warm = new HpackDecoder();
warm.decode(first);
time("decode repeat request block", repeat.length, () => {
  sink += warm.decode(repeat).length;
});
const encoder = new HpackEncoder();
time("encode response block", encoder.encode(response).length, () => {
  sink += encoder.encode(response).length;
});
if (sink === 0) console.log("unreachable");
