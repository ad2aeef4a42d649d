/**
 * `image_optim` end to end: the proxy in its own process (`mod.ts start`), a real origin serving a real PNG and JPEG,
 * curl as the client. The answers are checked by their magic bytes and decoded back (sharp).
 */
import assert from "node:assert/strict";
import sharp from "sharp";
import { freePort, startOrigin } from "../_support/origin.ts";
import { spawnDeno } from "../_support/process.ts";

const WIDTH = 320;
const HEIGHT = 200;

/** A picture with detail (so the PNG is some hundred KB and arrives in many chunks). */
function pixels(): Uint8Array {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  let seed = 7;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    data[i] = ((i % 97) + (seed >> 24)) & 255;
  }
  return data;
}
const raw = { raw: { width: WIDTH, height: HEIGHT, channels: 3 as const } };
const PNG = new Uint8Array(await sharp(pixels(), raw).png().toBuffer());
const JPEG = new Uint8Array(await sharp(pixels(), raw).jpeg({ quality: 90 }).toBuffer());
const CORRUPT = PNG.slice(0, 400);

/** curl's body and headers, the body written to a file as the client got it; no `accept`: no Accept header. */
async function curl(url: string, accept?: string): Promise<{ body: Uint8Array; headers: Headers }> {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["-s", "-m", "30", "-D", `${dir}/h`, "-o", `${dir}/b`, "-H", `Accept:${accept ? ` ${accept}` : ""}`];
    const out = await new Deno.Command("curl", { args: [...args, url] }).output();
    assert.equal(out.code, 0, `curl exit ${out.code}`);
    const headers = new Headers();
    for (const line of (await Deno.readTextFile(`${dir}/h`)).split("\r\n").slice(1)) {
      const i = line.indexOf(":");
      if (i > 0) headers.append(line.slice(0, i), line.slice(i + 1).trim());
    }
    return { body: await Deno.readFile(`${dir}/b`), headers };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ascii = (b: Uint8Array, from: number, to: number) => new TextDecoder().decode(b.subarray(from, to));

/** Byte equality without an assertion diff of a few hundred KB (which node:assert would build). */
function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.ok(
    a.byteLength === b.byteLength && a.every((v, i) => v === b[i]),
    `${what}: ${a.byteLength} vs ${b.byteLength} bytes`,
  );
}

async function decodedSize(bytes: Uint8Array): Promise<[number, number]> {
  const { info } = await sharp(bytes, { failOn: "error" }).raw().toBuffer({ resolveWithObject: true });
  return [info.width, info.height];
}

Deno.test("image_optim e2e: curl gets webp or avif by Accept, the original without, a corrupt image unchanged", async () => {
  const origin = await startOrigin("images", (req) => {
    const path = new URL(req.url).pathname;
    const [body, type] = path === "/a.png" ? [PNG, "image/png"] : path === "/a.jpg" ? [JPEG, "image/jpeg"] : [
      CORRUPT,
      "image/png",
    ];
    return new Response(body, { headers: { "content-type": type } });
  });
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(
    file,
    `[servers.web]\naddr = "127.0.0.1:${port}"\nlocations = ["img"]\n\n` +
      `[upstreams.images]\naddrs = ["${origin.addr}"]\n\n` +
      `[locations.img]\npath = "/"\nupstream = "images"\nplugins = ["optim"]\n\n` +
      `[plugins.optim]\ncategory = "image_optim"\noutput_types = "avif,webp"\navif_speed = 8\n`,
  );
  const child = spawnDeno(["run", "-A", "--unstable-net", "--unstable-no-legacy-abort", "mod.ts", "start", "-c", file]);
  try {
    await child.waitFor(/listening on/);
    const base = `http://127.0.0.1:${port}`;
    for (const path of ["/a.png", "/a.jpg"]) {
      const webp = await curl(base + path, "image/webp,*/*;q=0.8");
      assert.equal(webp.headers.get("content-type"), "image/webp", path);
      assert.equal(ascii(webp.body, 0, 4) + ascii(webp.body, 8, 12), "RIFFWEBP", path);
      assert.equal(webp.headers.get("content-length"), String(webp.body.byteLength));
      assert.match(webp.headers.get("vary") ?? "", /Accept/);
      assert.deepEqual(await decodedSize(webp.body), [WIDTH, HEIGHT], path);

      const avif = await curl(base + path, "image/avif,image/webp,*/*");
      assert.equal(avif.headers.get("content-type"), "image/avif", path);
      assert.equal(ascii(avif.body, 4, 12), "ftypavif", path);
      assert.deepEqual(await decodedSize(avif.body), [WIDTH, HEIGHT], path);

      const plain = await curl(base + path);
      sameBytes(plain.body, path === "/a.png" ? PNG : JPEG, `${path} without Accept: the origin's bytes`);
    }
    const bad = await curl(`${base}/bad.png`, "image/webp");
    assert.equal(bad.headers.get("content-type"), "image/png");
    sameBytes(bad.body, CORRUPT, "the corrupt image");
    // The process is still serving after the corrupt image.
    assert.equal(ascii((await curl(`${base}/a.png`, "image/webp")).body, 8, 12), "WEBP");
  } finally {
    await child.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("image_optim e2e: check refuses bad keys at their path with a hint", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(
    file,
    `[plugins.optim]\ncategory = "image_optim"\noutput_types = "webp,gif"\n\n` +
      `[plugins.other]\ncategory = "image_optim"\navif_speed = 11\npng_quality = "high"\n`,
  );
  try {
    const child = spawnDeno(["run", "--allow-read", "--allow-env", "mod.ts", "check", "-c", file]);
    assert.equal(await child.exited(), 1, child.output());
    const out = child.output();
    assert.match(out, /pingap\.toml:3:1 {2}plugins\.optim\.output_types {2}error: Image type "gif" is not supported/);
    assert.match(out, /Use some of: avif, webp, jpeg, png/);
    assert.match(
      out,
      /pingap\.toml:7:1 {2}plugins\.other\.avif_speed {2}error: Value 11 is out of range {2}\(Use an integer 1–10\)/,
    );
    assert.match(out, /pingap\.toml:8:1 {2}plugins\.other\.png_quality {2}error: Expected integer, got string "high"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
