/** `bandwidth_limit` end to end: curl downloads through a real proxy, from an origin and from `directory`. */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

const SIZE = 100_000;

/** curl's bytes received and seconds taken. */
async function download(url: string): Promise<{ bytes: number; seconds: number; status: number }> {
  const out = await new Deno.Command("curl", {
    args: ["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url],
    stdout: "piped",
  }).output();
  const [status, bytes, seconds] = new TextDecoder().decode(out.stdout).split(" ").map(Number);
  return { status: status!, bytes: bytes!, seconds: seconds! };
}

Deno.test("bandwidth_limit: 100 kB at 50 kB/s takes at least a second, from an upstream and from directory", async () => {
  const payload = new Uint8Array(SIZE).fill(120);
  const origin = await startOrigin("big", () => new Response(payload));
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/big.bin`, payload);
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["files", "api"]
[upstreams.u]
addrs = ["${origin.addr}"]
[locations.api]
upstream = "u"
plugins = ["pace"]
[locations.files]
path = "/static"
rewrite = "^/static/(.*)$ /$1"
plugins = ["pace", "dir"]
[plugins.pace]
category = "bandwidth_limit"
rate = "50kb"
[plugins.dir]
category = "directory"
path = "${dir}"
`);
  try {
    for (const path of ["/big", "/static/big.bin"]) {
      const got = await download(`${proxy.url}${path}`);
      assert.equal(got.status, 200, path);
      assert.equal(got.bytes, SIZE, path);
      // Paced: 100 000 bytes at 50 000 a second is about 2 s; a loose lower bound.
      assert.ok(got.seconds >= 1, `${path}: ${got.bytes} bytes in ${got.seconds} s`);
    }
  } finally {
    await proxy.close();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
