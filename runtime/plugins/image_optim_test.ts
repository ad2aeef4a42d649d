/** `image_optim` through a compiled Plan without sockets (runtime/proxy/harness.ts), with real images and codecs. */
import assert from "node:assert/strict";
import sharp from "sharp";
import { planHarness } from "../proxy/harness.ts";
import { planOf } from "./_test_utils.ts";

const WIDTH = 64;
const HEIGHT = 48;

/** A real picture: a gradient with a little noise, so that neither codec's output is trivial. */
function pixels(): Uint8Array {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      data[i] = (x * 4) & 255;
      data[i + 1] = (y * 5) & 255;
      data[i + 2] = ((x * y) % 7) * 30;
    }
  }
  return data;
}
const raw = { raw: { width: WIDTH, height: HEIGHT, channels: 3 as const } };
const PNG = new Uint8Array(await sharp(pixels(), raw).png().toBuffer());
const JPEG = new Uint8Array(await sharp(pixels(), raw).jpeg({ quality: 95 }).toBuffer());
/** A PNG signature and then garbage. */
const CORRUPT = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]);

const ascii = (b: Uint8Array, from: number, to: number) => new TextDecoder().decode(b.subarray(from, to));

/** Width and height of an image, decoded whole. */
async function decodedSize(bytes: Uint8Array): Promise<[number, number]> {
  const { info } = await sharp(bytes, { failOn: "error" }).raw().toBuffer({ resolveWithObject: true });
  return [info.width, info.height];
}

const plan = (plugins: string, extra = "") =>
  planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = [${plugins}]
[plugins.img]
category = "image_optim"
output_types = "avif,webp"
${extra}`);

/** The origin: `/a.png`, `/a.jpg`, `/bad.png`, `/data.json`; counts its requests. */
function origin() {
  const counter = { n: 0 };
  const serve = (req: Request) => {
    counter.n++;
    const path = new URL(req.url).pathname;
    const [body, type] = path === "/a.png"
      ? [PNG, "image/png"]
      : path === "/a.jpg"
      ? [JPEG, "image/jpeg"]
      : path === "/bad.png"
      ? [CORRUPT, "image/png"]
      : [new TextEncoder().encode('{"a":1}'), "application/json"];
    return new Response(body, { headers: { "content-type": type, "etag": '"v1"', "cache-control": "max-age=60" } });
  };
  return { counter, serve };
}

Deno.test("image_optim: png and jpeg become webp or avif by Accept (first of output_types), decodable, same size", async () => {
  const h = planHarness(plan('"img"'), { upstream: origin().serve });
  try {
    for (const path of ["/a.png", "/a.jpg"]) {
      const webp = await h.request(`http://a.test${path}`, { headers: { accept: "image/webp,*/*" } });
      const w = new Uint8Array(await webp.arrayBuffer());
      assert.equal(webp.headers.get("content-type"), "image/webp", path);
      assert.equal(ascii(w, 0, 4) + ascii(w, 8, 12), "RIFFWEBP", path);
      assert.equal(webp.headers.get("content-length"), String(w.byteLength));
      assert.equal(webp.headers.get("vary"), "Accept");
      assert.equal(webp.headers.get("etag"), null, "the original's ETag names other bytes");
      assert.deepEqual(await decodedSize(w), [WIDTH, HEIGHT]);

      // Both accepted: output_types' order decides (avif first), not the Accept's.
      const avif = await h.request(`http://a.test${path}`, { headers: { accept: "image/webp,image/avif" } });
      const a = new Uint8Array(await avif.arrayBuffer());
      assert.equal(avif.headers.get("content-type"), "image/avif", path);
      assert.equal(ascii(a, 4, 12), "ftypavif", path);
      assert.deepEqual(await decodedSize(a), [WIDTH, HEIGHT]);
    }
  } finally {
    await h.dispose();
  }
});

