import assert from "node:assert/strict";
import { type CachedFile, FileCache } from "./directory_cache.ts";

function entry(path: string, size: number, checked = 0): CachedFile {
  return { path, size, mtimeMs: 1, fields: [], etag: undefined, body: new Uint8Array(size), checked };
}

Deno.test("FileCache keeps small files within its budget, least recently used out first", () => {
  const cache = new FileCache(100, 60, 1000);
  cache.set("/a", entry("/r/a", 40));
  cache.set("/b", entry("/r/b", 40));
  assert.equal(cache.bytes, 80);
  cache.get("/a"); // /b is now the least recently used
  cache.set("/c", entry("/r/c", 40));
  assert.equal(cache.get("/b"), undefined);
  assert.ok(cache.get("/a") && cache.get("/c"));
  assert.equal(cache.bytes, 80);
  cache.set("/big", entry("/r/big", 61));
  assert.equal(cache.get("/big"), undefined, "over maxFile: never kept");
  cache.set("/a", entry("/r/a", 10));
  assert.equal(cache.bytes, 50, "a replaced entry gives its bytes back");
  cache.delete("/a");
  assert.equal(cache.size, 1);
});

Deno.test("FileCache.fresh() trusts an entry for validMs after its check", () => {
  const cache = new FileCache(100, 60, 1000);
  const e = entry("/r/a", 1, 5000);
  assert.equal(cache.fresh(e, 5999), true);
  assert.equal(cache.fresh(e, 6000), false);
});
