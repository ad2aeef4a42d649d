/**
 * `cache` without sockets (runtime/proxy/harness.ts): `status_ttl`, `vary_headers`, the `expired` status, HEAD from
 * the GET entry, the file backend's hot layer (`cache_max`, `cache_file_max_weight`), each read from real requests.
 * The metric families and access-log keys are read over sockets in tests/runtime/cache_test.ts.
 */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { planOf } from "./_test_utils.ts";
import { pollFor } from "../../tests/_support/poll.ts";
import { createMetrics, MetricsRegistries, processRegistry } from "../observe/metrics/mod.ts";
import { FileStore } from "./cache_file_store.ts";
import { CacheEntry } from "./cache_store.ts";
import { handle } from "../proxy/pipeline.ts";
import { RequestContext } from "../proxy/context.ts";
import { FetchRequest } from "../http/fetch_adapter.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { compileSources, formatText } from "../../compiler/mod.ts";

/** A Plan whose location `l` caches with `extra` keys; `server` adds keys to the server. */
function cachePlan(ns: string, extra = "", server = "") {
  return planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
${server}
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["c"]
[plugins.c]
category = "cache"
namespace = "${ns}"
${extra}
`);
}

/** An origin counting its requests; `status`, `cc` and `vary` query parameters shape its answer. */
function countingOrigin() {
  const seen = { n: 0, methods: [] as string[] };
  const upstream = (req: Request) => {
    seen.n++;
    seen.methods.push(req.method);
    const q = new URL(req.url).searchParams;
    const headers: Record<string, string> = { "content-type": "text/plain" };
    const cc = q.get("cc");
    if (cc !== null) headers["cache-control"] = cc;
    const vary = q.get("vary");
    if (vary !== null) headers["vary"] = vary;
    const pad = "x".repeat(Number(q.get("pad") ?? 0));
    return new Response(`body ${seen.n}${pad}`, { status: Number(q.get("status") ?? 200), headers });
  };
  return { seen, upstream };
}

/** The body and cache status of a request. */
async function fetchStatus(h: ReturnType<typeof planHarness>, url: string, init?: RequestInit) {
  const res = await h.request(url, init);
  return { status: res.headers.get("x-cache-status"), body: await res.text(), code: res.status };
}

Deno.test("cache: status_ttl keeps answers without a lifetime by status; 0s keeps none", async () => {
  const { seen, upstream } = countingOrigin();
  const h = planHarness(cachePlan("st-ttl", 'status_ttl = ["404:60s", "200:0s", "302:1m"]'), { upstream });
  try {
    const notFound = "http://a.test/nf?status=404";
    assert.equal((await fetchStatus(h, notFound)).status, "miss");
    assert.deepEqual(await fetchStatus(h, notFound), { status: "hit", body: "body 1", code: 404 });
    // Kept 60 s, not the default 1 s: the age of a second later is still a hit.
    const plain = "http://a.test/p";
    await fetchStatus(h, plain);
    assert.equal((await fetchStatus(h, plain)).body, "body 3", "200:0s: an answer without a lifetime is not kept");
    const lifetime = "http://a.test/p?cc=max-age%3D60";
    await fetchStatus(h, lifetime);
    assert.equal((await fetchStatus(h, lifetime)).status, "hit", "a lifetime from the upstream wins over status_ttl");
    const publicOnly = "http://a.test/r?status=302&cc=public";
    await fetchStatus(h, publicOnly);
    assert.equal((await fetchStatus(h, publicOnly)).status, "hit", "Cache-Control without a lifetime: status_ttl");
    assert.equal(seen.n, 5);
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: status_ttl entries that are no status:duration, or 304, are refused at their key", () => {
  for (
    const [entry, message] of [
      ["304:10s", "status_ttl cannot set 304"],
      ["abc:10s", "has no status 100 to 599"],
      ["404", "has no status 100 to 599"],
      ["404:soon", "status_ttl entry"],
    ] as const
  ) {
    const { diagnostics } = compileSources([{
      file: "t.toml",
      text: `[plugins.c]\ncategory = "cache"\nstatus_ttl = ["200:1s", "${entry}"]\n`,
    }]);
    const errors = diagnostics.filter((d) => d.severity === "error");
    assert.equal(errors.length, 1, formatText(diagnostics));
    assert.deepEqual(errors[0]!.path, ["plugins", "c", "status_ttl", 1]);
    assert.ok(errors[0]!.message.includes(message), errors[0]!.message);
  }
});

Deno.test("cache: cache_max and cache_file_max_weight are applied, no longer warned about", () => {
  const { diagnostics } = compileSources([{
    file: "t.toml",
    text: `[plugins.c]\ncategory = "cache"\ndirectory = "/tmp/c?cache_max=10&cache_file_max_weight=2"\n`,
  }]);
  assert.deepEqual(diagnostics.filter((d) => d.code === "not-applied"), []);
});

Deno.test("cache: vary_headers limits the request headers an upstream's Vary makes variants of", async () => {
  const { seen, upstream } = countingOrigin();
  const h = planHarness(cachePlan("st-vary", 'vary_headers = ["Accept-Encoding"]'), { upstream });
  try {
    const url = "http://a.test/v?cc=max-age%3D60&vary=Accept-Encoding%2C%20User-Agent";
    const as = (ae: string, ua: string) => ({ headers: { "accept-encoding": ae, "user-agent": ua } });
    await fetchStatus(h, url, as("gzip", "one"));
    assert.deepEqual(await fetchStatus(h, url, as("gzip", "two")), { status: "hit", body: "body 1", code: 200 });
    assert.equal((await fetchStatus(h, url, as("br", "one"))).status, "miss", "Accept-Encoding still varies");
    assert.equal(seen.n, 2);
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: an expired entry is refetched with x-cache-status: expired, then hit again", async () => {
  const { seen, upstream } = countingOrigin();
  const h = planHarness(cachePlan("st-expired"), { upstream });
  try {
    const url = "http://a.test/e?cc=max-age%3D1";
    assert.equal((await fetchStatus(h, url)).status, "miss");
    assert.equal((await fetchStatus(h, url)).status, "hit");
    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual(await fetchStatus(h, url), { status: "expired", body: "body 2", code: 200 });
    assert.deepEqual(await fetchStatus(h, url), { status: "hit", body: "body 2", code: 200 });
    assert.equal(seen.n, 2);
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: an expired entry with an ETag is revalidated: a 304 renews it (revalidated), a 200 replaces it", async () => {
  const seen: (string | null)[] = [];
  let version = "v1";
  const upstream = (req: Request) => {
    const asked = req.headers.get("if-none-match");
    seen.push(asked);
    const headers = { "cache-control": "max-age=1", etag: `"${version}"`, "content-type": "text/plain" };
    if (asked === `"${version}"`) return new Response(null, { status: 304, headers });
    return new Response(`body ${version}`, { headers });
  };
  const h = planHarness(cachePlan("st-revalidate"), { upstream });
  try {
    const url = "http://a.test/etag";
    assert.equal((await fetchStatus(h, url)).status, "miss");
    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual(await fetchStatus(h, url), { status: "revalidated", body: "body v1", code: 200 });
    assert.deepEqual(seen, [null, '"v1"'], "the second request to the origin was conditional");
    assert.deepEqual(await fetchStatus(h, url), { status: "hit", body: "body v1", code: 200 }, "renewed for 1 s");
    await new Promise((r) => setTimeout(r, 1100));
    version = "v2";
    assert.deepEqual(await fetchStatus(h, url), { status: "expired", body: "body v2", code: 200 });
    assert.deepEqual(await fetchStatus(h, url), { status: "hit", body: "body v2", code: 200 });
    assert.equal(seen.length, 3);
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: a HEAD is answered from the GET's entry; a HEAD miss stores nothing", async () => {
  const { seen, upstream } = countingOrigin();
  const h = planHarness(cachePlan("st-head"), { upstream });
  try {
    const url = "http://a.test/h?cc=max-age%3D60";
    const head = await h.request(url, { method: "HEAD" });
    assert.equal(head.headers.get("x-cache-status"), "miss");
    await head.body?.cancel();
    assert.equal((await fetchStatus(h, url)).status, "miss", "the HEAD did not fill the entry");
    const hit = await h.request(url, { method: "HEAD" });
    assert.equal(hit.headers.get("x-cache-status"), "hit");
    assert.equal(hit.headers.get("content-type"), "text/plain");
    // (The front end sends no body for a HEAD; tests/runtime/cache_test.ts shows it with curl.)
    await hit.body?.cancel();
    assert.deepEqual(seen.methods, ["HEAD", "GET"], "the second HEAD did not reach the origin");
  } finally {
    await h.dispose();
  }
});

/** Every file below `dir`. */
async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await filesBelow(`${dir}/${e.name}`));
    else out.push(`${dir}/${e.name}`);
  }
  return out;
}

/** The value of `pingap_cache_memory_evictions` (process-wide). */
async function evictions(): Promise<number> {
  const metric = processRegistry().getSingleMetric("pingap_cache_memory_evictions");
  return (await metric!.get()).values[0]?.value ?? 0;
}

/** Waits until `n` entries are written to their files (a write ends after its response), then removes them. */
async function removeFilesOnceWritten(dir: string, n = 1): Promise<void> {
  const files = await pollFor(`${n} files`, async () => {
    const found = (await filesBelow(dir)).filter((f) => !f.endsWith(".tmp"));
    return found.length === n ? found : undefined;
  });
  for (const f of files) await Deno.remove(f);
}

Deno.test("cache: cache_max keeps that many entries in memory in front of the files, within cache_file_max_weight", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { seen, upstream } = countingOrigin();
    const h = planHarness(
      cachePlan("hot", `directory = "${dir}?cache_max=1&cache_file_max_weight=1"`),
      { upstream },
    );
    try {
      const a = "http://a.test/a?cc=max-age%3D60";
      await fetchStatus(h, a);
      await removeFilesOnceWritten(dir);
      assert.equal((await fetchStatus(h, a)).status, "hit", "served from memory: its file is gone");
      const evictionsBefore = await evictions();
      const b = "http://a.test/b?cc=max-age%3D60";
      await fetchStatus(h, b);
      assert.equal(await evictions(), evictionsBefore + 1, "pingap_cache_memory_evictions counted it");
      await removeFilesOnceWritten(dir);
      assert.equal((await fetchStatus(h, a)).status, "miss", "cache_max = 1: b pushed a out");
      // Over 1 unit of 4 KiB: written to its file, not kept in memory.
      const big = "http://a.test/big?cc=max-age%3D60&pad=9000";
      await fetchStatus(h, big);
      await removeFilesOnceWritten(dir, 2); // a's, written again after its miss, and big's
      assert.equal((await fetchStatus(h, big)).status, "miss", "heavier than cache_file_max_weight");
      assert.equal(seen.n, 5);
    } finally {
      await h.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cache: a hit goes to the front end as its bytes (no body step), a miss through the cache's body step", async () => {
  const { upstream } = countingOrigin();
  const h = planHarness(cachePlan("st-fast"), { upstream });
  const active = h.active;
  const server = active.servers.get("s")!;
  // Count the body step's calls on the instance the location holds.
  const instance = server.locations[0]!.responseBody[0]!;
  const bodyStep = instance.responseBody!;
  let bodySteps = 0;
  (instance as { responseBody: typeof bodyStep }).responseBody = (...args: Parameters<typeof bodyStep>) => {
    bodySteps++;
    return bodyStep(...args);
  };
  /** The pipeline's answer for a front end that writes answers as they are (the HTTP/1.1 one). */
  const asFrontEnd = (url: string) => {
    const ctx = new RequestContext(new FetchRequest(new Request(url)), "127.0.0.1", 1, "127.0.0.1", 0, "http");
    ctx.passThrough = true;
    return handle(active, server, ctx);
  };
  try {
    const url = "http://a.test/fast?cc=max-age%3D60";
    const miss = await asFrontEnd(url);
    assert.ok(!(miss instanceof StaticAnswer));
    assert.equal(miss.headers.get("x-cache-status"), "miss");
    await new Response(miss.body).text();
    assert.equal(bodySteps, 1, "the miss went through the body step (its write to the store)");
    const hit = await asFrontEnd(url);
    assert.equal(bodySteps, 1, "the hit did not");
    assert.ok(hit instanceof StaticAnswer, "the entry's own answer, its head already bytes");
    assert.equal(new TextDecoder().decode(hit.whole), "body 1");
    assert.equal(hit.headers.get("x-cache-status"), "hit");
  } finally {
    await h.dispose();
  }
});

Deno.test("cache: the file store's reads and writes in progress reach pingap_cache_reading and pingap_cache_writing", async () => {
  const dir = await Deno.makeTempDir();
  const registries = new MetricsRegistries();
  const metrics = createMetrics("cache-gauges", registries);
  try {
    const backend = planOf(`[plugins.c]\ncategory = "cache"\ndirectory = "${dir}"\n`).plugins[0]!.config as {
      backend: ConstructorParameters<typeof FileStore>[0];
    };
    const files = new FileStore(backend.backend);
    const file = files.fileOf("", "k");
    const writing = files.put(file, new CacheEntry(200, [], new Uint8Array(1), 0, Number.MAX_SAFE_INTEGER));
    assert.equal(files.writing, 1);
    await writing;
    const reading = files.get(file, 1);
    assert.equal(files.reading, 1);
    const ctx = new RequestContext(
      new FetchRequest(new Request("http://a.test/")),
      "127.0.0.1",
      1,
      "127.0.0.1",
      0,
      "http",
    );
    ctx.location = planOf(`[locations.l]\nupstream = "u"\n[upstreams.u]\naddrs = ["10.0.0.1:1"]\n`).locations[0]!;
    ctx.cacheStatus = "hit";
    ctx.cacheFiles = files;
    metrics.observeRequest(ctx, { status: 200 });
    const text = await metrics.text();
    assert.match(text, /^pingap_cache_reading\{server="cache-gauges"\} 1$/m);
    assert.match(text, /^pingap_cache_writing\{server="cache-gauges"\} 0$/m);
    assert.ok(await reading);
  } finally {
    metrics.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
