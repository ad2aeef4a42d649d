/**
 * `sub_filter` end to end: a real origin sends an HTML page in small chunks cut through the middle of the patterns,
 * the proxy (in its own process) rewrites it as it streams, and curl reads it, plain and with `--compressed` through
 * `pingap:compression` (the rules see the plain body whichever order the chain lists them). Every occurrence is
 * replaced, the first-only rule once, and the bytes around them are the origin's.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";

/** The page: many lines with the old host, some cut by the origin's chunking. */
function page(host: string): string {
  const lines = ["<html><head><title>Old site</title></head><body>"];
  for (let i = 0; i < 2000; i++) lines.push(`<a href="http://${host}/p/${i}">page ${i} on ${host}</a>`);
  lines.push("</body></html>");
  return lines.join("\n");
}

async function curlBody(...args: string[]): Promise<{ headers: string; body: string }> {
  const out = await new Deno.Command("curl", { args: ["-sS", "-D", "-", "-o", "-", ...args], stdout: "piped" })
    .output();
  assert.ok(out.success);
  const text = new TextDecoder().decode(out.stdout);
  const end = text.indexOf("\r\n\r\n");
  return { headers: text.slice(0, end).toLowerCase(), body: text.slice(end + 4) };
}

Deno.test("sub_filter e2e: replacements across chunk boundaries, streamed, plain and compressed", async () => {
  const bytes = new TextEncoder().encode(page("old.example.com"));
  const origin = await startOrigin("html", () => {
    let i = 0;
    // 7-byte chunks: every occurrence of the 15-byte host is cut at least once.
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          if (i >= bytes.length) return c.close();
          c.enqueue(bytes.slice(i, i + 7));
          i += 7;
        },
      }),
      { headers: { "content-type": "text/html; charset=utf-8", "content-length": String(bytes.length) } },
    );
  });
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["site"]
[upstreams.html]
addrs = ["${origin.addr}"]
[locations.site]
upstream = "html"
plugins = ["pingap:compression", "rewrite"]
[plugins.rewrite]
category = "sub_filter"
filters = [
  "sub_filter 'old.example.com' 'new.example.org' g",
  "subs_filter '<title>(.*?)</title>' '<title>New: $1</title>'",
  "subs_filter 'http://(new\\\\.example\\\\.org)' 'https://$1' g",
]
`);
  const want = page("new.example.org").replaceAll("http://", "https://").replace(
    "<title>Old site</title>",
    "<title>New: Old site</title>",
  );
  try {
    const plain = await curlBody(`http://127.0.0.1:${port}/`);
    assert.doesNotMatch(plain.headers, /content-length/);
    assert.doesNotMatch(plain.headers, /content-encoding/);
    assert.equal(plain.body, want);
    const compressed = await curlBody("--compressed", `http://127.0.0.1:${port}/`);
    assert.match(compressed.headers, /content-encoding: zstd/);
    assert.equal(compressed.body, want);
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});