Deno.test("image_optim: without Accept, a corrupt image, or a non-image, the original bytes and type go out", async () => {
  const h = planHarness(plan('"img"'), { upstream: origin().serve });
  try {
    const plain = await h.request("http://a.test/a.png");
    assert.deepEqual(new Uint8Array(await plain.arrayBuffer()), PNG);
    assert.equal(plain.headers.get("content-type"), "image/png");
    assert.equal(plain.headers.get("vary"), "Accept", "another client's Accept would get another image");
    assert.equal(plain.headers.get("etag"), '"v1"');

    const bad = await h.request("http://a.test/bad.png", { headers: { accept: "image/webp" } });
    assert.equal(bad.status, 200);
    assert.deepEqual(new Uint8Array(await bad.arrayBuffer()), CORRUPT);
    assert.equal(bad.headers.get("content-type"), "image/png");
    assert.equal(bad.headers.get("content-length"), String(CORRUPT.byteLength));

    const json = await h.request("http://a.test/data.json", { headers: { accept: "image/webp" } });
    assert.equal(await json.text(), '{"a":1}');
    assert.equal(json.headers.get("vary"), null);
  } finally {
    await h.dispose();
  }
});

Deno.test("image_optim: an Accept without a target re-encodes in the image's own format only when smaller", async () => {
  const h = planHarness(plan('"img"', "jpeg_quality = 30\n"), { upstream: origin().serve });
  try {
    const jpeg = await h.request("http://a.test/a.jpg", { headers: { accept: "image/jpeg" } });
    const j = new Uint8Array(await jpeg.arrayBuffer());
    assert.equal(jpeg.headers.get("content-type"), "image/jpeg");
    assert.ok(j.byteLength < JPEG.byteLength, `${j.byteLength} < ${JPEG.byteLength}`);
    assert.deepEqual(await decodedSize(j), [WIDTH, HEIGHT]);
    const png = await h.request("http://a.test/a.png", { headers: { accept: "image/png" } });
    const p = new Uint8Array(await png.arrayBuffer());
    assert.equal(png.headers.get("content-type"), "image/png");
    assert.ok(p.byteLength <= PNG.byteLength);
    assert.deepEqual(await decodedSize(p), [WIDTH, HEIGHT]);
  } finally {
    await h.dispose();
  }
});

Deno.test("image_optim behind cache: the converted image is stored under its own type, one variant per Accept", async () => {
  const { counter, serve } = origin();
  const h = planHarness(plan('"c", "img"', '[plugins.c]\ncategory = "cache"\n'), { upstream: serve });
  try {
    const webp = { headers: { accept: "image/webp" } };
    const first = await h.request("http://a.test/a.png", webp);
    assert.equal(first.headers.get("x-cache-status"), "miss");
    await first.arrayBuffer();
    const hit = await h.request("http://a.test/a.png", webp);
    const body = new Uint8Array(await hit.arrayBuffer());
    assert.equal(hit.headers.get("x-cache-status"), "hit");
    assert.equal(hit.headers.get("content-type"), "image/webp");
    assert.equal(ascii(body, 8, 12), "WEBP");
    assert.equal(counter.n, 1, "the hit did not reach the origin");
    // Another Accept is another variant (Vary: Accept): not the stored webp.
    const plain = await h.request("http://a.test/a.png");
    assert.equal(plain.headers.get("content-type"), "image/png");
    assert.deepEqual(new Uint8Array(await plain.arrayBuffer()), PNG);
    assert.equal(counter.n, 2);
  } finally {
    await h.dispose();
  }
});

Deno.test("image_optim: an image over 10 MiB streams through as it came, never held whole", async () => {
  // A PNG signature, then 11 MiB, sent in 64 KiB chunks without a Content-Length.
  const chunk = new Uint8Array(64 * 1024).fill(7);
  const total = 11 * 1024 * 1024;
  const upstream = () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(PNG.subarray(0, 8));
          for (let sent = 8; sent < total; sent += chunk.byteLength) c.enqueue(chunk);
          c.close();
        },
      }),
      { headers: { "content-type": "image/png" } },
    );
  const h = planHarness(plan('"img"'), { upstream });
  try {
    const res = await h.request("http://a.test/big.png", { headers: { accept: "image/webp" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "image/png");
    assert.equal(res.headers.get("vary"), "Accept");
    assert.equal(res.headers.get("content-length"), null, "streamed on, not read whole and sent with its length");
    const body = new Uint8Array(await res.arrayBuffer());
    assert.equal(body.byteLength, 8 + Math.ceil((total - 8) / chunk.byteLength) * chunk.byteLength);
    assert.equal(ascii(body, 1, 4), "PNG");
    assert.ok(body.subarray(8).every((b) => b === 7), "the bytes past the cap follow the bytes read");
  } finally {
    await h.dispose();
  }
});
