/**
 * `compression` end to end: the proxy in its own process, a real origin streaming a 10 MB text body in 64 KB chunks,
 * and `curl --compressed` as the client. For gzip, brotli and zstd the bytes curl decodes are the origin's (the same
 * SHA-256), the response says its coding and `Vary: Accept-Encoding`, and the proxy's peak RSS grows by far less than
 * the bodies that went through. A client that stops reading stops the proxy reading the upstream (backpressure through
 * the encoder): it never holds a whole body. Also `pingap:acceptEncodingAdjustment`: the upstream sees the one coding
 * it keeps.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { startOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";

const SIZE = 10 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** 10 MB of text that compresses but differs line by line (a lost, doubled or reordered chunk changes the hash). */
function makeBody(): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(SIZE);
  const enc = new TextEncoder();
  let i = 0, n = 0;
  while (i < SIZE) {
    const line = enc.encode(`${n} ${(n * 2654435761) % 4294967296} the quick brown fox jumps over the lazy dog\n`);
    out.set(line.subarray(0, Math.min(line.length, SIZE - i)), i);
    i += line.length;
    n++;
  }
  return out;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** `curl --compressed` with `args`; the decoded body goes to a file. Returns the headers and the decoded bytes. */
async function curlCompressed(
  url: string,
  ...args: string[]
): Promise<{ headers: Headers; body: Uint8Array<ArrayBuffer> }> {
  const file = await Deno.makeTempFile();
  try {
    const out = await new Deno.Command("curl", {
      args: ["-sS", "--compressed", "-D", "-", "-o", file, ...args, url],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, `curl: ${new TextDecoder().decode(out.stderr)}`);
    const headers = new Headers();
    for (const line of new TextDecoder().decode(out.stdout).split("\r\n").slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    return { headers, body: await Deno.readFile(file) };
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("compression e2e: curl --compressed gets the origin's 10 MB back through gzip, br and zstd, in flat memory", async () => {
  const body = makeBody();
  const want = await sha256(body);
  const seen: (string | null)[] = [];
  const origin = await startOrigin("big", (req) => {
    seen.push(req.headers.get("accept-encoding"));
    if (new URL(req.url).pathname === "/small") {
      return new Response("ok", { headers: { "content-type": "text/plain" } });
    }
    let i = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          if (i >= SIZE) return c.close();
          c.enqueue(body.slice(i, i + CHUNK));
          i += CHUNK;
        },
      }),
      { headers: { "content-type": "text/plain; charset=utf-8", "content-length": String(SIZE) } },
    );
  });
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["adjusted", "upstreamMode", "all"]
[upstreams.big]
addrs = ["${origin.addr}"]
[locations.all]
upstream = "big"
plugins = ["pingap:compression"]
[locations.upstreamMode]
path = "/up"
upstream = "big"
plugins = ["pingap:compressionUpstream"]
[locations.adjusted]
path = "/adjusted"
upstream = "big"
plugins = ["pingap:acceptEncodingAdjustment", "pingap:compression"]
`);
  try {
    const base = `http://127.0.0.1:${port}`;
    const fetchAll = async () => {
      for (const coding of ["gzip", "br", "zstd"]) {
        const got = await curlCompressed(`${base}/big`, "-H", `Accept-Encoding: ${coding}`);
        assert.equal(got.headers.get("content-encoding"), coding);
        assert.equal(got.headers.get("vary"), "Accept-Encoding");
        assert.equal(got.headers.get("content-length"), null);
        assert.equal(got.body.length, SIZE, coding);
        assert.equal(await sha256(got.body), want, `${coding}: decoded bytes are the origin's`);
      }
    };
    // The first round sizes the heap and the codecs' buffers (and garbage waits for a collection: tens of MB, whatever
    // the body's size). Then 60 MB more go through: a proxy holding bodies would grow by them, a streaming one by little.
    await fetchAll();
    const before = await child.peakRss();
    await fetchAll();
    await fetchAll();
    const growth = await child.peakRss() - before;
    // Loose: V8 lets some tens of MB of spent buffers wait for a collection. The test below is the strict one.
    assert.ok(growth < 96 * 1024 * 1024, `peak RSS grew ${Math.round(growth / 1048576)} MB for 6 × 10 MB bodies`);

    // A client that goes away mid-body: that response ends, the proxy serves on.
    for (let i = 0; i < 3; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("GET /big HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br\r\n\r\n"));
      const buf = new Uint8Array(16 * 1024);
      assert.ok((await conn.read(buf)) !== null);
      conn.close();
    }

    // curl's own Accept-Encoding ("deflate, gzip, br, zstd"): the adjustment keeps zstd alone for the upstream.
    const adjusted = await curlCompressed(`${base}/adjusted`);
    assert.equal(adjusted.headers.get("content-encoding"), "zstd");
    assert.equal(seen.at(-1), "zstd");
    assert.equal(await sha256(adjusted.body), want);
    // pingap:compressionUpstream: the upstream is asked for the one coding chosen (curl accepts all three: zstd).
    const up = await curlCompressed(`${base}/up`);
    assert.equal(seen.at(-1), "zstd");
    assert.equal(up.headers.get("content-encoding"), "zstd");
    assert.equal(await sha256(up.body), want);

    assert.doesNotMatch(child.output(), /Uncaught|panicked/, "nothing escaped as an uncaught error");
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});

Deno.test("compression e2e: a client that stops reading stops the proxy reading the upstream (never a whole body)", async () => {
  // 8 MB of random base64 text, served over and over: it compresses little (so socket buffers hold about as much
  // input as output) and its repeats lie beyond the codecs' windows.
  const random = new Uint8Array(6 * 1024 * 1024);
  let x = 2463534242;
  for (let i = 0; i < random.length; i++) {
    x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
    random[i] = x & 0xff;
  }
  const block = new TextEncoder().encode(Buffer.from(random).toString("base64"));
  const TOTAL = 256 * 1024 * 1024;
  let pulled = 0;
  const origin = await startOrigin("endless", () =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          if (pulled >= TOTAL) return c.close();
          const at = pulled % (block.length - CHUNK);
          c.enqueue(block.slice(at, at + CHUNK));
          pulled += CHUNK;
        },
      }),
      { headers: { "content-type": "text/plain" } },
    ));
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all"]
[upstreams.endless]
addrs = ["${origin.addr}"]
[locations.all]
upstream = "endless"
plugins = ["pingap:compression"]
`);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n"));
    const head = new Uint8Array(4096);
    const n = await conn.read(head);
    assert.match(new TextDecoder().decode(head.subarray(0, n ?? 0)), /content-encoding: gzip/i);
    // Not reading any more: the proxy fills the sockets' buffers and then must stop pulling.
    let last = -1;
    for (let i = 0; i < 50 && pulled !== last; i++) {
      last = pulled;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(pulled, last, "the proxy stopped pulling from the upstream");
    assert.ok(
      pulled < 64 * 1024 * 1024,
      `pulled ${Math.round(pulled / 1048576)} MB of 256 MB while the client read none`,
    );
  } finally {
    conn.close();
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});
