import assert from "node:assert/strict";
import { cacheControl, etagMatches, parseRange, weakEtag } from "./directory_http.ts";
import { escapeHtml, listingHtml } from "./directory_listing.ts";
import { fileUnder, isInside } from "./directory_path.ts";

Deno.test("etagMatches() compares weakly, as Pingap's vectors", () => {
  assert.equal(etagMatches('W/"1-2"', 'W/"1-2"'), true);
  assert.equal(etagMatches('"1-2"', 'W/"1-2"'), true);
  assert.equal(etagMatches('"0-0", W/"1-2"', 'W/"1-2"'), true);
  assert.equal(etagMatches("*", 'W/"1-2"'), true);
  assert.equal(etagMatches('W/"1-3"', 'W/"1-2"'), false);
  assert.equal(etagMatches("", 'W/"1-2"'), false);
});

Deno.test("escapeHtml() escapes what HTML gives meaning to, as Pingap's vectors", () => {
  assert.equal(escapeHtml("a & b"), "a &amp; b");
  assert.equal(escapeHtml(`<script>"x"'`), "&lt;script&gt;&quot;x&quot;&#39;");
  assert.equal(escapeHtml("plain.txt"), "plain.txt");
});

Deno.test("parseRange() serves one range: a-b, a-, -n; cut at the end; else none (416)", () => {
  assert.deepEqual(parseRange("bytes=0-499", 1000), { start: 0, end: 499 });
  assert.deepEqual(parseRange("bytes=500-", 1000), { start: 500, end: 999 });
  assert.deepEqual(parseRange("bytes=-500", 1000), { start: 500, end: 999 });
  assert.deepEqual(parseRange("bytes=900-5000", 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange(" bytes=0-0, 5-9", 1000), { start: 0, end: 0 });
  for (const bad of ["bytes=1000-", "bytes=-0", "bytes=-1001", "bytes=5-4", "items=0-1", "bytes=a-b", "bytes=1-2-3"]) {
    assert.equal(parseRange(bad, 1000), undefined, bad);
  }
  assert.equal(parseRange("bytes=0-", 0), undefined, "an empty file has no byte to serve");
});

Deno.test('weakEtag() is W/"<size hex>-<mtime secs hex>", none without a time', () => {
  assert.equal(weakEtag(255, new Date(4096_000)), 'W/"ff-1000"');
  assert.equal(weakEtag(1, null), undefined);
});

Deno.test("cacheControl() as Pingap's HttpResponse: no-cache without max age, public or private with one", () => {
  assert.equal(cacheControl(undefined, false), "private, no-cache");
  assert.equal(cacheControl(0, true), "private, no-cache");
  assert.equal(cacheControl(600_000, false), "public, max-age=600");
  assert.equal(cacheControl(600_000, true), "private, max-age=600");
});

Deno.test("fileUnder() resolves dot segments lexically and refuses climbing out, NUL and backslashes", () => {
  assert.deepEqual(fileUnder("/srv", "/"), { ok: true, path: "/srv" });
  assert.deepEqual(fileUnder("/srv", "/a/./b/../c.txt"), { ok: true, path: "/srv/a/c.txt" });
  assert.deepEqual(fileUnder("/srv", "/a%20b%25.txt"), { ok: true, path: "/srv/a b%.txt" });
  assert.deepEqual(fileUnder("/srv", "/bad%zz"), { ok: true, path: "/srv/bad%zz" });
  for (
    const p of ["/..", "/../etc/passwd", "/a/../../x", "/%2e%2e/x", "/..%2fx", "/a%00.txt", "/a%5c..%5cx", "/a\\b"]
  ) {
    assert.equal(fileUnder("/srv", p).ok, false, p);
  }
  assert.equal(isInside("/srv", "/srv"), true);
  assert.equal(isInside("/srv", "/srv/a"), true);
  assert.equal(isInside("/srv", "/srvx/a"), false);
  assert.equal(isInside("/", "/etc"), true);
});

Deno.test("listingHtml() links each entry encoded and shows its name escaped, directories with a slash", () => {
  const html = listingHtml([
    { name: "a b#c", isFile: true, size: 2048, mtime: new Date(0) },
    { name: "<x>", isFile: false, size: 0, mtime: null },
  ]);
  assert.ok(html.includes('href="./a%20b%23c"'));
  assert.ok(html.includes("2.0 KiB"));
  assert.ok(html.includes('href="./%3Cx%3E/">&lt;x&gt;/</a>'));
  assert.ok(!html.includes("<x>"));
});
