/** `compression` and `accept_encoding` through a compiled Plan without sockets, and Pingap's vectors (69–72). */
import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync, gzipSync, zstdDecompressSync } from "node:zlib";
import { planHarness } from "../proxy/harness.ts";
import { acceptsEncoding } from "./content_coding.ts";
import { adjustAcceptEncoding } from "./accept_encoding.ts";
import { compressLevels } from "./compression.ts";
import { echo, planOf } from "./_test_utils.ts";

const DECODE: Record<string, (b: Uint8Array) => Uint8Array> = {
  gzip: gunzipSync,
  br: brotliDecompressSync,
  zstd: zstdDecompressSync,
};

function config(plugins: string, extra = ""): string {
  return `
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = [${plugins}]
${extra}`;
}

/** A text body of `n` bytes that compresses, different everywhere so a lost or repeated chunk shows. */
function textBody(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let line = 0, i = 0;
  while (i < n) {
    const s = new TextEncoder().encode(`line ${line++} of the body, some words to squeeze\n`);
    out.set(s.subarray(0, Math.min(s.length, n - i)), i);
    i += s.length;
  }
  return out;
}

/** An upstream that sends `body` in chunks of `size` bytes with these headers. */
function chunked(body: Uint8Array, headers: Record<string, string>, size = 1000) {
  return () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < body.length; i += size) c.enqueue(body.slice(i, i + size));
          c.close();
        },
      }),
      { headers },
    );
}

Deno.test("Pingap vector 69: accepts_encoding is a token match with q=0 refused", () => {
  assert.equal(acceptsEncoding("gzip, br", "br"), true);
  assert.equal(acceptsEncoding("gzip, deflate, br;q=0.9", "br"), true);
  assert.equal(acceptsEncoding("BR", "br"), true);
  assert.equal(acceptsEncoding("x-gzip", "gzip"), false);
  assert.equal(acceptsEncoding("gzipx", "gzip"), false);
  assert.equal(acceptsEncoding("br;q=0", "br"), false);
  assert.equal(acceptsEncoding("br; q=0.000", "br"), false);
});

Deno.test("Pingap vectors 70–71: accept_encoding keeps the listed codings the client accepts, in the listed order", () => {
  assert.equal(adjustAcceptEncoding("gzip, zstd", ["zstd", "br", "gzip"], true), "zstd");
  assert.equal(adjustAcceptEncoding("gzip, br, zstd", ["zstd", "br", "gzip"], false), "zstd, br, gzip");
  assert.equal(adjustAcceptEncoding("snappy", ["zstd", "br", "gzip"], false), null);
});

Deno.test("Pingap vector 72: compression levels by Accept-Encoding (gzip 9, br 8, zstd 7)", () => {
  const p = { gzipLevel: 9, brLevel: 8, zstdLevel: 7, mode: "downstream", minLength: 0 } as const;
  const cases: [string, [number, number, number]][] = [
    ["gzip", [0, 0, 9]],
    ["zstd, br, gzip", [7, 8, 9]],
    ["x-gzip", [0, 0, 0]],
    ["gzipx", [0, 0, 0]],
    ["gzip;q=0", [0, 0, 0]],
    ["gzip;q=0, br", [0, 8, 0]],
    ["gzip;q=0.5", [0, 0, 9]],
  ];
  for (const [ae, want] of cases) assert.deepEqual(compressLevels(p, ae), want, ae);
});

Deno.test("compression: the best accepted coding, streamed over many chunks, decodes to the upstream's bytes", async () => {
  const body = textBody(300_000);
  const h = planHarness(planOf(config(`"pingap:compression"`)), {
    upstream: chunked(body, { "content-type": "text/html; charset=utf-8", "content-length": String(body.length) }),
  });
  try {
    for (const [ae, coding] of [["gzip", "gzip"], ["gzip, br", "br"], ["gzip, br, zstd", "zstd"]] as const) {
      const res = await h.request("http://t/", { headers: { "accept-encoding": ae } });
      assert.equal(res.headers.get("content-encoding"), coding, ae);
      assert.equal(res.headers.get("content-length"), null);
      assert.equal(res.headers.get("vary"), "Accept-Encoding");
      const raw = new Uint8Array(await res.arrayBuffer());
      assert.ok(raw.length < body.length / 3, `${coding} compresses`);
      assert.deepEqual(new Uint8Array(DECODE[coding]!(raw)), body, coding);
    }
    const plain = await h.request("http://t/");
    assert.equal(plain.headers.get("content-encoding"), null, "no Accept-Encoding: identity");
    assert.deepEqual(new Uint8Array(await plain.arrayBuffer()), body);
  } finally {
    await h.dispose();
  }
});

