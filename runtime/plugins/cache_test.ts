/** `cache` through a compiled Plan without sockets (runtime/proxy/harness.ts), and Pingap's vectors. */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { planOf } from "./_test_utils.ts";
import { pollFor } from "../../tests/_support/poll.ts";
import { cacheKey } from "./cache.ts";
import { freshFor } from "./cache_freshness.ts";
import { MemoryStore, storeSize } from "./cache_store.ts";
import { CacheEntry } from "./cache_store.ts";
import { FileStore, levelPath } from "./cache_file_store.ts";

/** A config whose location caches with `extra` keys, in namespace `ns` (the memory store is the process's one). */
function cachePlan(ns: string, extra = "") {
  return planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["c"]
[plugins.c]
category = "cache"
namespace = "${ns}"
purge_ip_list = ["10.1.0.0/16"]
${extra}
`);
}

/** An origin counting its requests, answering with `cache-control` from the `cc` query parameter. */
function countingOrigin(delayMs = 0) {
  const seen = { n: 0 };
  const upstream = async (req: Request) => {
    seen.n++;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const cc = new URL(req.url).searchParams.get("cc");
    const headers: Record<string, string> = { "content-type": "text/plain" };
    if (cc !== null) headers["cache-control"] = cc;
    const vary = new URL(req.url).searchParams.get("vary");
    if (vary !== null) headers["vary"] = vary;
    const pad = new URL(req.url).searchParams.get("pad") ?? "";
    return new Response(`body ${seen.n}${pad}`, { headers });
  };
  return { seen, upstream };
}

Deno.test("cache: vector 116, the key is namespace, header values, method and URI", () => {
  assert.equal(cacheKey("", [], "GET", "/path"), "\nGET:/path");
  assert.equal(cacheKey("my-ns", [], "GET", "https://example.com/path"), "my-ns\nGET:https://example.com/path");
  assert.equal(
    cacheKey("my-ns", ["user-123", "desktop"], "GET", "https://example.com/path"),
    "my-ns\nuser-123:desktop:GET:https://example.com/path",
  );
});

Deno.test("cache: vector 126, memory size as a percentage of the budget or bytes", () => {
  const budget = 1_000_000_000;
  assert.equal(storeSize({ kind: "memory", mode: "normal" }, budget), budget);
  assert.equal(storeSize({ kind: "memory", mode: "normal", maxSizePercent: 20 }, budget), 200_000_000);
  assert.equal(storeSize({ kind: "memory", mode: "normal", maxSizePercent: 500 }, budget), budget);
  assert.equal(storeSize({ kind: "memory", mode: "normal", maxSizeBytes: 5_000_000 }, budget), 5_000_000);
});

Deno.test("cache: freshness from s-maxage, max-age, Expires, capped by max_ttl; never for no-store/no-cache/private", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const rule = { checkCacheControl: false };
  const h = (init: Record<string, string>) => new Headers(init);
  assert.equal(freshFor(h({ "cache-control": "max-age=60" }), rule, now), 60_000);
  assert.equal(freshFor(h({ "cache-control": "max-age=60, s-maxage=5" }), rule, now), 5_000);
  assert.equal(freshFor(h({ "cache-control": "public, max-age=3600" }), { ...rule, maxTtl: 10_000 }, now), 10_000);
  for (const cc of ["no-store", "no-cache", "private, max-age=60", "max-age=0", "public"]) {
    assert.equal(freshFor(h({ "cache-control": cc }), rule, now), undefined, cc);
  }
  assert.equal(freshFor(h({}), rule, now), 1000, "no Cache-Control: 1 s");
  assert.equal(freshFor(h({}), { checkCacheControl: true }, now), undefined, "check_cache_control");
  assert.equal(freshFor(h({ expires: "Thu, 01 Jan 2026 00:01:00 GMT" }), rule, now), 60_000);
  assert.equal(freshFor(h({ "cache-control": "max-age=60", "set-cookie": "a=b" }), rule, now), undefined);
});

Deno.test("cache: the store evicts the least recently used entries past its budget", () => {
  const store = new MemoryStore(250);
  const entry = () => new CacheEntry(200, [], new Uint8Array(100), 0, Number.MAX_SAFE_INTEGER);
  store.put("a", entry());
  store.put("b", entry());
  assert.ok(store.get("a", 1), "a is used: b is now the oldest");
  store.put("c", entry());
  assert.equal(store.get("b", 1), undefined);
  assert.ok(store.get("a", 1) && store.get("c", 1));
  assert.ok(store.bytes <= 250);
  assert.equal(store.put("big", new CacheEntry(200, [], new Uint8Array(300), 0, 1)), false);
});

Deno.test("cache: a hit does not reach the origin and says so; no-store, private and POST are not cached", async () => {
  const { seen, upstream } = countingOrigin();
  const h = planHarness(cachePlan("harness-hit"), { upstream });
  try {
    const first = await h.request("http://a.test/x?cc=max-age%3D60");
    assert.equal(first.headers.get("x-cache-status"), "miss");
    assert.equal(await first.text(), "body 1");
    const second = await h.request("http://a.test/x?cc=max-age%3D60");
    assert.equal(await second.text(), "body 1");
    assert.equal(second.headers.get("x-cache-status"), "hit");
    assert.equal(second.headers.get("age"), "0");
    assert.equal(second.headers.get("x-cache-lookup"), "0ms", "a memory lookup takes under a millisecond");
    assert.equal(first.headers.get("x-cache-lookup"), "0ms");
    assert.equal(second.headers.get("content-type"), "text/plain");
    assert.equal(seen.n, 1, "the hit did not reach the origin");
    for (const cc of ["no-store", "private%2C%20max-age%3D60", "no-cache"]) {
      await (await h.request(`http://a.test/y?cc=${cc}`)).text();
      await (await h.request(`http://a.test/y?cc=${cc}`)).text();
    }
    assert.equal(seen.n, 7, "each of the six uncacheable requests reached the origin");
    await (await h.request("http://a.test/x?cc=max-age%3D60", { method: "POST", body: "b" })).text();
    assert.equal(seen.n, 8, "POST passes");
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: 50 concurrent misses reach the origin once (the cache lock)", async () => {
  const { seen, upstream } = countingOrigin(100);
  const h = planHarness(cachePlan("harness-pile", 'lock = "5s"'), { upstream });
  try {
    const all = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const r = await h.request("http://a.test/pile?cc=max-age%3D60");
        return { body: await r.text(), lock: r.headers.get("x-cache-lock") };
      }),
    );
    assert.equal(seen.n, 1);
    assert.ok(all.every((r) => r.body === "body 1"));
    const waited = all.filter((r) => r.lock !== null);
    assert.equal(waited.length, 49, "all but the first waited");
    assert.ok(waited.every((r) => /^\d+ms$/.test(r.lock!)));
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: PURGE from purge_ip_list removes the entry; from elsewhere it is refused", async () => {
  const { seen, upstream } = countingOrigin();
  const plan = cachePlan("harness-purge");
  const h = planHarness(plan, { upstream });
  const outsider = planHarness(plan, { upstream, client: { hostname: "192.0.2.9", port: 1 } });
  const insider = planHarness(plan, { upstream, client: { hostname: "10.1.2.3", port: 1 } });
  try {
    await (await h.request("http://a.test/p?cc=max-age%3D60")).text();
    const refused = await outsider.request("http://a.test/p?cc=max-age%3D60", { method: "PURGE" });
    assert.equal(refused.status, 403);
    assert.equal(await refused.text(), "Forbidden, ip is not allowed");
    assert.equal((await h.request("http://a.test/p?cc=max-age%3D60")).headers.get("x-cache-status"), "hit");
    const purged = await insider.request("http://a.test/p?cc=max-age%3D60", { method: "PURGE" });
    assert.equal(purged.status, 204);
    await purged.body?.cancel();
    const after = await h.request("http://a.test/p?cc=max-age%3D60");
    assert.equal(after.headers.get("x-cache-status"), "miss");
    assert.equal(await after.text(), "body 2");
    assert.equal(seen.n, 2);
  } finally {
    await Promise.all([h.dispose(), outsider.dispose(), insider.dispose()]);
  }
});

