import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { uiAsset } from "./ui.ts";
import { UI_ASSETS } from "./ui_assets.gen.ts";

Deno.test("ui: the page, script and stylesheet, compressed as accepted, with an ETag answered by 304; else 404", async () => {
  const page = uiAsset("/", "", "gzip, deflate, br");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(page.headers.get("content-encoding"), "br");
  const html = new TextDecoder().decode(brotliDecompressSync(new Uint8Array(await page.arrayBuffer())));
  assert.equal(html, UI_ASSETS["index.html"]);
  // Nothing inline that `default-src 'self'` would block, nothing from another host.
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)|style=|https?:\/\//);

  const js = uiAsset("/app.js", "", "gzip");
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(js.headers.get("content-encoding"), "gzip");
  const body = new Uint8Array(await js.arrayBuffer());
  assert.equal(new TextDecoder().decode(gunzipSync(body)), UI_ASSETS["app.js"]);
  assert.ok(body.length < UI_ASSETS["app.js"]!.length / 2);
  assert.doesNotMatch(UI_ASSETS["app.js"]!, /\bimport\s*\(|from\s*["']https?:/);

  const css = uiAsset("/app.css", "", "");
  assert.equal(css.headers.get("content-encoding"), null);
  assert.equal(await css.text(), UI_ASSETS["app.css"]);
  const etag = css.headers.get("etag")!;
  assert.equal(uiAsset("/app.css", "", "", etag).status, 304);
  assert.equal(await uiAsset("/app.css", "", "", '"other"').text(), UI_ASSETS["app.css"]);

  for (const missing of ["/missing.js", "/x/app.js", "/../app.js", "/index.htm"]) {
    const r = uiAsset(missing, "", "br");
    assert.equal(r.status, 404, missing);
    await r.body?.cancel();
  }
});

Deno.test("ui: the served files are what admin_ui/ builds (deno task ui), never hand-edited", async () => {
  const build = new URL("../../admin_ui/build.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", build, "--check"], stderr: "piped" })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
});