Deno.test("compression: never twice, nor types, short bodies, no-transform, event streams, ranges or HEAD", async () => {
  const text = textBody(1000);
  let headers: Record<string, string> = {};
  let status = 200;
  const h = planHarness(
    planOf(config(`"c"`, `[plugins.c]\ncategory = "compression"\ngzip_level = 6\nmin_length = 500`)),
    {
      upstream: () => new Response(text, { status, headers }),
    },
  );
  const ask = async (method = "GET") => {
    const res = await h.request("http://t/", { method, headers: { "accept-encoding": "gzip" } });
    await res.arrayBuffer();
    return res.headers.get("content-encoding");
  };
  try {
    headers = { "content-type": "text/plain", etag: '"abc"', "accept-ranges": "bytes" };
    const res = await h.request("http://t/", { headers: { "accept-encoding": "gzip" } });
    assert.equal(res.headers.get("content-encoding"), "gzip");
    assert.equal(res.headers.get("etag"), 'W/"abc"', "the validator is weakened");
    assert.equal(res.headers.get("accept-ranges"), null);
    await res.arrayBuffer();
    headers = { "content-type": "text/plain", "content-encoding": "br" };
    assert.equal(await ask(), "br", "already encoded: passed on as it is");
    headers = { "content-type": "image/png" };
    assert.equal(await ask(), null, "not a compressible type");
    headers = { "content-type": "application/zip" };
    assert.equal(await ask(), null, "zip");
    headers = { "content-type": "application/grpc+proto" };
    assert.equal(await ask(), null, "gRPC");
    headers = { "content-type": "text/plain", "content-length": "499" };
    assert.equal(await ask(), null, "shorter than min_length");
    headers = { "content-type": "text/plain", "cache-control": "public, no-transform" };
    assert.equal(await ask(), null, "no-transform");
    headers = { "content-type": "text/event-stream" };
    assert.equal(await ask(), null, "event stream");
    headers = { "content-type": "text/plain" };
    status = 206;
    assert.equal(await ask(), null, "a range");
    status = 200;
    assert.equal(await ask("HEAD"), null, "HEAD");
  } finally {
    await h.dispose();
  }
});

Deno.test("compression: a plugin's answer is compressed in the default mode, not in upstream mode", async () => {
  const mock = `[plugins.m]\ncategory = "mock"\ndata = "${
    "hello world ".repeat(20)
  }"\nheaders = ["Content-Type: text/plain"]`;
  for (const [builtin, want] of [["pingap:compression", "gzip"], ["pingap:compressionUpstream", null]] as const) {
    const h = planHarness(planOf(config(`"${builtin}", "m"`, mock)));
    try {
      const res = await h.request("http://t/", { headers: { "accept-encoding": "gzip" } });
      assert.equal(res.headers.get("content-encoding"), want, builtin);
      await res.arrayBuffer();
    } finally {
      await h.dispose();
    }
  }
});

Deno.test("compression upstream mode: the upstream is asked for the chosen coding only; its own coding gets Vary", async () => {
  const body = textBody(5000);
  let encodeItself = false;
  const seen: (string | null)[] = [];
  const h = planHarness(planOf(config(`"pingap:compressionUpstream"`)), {
    upstream: (req) => {
      seen.push(req.headers.get("accept-encoding"));
      return encodeItself
        ? new Response("x", { headers: { "content-type": "text/plain", "content-encoding": "gzip" } })
        : new Response(body, { headers: { "content-type": "application/json" } });
    },
  });
  try {
    const res = await h.request("http://t/", { headers: { "accept-encoding": "gzip, deflate, br" } });
    assert.equal(seen.at(-1), "br");
    assert.equal(res.headers.get("content-encoding"), "br");
    assert.deepEqual(new Uint8Array(brotliDecompressSync(new Uint8Array(await res.arrayBuffer()))), body);
    const none = await h.request("http://t/", { headers: { "accept-encoding": "deflate" } });
    assert.equal(seen.at(-1), "deflate", "no coding chosen: the client's header goes on");
    assert.equal(none.headers.get("content-encoding"), null);
    await none.arrayBuffer();
    encodeItself = true;
    const own = await h.request("http://t/", { headers: { "accept-encoding": "deflate" } });
    assert.equal(own.headers.get("vary"), "Accept-Encoding");
    await own.arrayBuffer();
  } finally {
    await h.dispose();
  }
});

