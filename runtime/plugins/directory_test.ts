/** `directory` through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { planOf } from "./_test_utils.ts";

Deno.test("directory: a file, a range, a revalidation and a refused climb, without sockets", async () => {
  const root = await Deno.makeTempDir({ prefix: "directory_harness_" });
  await Deno.writeTextFile(`${root}/a.txt`, "0123456789");
  const h = planHarness(planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[locations.l]
plugins = ["files"]
[plugins.files]
category = "directory"
path = "${root}"
`));
  try {
    const a = await h.request("http://a.test/a.txt");
    assert.equal(a.status, 200);
    assert.equal(await a.text(), "0123456789");
    assert.equal(a.headers.get("content-type"), "text/plain");
    const part = await h.request("http://a.test/a.txt", { headers: { range: "bytes=2-4" } });
    assert.equal(part.status, 206);
    assert.equal(await part.text(), "234");
    const again = await h.request("http://a.test/a.txt", { headers: { "if-none-match": a.headers.get("etag")! } });
    assert.equal(again.status, 304);
    const climb = await h.request("http://a.test/a%5c..%5c..%5cetc%5cpasswd");
    assert.equal(climb.status, 403);
    await climb.body?.cancel();
  } finally {
    await h.dispose();
    await Deno.remove(root, { recursive: true });
  }
});
