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

Deno.test("directory: a changed file is served changed once its kept copy is a second old", async () => {
  const root = await Deno.makeTempDir({ prefix: "directory_harness_" });
  await Deno.writeTextFile(`${root}/a.txt`, "first");
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
    assert.equal(await (await h.request("http://a.test/a.txt")).text(), "first");
    await Deno.writeTextFile(`${root}/a.txt`, "second, longer");
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await (await h.request("http://a.test/a.txt")).text(), "second, longer");
    await Deno.remove(`${root}/a.txt`);
    await new Promise((r) => setTimeout(r, 1100));
    const gone = await h.request("http://a.test/a.txt");
    assert.equal(gone.status, 404, "a removed file is not served from memory");
    await gone.body?.cancel();
  } finally {
    await h.dispose();
    await Deno.remove(root, { recursive: true });
  }
});