Deno.test("cache: bodies over max_file_size are passed whole but not stored", async () => {
  const { seen, upstream } = countingOrigin();
  const h = planHarness(cachePlan("harness-size", 'max_file_size = "6b"'), { upstream });
  try {
    const big = "http://a.test/s?cc=max-age%3D60&pad=xyz";
    assert.equal(await (await h.request(big)).text(), "body 1xyz");
    assert.equal(await (await h.request(big)).text(), "body 2xyz");
    assert.equal(seen.n, 2, "9 bytes are over 6");
    const small = "http://a.test/s?cc=max-age%3D60";
    assert.equal(await (await h.request(small)).text(), "body 3");
    assert.equal(await (await h.request(small)).text(), "body 3", "6 bytes are kept");
    assert.equal(seen.n, 3);
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: an answer with Vary is a hit only for requests with the same values; Vary: * is not kept", async () => {
  const { upstream } = countingOrigin();
  const h = planHarness(cachePlan("harness-vary"), { upstream });
  try {
    const url = "http://a.test/v?cc=max-age%3D60&vary=Accept-Encoding";
    const gzip = { headers: { "accept-encoding": "gzip" } };
    assert.equal(await (await h.request(url, gzip)).text(), "body 1");
    const hit = await h.request(url, gzip);
    assert.equal(hit.headers.get("x-cache-status"), "hit");
    assert.equal(await hit.text(), "body 1");
    const other = await h.request(url, { headers: { "accept-encoding": "br" } });
    assert.equal(other.headers.get("x-cache-status"), "miss");
    assert.equal(await other.text(), "body 2");
    const star = "http://a.test/v?cc=max-age%3D60&vary=*";
    await (await h.request(star)).text();
    assert.equal(await (await h.request(star)).text(), "body 4");
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: vector 125, file levels are cut from the end of the hash, its last character skipped", () => {
  assert.equal(levelPath("abcdef123456", [1, 2]), "5/34/abcdef123456");
  assert.equal(levelPath("mykey", []), "mykey");
});

Deno.test("cache: a file directory keeps entries in files that a new instance reads; a broken file is a miss", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { seen, upstream } = countingOrigin();
    const plan = cachePlan("files", `directory = "${dir}?levels=1:2"`);
    const url = "http://a.test/f?cc=max-age%3D60";
    let h = planHarness(plan, { upstream });
    try {
      assert.equal(await (await h.request(url)).text(), "body 1");
      const hit = await h.request(url);
      assert.equal(hit.headers.get("x-cache-status"), "hit");
      assert.match(hit.headers.get("x-cache-lookup") ?? "", /^\d+ms$/);
      assert.equal(await hit.text(), "body 1");
    } finally {
      await h.dispose();
    }
    const files: string[] = [];
    const walk = async (d: string) => {
      for await (const e of Deno.readDir(d)) {
        e.isDirectory ? await walk(`${d}/${e.name}`) : files.push(`${d}/${e.name}`);
      }
    };
    await walk(`${dir}/files`);
    assert.equal(files.length, 1);
    const name = files[0]!.slice(`${dir}/files/`.length);
    assert.match(name, /^[0-9a-f]\/[0-9a-f]{2}\/[0-9a-f]{32}$/);
    // A new instance (a restart) reads the file.
    h = planHarness(plan, { upstream });
    try {
      assert.equal(await (await h.request(url)).text(), "body 1");
      assert.equal(seen.n, 1);
      await Deno.writeFile(files[0]!, new Uint8Array([0, 0, 1, 0, 0]));
      const broken = await h.request(url);
      assert.equal(broken.headers.get("x-cache-status"), "miss");
      assert.equal(await broken.text(), "body 2");
    } finally {
      await h.dispose();
    }
    const insider = planHarness(plan, { upstream, client: { hostname: "10.1.0.1", port: 1 } });
    try {
      const all = await insider.request("http://a.test/*", { method: "PURGE" });
      assert.equal(all.status, 200);
      assert.equal(await all.text(), "purged: 1, fail: 0");
      const after = await insider.request(url);
      assert.equal(after.headers.get("x-cache-status"), "miss");
      await after.body?.cancel();
    } finally {
      await insider.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cache: a 206 and an answer to a request with Authorization (unless public) are not kept", async () => {
  let n = 0;
  const upstream = (req: Request) => {
    n++;
    const url = new URL(req.url);
    const status = url.pathname === "/part" ? 206 : 200;
    return new Response(`body ${n}`, { status, headers: { "cache-control": url.searchParams.get("cc") ?? "" } });
  };
  const h = planHarness(cachePlan("harness-206"), { upstream });
  try {
    for (let i = 0; i < 2; i++) await (await h.request("http://a.test/part?cc=max-age%3D60")).text();
    assert.equal(n, 2, "a 206 is not kept");
    const auth = { headers: { authorization: "Bearer x" } };
    for (let i = 0; i < 2; i++) await (await h.request("http://a.test/auth?cc=max-age%3D60", auth)).text();
    assert.equal(n, 4, "a private answer to a request with credentials is not kept");
    for (let i = 0; i < 2; i++) await (await h.request("http://a.test/auth?cc=public%2C%20max-age%3D60", auth)).text();
    assert.equal(n, 5, "a public one is");
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: the file sweep removes files unused for inactive, and a read counts as use", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const backend = {
      kind: "file" as const,
      path: dir,
      readingMax: 10,
      writingMax: 10,
      cacheMax: 0,
      cacheFileMaxWeight: 256,
      inactive: 3_600_000,
      levels: [1],
      maxSize: 0,
    };
    const files = new FileStore(backend);
    const now = Date.now();
    const entry = () =>
      new CacheEntry(200, [["content-type", "text/plain"]], new Uint8Array([1]), now, now + 86_400_000);
    const old = files.fileOf("ns", "old"), used = files.fileOf("ns", "used"), fresh = files.fileOf("ns", "fresh");
    for (const f of [old, used, fresh]) assert.ok(await files.put(f, entry()));
    const twoHoursAgo = new Date(now - 7_200_000);
    await Deno.utime(old, twoHoursAgo, twoHoursAgo);
    await Deno.utime(used, twoHoursAgo, twoHoursAgo);
    assert.ok(await files.get(used, now), "read now: in use again");
    // The read's touch is not awaited: wait until it is seen.
    await pollFor("the touch", async () => (await Deno.stat(used)).mtime!.getTime() > now - 60_000 || undefined);
    assert.equal(await files.sweep(now), 1);
    assert.equal(await files.get(old, now), undefined);
    assert.ok(await files.get(used, now));
    assert.ok(await files.get(fresh, now));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cache: max_size keeps the file directory within budget, the least recently used files out first", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const now = Date.now();
    const entry = () => new CacheEntry(200, [], new Uint8Array(1000), now, now + 86_400_000);
    const probe = new FileStore({
      kind: "file",
      path: dir,
      readingMax: 10,
      writingMax: 10,
      cacheMax: 0,
      cacheFileMaxWeight: 256,
      inactive: 3_600_000,
      levels: [],
      maxSize: 0,
    });
    const a = probe.fileOf("", "a"), b = probe.fileOf("", "b"), c = probe.fileOf("", "c");
    for (const f of [a, b]) assert.ok(await probe.put(f, entry()));
    const size = (await Deno.stat(a)).size;
    await Deno.utime(a, new Date(now - 60_000), new Date(now - 60_000));
    await Deno.utime(b, new Date(now - 30_000), new Date(now - 30_000));
    // Room for two files: the third pushes out the least recently used (a).
    const files = new FileStore({ ...probe.backend, maxSize: 2 * size + 10 });
    assert.ok(await files.put(c, entry()));
    await files.trim();
    assert.equal(await files.get(a, now), undefined);
    assert.ok(await files.get(b, now));
    assert.ok(await files.get(c, now));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