Deno.test("compression decompression: a coding the client cannot read is decoded; one it can is passed on", async () => {
  const body = textBody(4000);
  const h = planHarness(
    planOf(config(`"c"`, `[plugins.c]\ncategory = "compression"\ndecompression = true\nzstd_level = 3`)),
    {
      upstream: () =>
        new Response(new Uint8Array(gzipSync(body)), {
          headers: { "content-type": "text/plain", "content-encoding": "gzip" },
        }),
    },
  );
  try {
    const res = await h.request("http://t/", { headers: { "accept-encoding": "zstd" } });
    assert.equal(res.headers.get("content-encoding"), null);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), body);
    const passed = await h.request("http://t/", { headers: { "accept-encoding": "gzip" } });
    assert.equal(passed.headers.get("content-encoding"), "gzip");
    assert.deepEqual(new Uint8Array(gunzipSync(new Uint8Array(await passed.arrayBuffer()))), body);
  } finally {
    await h.dispose();
  }
});

Deno.test("accept_encoding: later plugins and the upstream see the rewritten header", async () => {
  const h = planHarness(planOf(config(`"pingap:acceptEncodingAdjustment", "pingap:compression"`)), { upstream: echo });
  try {
    const res = await h.request("http://t/", { headers: { "accept-encoding": "gzip, br" } });
    assert.equal(res.headers.get("content-encoding"), "br");
    const got = JSON.parse(new TextDecoder().decode(brotliDecompressSync(new Uint8Array(await res.arrayBuffer()))));
    assert.equal(got.headers["accept-encoding"], "br");
    const gone = await h.request("http://t/", { headers: { "accept-encoding": "snappy" } });
    assert.equal((await gone.json()).headers["accept-encoding"], undefined, "none left: removed");
  } finally {
    await h.dispose();
  }
});

Deno.test("compression decompression: a corrupt encoded body fails that response only; the next one is served", async () => {
  let corrupt = true;
  const body = textBody(2000);
  const h = planHarness(
    planOf(config(`"c"`, `[plugins.c]\ncategory = "compression"\ndecompression = true\ngzip_level = 1`)),
    {
      upstream: () =>
        new Response(corrupt ? new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) : gzipSync(body), {
          headers: { "content-type": "text/plain", "content-encoding": "gzip" },
        }),
    },
  );
  try {
    const bad = await h.request("http://t/", { headers: { "accept-encoding": "identity" } });
    assert.equal(bad.headers.get("content-encoding"), null);
    await assert.rejects(bad.arrayBuffer());
    corrupt = false;
    const good = await h.request("http://t/", { headers: { "accept-encoding": "identity" } });
    assert.deepEqual(new Uint8Array(await good.arrayBuffer()), body);
  } finally {
    await h.dispose();
  }
});

Deno.test("compression types and skip (Pingap 0.16): types narrow the default rule, replace upstream mode's; skip by target", async () => {
  let type = "text/plain";
  const ask = async (h: ReturnType<typeof planHarness>, url = "http://t/a") => {
    const res = await h.request(url, { headers: { "accept-encoding": "gzip" } });
    await res.arrayBuffer();
    return res.headers.get("content-encoding");
  };
  const upstream = () => new Response(textBody(500), { headers: { "content-type": `${type}; charset=utf-8` } });
  const down = planHarness(
    planOf(config(
      `"c"`,
      `[plugins.c]\ncategory = "compression"\ngzip_level = 6\ntypes = "application/json, TEXT/CSS, image/"\nskip = "^/raw|\\\\?nozip"`,
    )),
    { upstream },
  );
  const up = planHarness(
    planOf(config(`"c"`, `[plugins.c]\ncategory = "compression"\ngzip_level = 6\nmode = "upstream"\ntypes = ["*"]`)),
    { upstream },
  );
  try {
    assert.equal(await ask(down), null, "text/plain is not listed");
    type = "text/css";
    assert.equal(await ask(down), "gzip", "listed (compared in lower case)");
    assert.equal(await ask(down, "http://t/raw/x"), null, "skipped by path");
    assert.equal(await ask(down, "http://t/a?nozip=1"), null, "skipped by query");
    type = "image/png";
    assert.equal(await ask(down), null, "listed, but outside the default rule: the list only narrows it");
    assert.equal(await ask(up), "gzip", "upstream mode: * replaces the fixed list");
  } finally {
    await down.dispose();
    await up.dispose();
  }
});

Deno.test("compression: two compression plugins on a location encode once", async () => {
  const body = textBody(5000);
  const h = planHarness(
    planOf(config(`"pingap:compression", "c"`, `[plugins.c]\ncategory = "compression"\ngzip_level = 1`)),
    { upstream: () => new Response(body, { headers: { "content-type": "text/plain" } }) },
  );
  try {
    const res = await h.request("http://t/", { headers: { "accept-encoding": "gzip" } });
    assert.equal(res.headers.get("content-encoding"), "gzip");
    assert.equal(res.headers.get("vary"), "Accept-Encoding");
    assert.deepEqual(new Uint8Array(gunzipSync(new Uint8Array(await res.arrayBuffer()))), body);
  } finally {
    await h.dispose();
  }
});
