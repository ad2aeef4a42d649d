/**
 * The `cache` plugin over real sockets: the origin's own request counter proves a hit (a hit never reaches it), 50
 * concurrent misses reach it once (the cache lock), `PURGE` is obeyed only from `purge_ip_list`, `no-store` and
 * `private` answers are not kept, `max_ttl` caps a long `max-age`, `Age` counts the seconds since the answer was
 * stored, entries outlive a reload, an expired entry is refetched (`expired`), a HEAD is answered from the GET's
 * entry (curl), and the `pingap_cache_*` families and the access log's cache keys count the requests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { compileToml, get, startTestProxy } from "../_support/proxy.ts";
import { pollFor } from "../_support/poll.ts";

/** An origin answering `body <n>` (n counts its requests) with `cache-control` from the `cc` query parameter. */
function countingOrigin(delayMs = 0) {
  let n = 0;
  return startOrigin("o", async (req) => {
    n++;
    const mine = n;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const cc = new URL(req.url).searchParams.get("cc");
    return new Response(`body ${mine}`, { headers: cc === null ? {} : { "cache-control": cc } });
  });
}

const config = (origin: string, ns: string, extra = "", path = "/") => `
[basic]
trusted_proxies = ["127.0.0.1"]
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]
[upstreams.u]
addrs = ["${origin}"]
[locations.l]
path = "${path}"
upstream = "u"
plugins = ["c"]
[plugins.c]
category = "cache"
namespace = "${ns}"
purge_ip_list = ["10.1.0.0/16"]
${extra}
`;

/** Runs curl with `args`; its stdout. */
async function curl(...args: string[]): Promise<string> {
  const out = await new Deno.Command("curl", { args: ["-s", ...args], stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("cache over sockets: a hit never reaches the origin, Age counts, no-store and private pass, max_ttl caps", async () => {
  const origin = await countingOrigin();
  const proxy = await startTestProxy(config(origin.addr, "e2e-hit", 'max_ttl = "1s"'));
  try {
    const miss = await get(`${proxy.url}/a?cc=max-age%3D3600`);
    assert.equal(miss.text, "body 1");
    assert.equal(miss.headers.get("x-cache-status"), "miss");
    const hit = await get(`${proxy.url}/a?cc=max-age%3D3600`);
    assert.equal(hit.text, "body 1");
    assert.equal(hit.headers.get("x-cache-status"), "hit");
    assert.equal(hit.headers.get("age"), "0");
    assert.equal(origin.count(), 1, "the hit did not reach the origin");
    for (const cc of ["no-store", "private%2C%20max-age%3D3600"]) {
      await get(`${proxy.url}/b?cc=${cc}`);
      assert.equal((await get(`${proxy.url}/b?cc=${cc}`)).headers.get("x-cache-status"), "miss", cc);
    }
    assert.equal(origin.count(), 5, "the four uncacheable requests reached the origin");
    // Past max_ttl (1 s), though max-age says an hour: the entry is stale, the origin is asked again.
    await sleep(1100);
    const again = await get(`${proxy.url}/a?cc=max-age%3D3600`);
    assert.equal(again.headers.get("x-cache-status"), "expired");
    assert.equal(again.text, "body 6");
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cache over sockets: Age is the whole seconds since the answer was stored", async () => {
  const origin = await countingOrigin();
  const proxy = await startTestProxy(config(origin.addr, "e2e-age"));
  try {
    await get(`${proxy.url}/age?cc=max-age%3D3600`);
    await sleep(1100);
    const hit = await get(`${proxy.url}/age?cc=max-age%3D3600`);
    assert.equal(hit.headers.get("x-cache-status"), "hit");
    assert.ok(Number(hit.headers.get("age")) >= 1, `age ${hit.headers.get("age")}`);
    assert.equal(origin.count(), 1);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cache over sockets: 50 concurrent misses of one key reach the origin once", async () => {
  const origin = await countingOrigin(200);
  const proxy = await startTestProxy(config(origin.addr, "e2e-pile", 'lock = "10s"'));
  try {
    const all = await Promise.all(Array.from({ length: 50 }, () => get(`${proxy.url}/pile?cc=max-age%3D3600`)));
    assert.equal(origin.count(), 1);
    assert.ok(all.every((r) => r.status === 200 && r.text === "body 1"));
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cache over sockets: PURGE from purge_ip_list removes an entry, from any other client it is refused", async () => {
  const origin = await countingOrigin();
  const proxy = await startTestProxy(config(origin.addr, "e2e-purge"));
  const url = `${proxy.url}/p?cc=max-age%3D3600`;
  try {
    await get(url);
    for (const headers of [{}, { "x-forwarded-for": "192.0.2.9" }]) {
      const refused = await get(url, { method: "PURGE", headers });
      assert.equal(refused.status, 403);
      assert.equal(refused.text, "Forbidden, ip is not allowed");
    }
    assert.equal((await get(url)).headers.get("x-cache-status"), "hit", "a refused PURGE left the entry");
    const purged = await get(url, { method: "PURGE", headers: { "x-forwarded-for": "10.1.2.3" } });
    assert.equal(purged.status, 204);
    const after = await get(url);
    assert.equal(after.headers.get("x-cache-status"), "miss");
    assert.equal(after.text, "body 2");
    assert.equal(origin.count(), 2);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cache over sockets: entries outlive a reload that keeps the plugin", async () => {
  const origin = await countingOrigin();
  const proxy = await startTestProxy(config(origin.addr, "e2e-reload"));
  try {
    await get(`${proxy.url}/r?cc=max-age%3D3600`);
    const before = proxy.proxy.active.plugins.get("c");
    // The location changes, the plugin does not: the same instance, the same entries.
    await proxy.proxy.swap(compileToml(config(origin.addr, "e2e-reload", "", "/r")));
    assert.equal(proxy.proxy.active.plugins.get("c"), before);
    const hit = await get(`${proxy.url}/r?cc=max-age%3D3600`);
    assert.equal(hit.headers.get("x-cache-status"), "hit");
    assert.equal(origin.count(), 1);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cache over sockets: a HEAD (curl -I) is answered from the GET's entry, without a body", async () => {
  const origin = await countingOrigin();
  const proxy = await startTestProxy(config(origin.addr, "e2e-head"));
  try {
    const url = `${proxy.url}/h?cc=max-age%3D3600`;
    assert.equal(await curl(url), "body 1");
    const head = await curl("-i", "-I", url);
    assert.match(head, /^x-cache-status: hit\r$/m);
    assert.match(head, /^content-length: 6\r$/m);
    assert.ok(head.endsWith("\r\n\r\n"), "no body after the head");
    assert.equal(origin.count(), 1, "the HEAD did not reach the origin");
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cache over sockets: pingap_cache_responses, the lookup time and the access log's cache keys count the requests", async () => {
  const origin = await countingOrigin(400);
  const toml = config(origin.addr, "e2e-metrics", 'lock = "5s"').replace(
    'locations = ["l"]',
    'locations = ["l"]\nprometheus_metrics = "/metrics"\naccess_log = "{path} lookup={:cache_lookup_time} lock={:cache_lock_time}"',
  );
  const proxy = await startTestProxy(toml);
  try {
    const url = `${proxy.url}/m?cc=max-age%3D3600`;
    // One fetches, one waits on its lock (then a hit), one more is a plain hit.
    await Promise.all([get(url), sleep(20).then(() => get(url))]);
    await get(url);
    assert.equal(origin.count(), 1);
    const text = (await get(`${proxy.url}/metrics`)).text;
    const count = (status: string) =>
      Number(
        new RegExp(`^pingap_cache_responses\\{location="l",status="${status}"[^}]*\\} (\\d+)$`, "m").exec(text)?.[1],
      );
    assert.equal(count("hit"), 2, text);
    assert.equal(count("miss"), 1, text);
    assert.match(text, /^pingap_cache_lookup_time_count\{[^}]*\} 3$/m);
    assert.match(text, /^pingap_cache_lock_time_count\{[^}]*\} 1$/m);
    const lines = await pollFor("three access-log lines", () => {
      const mine = proxy.logs.filter((l) => l.startsWith("/m "));
      return Promise.resolve(mine.length === 3 ? mine : undefined);
    });
    assert.ok(lines.every((l) => l.includes(" lookup=0 ")), lines.join("\n"));
    const locked = lines.filter((l) => /lock=\d+$/.test(l));
    assert.equal(locked.length, 1, lines.join("\n"));
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cache over sockets: an expired entry with an ETag is revalidated; the origin answers 304 and no body", async () => {
  const asked: (string | null)[] = [];
  const origin = await startOrigin("etag", (req) => {
    asked.push(req.headers.get("if-none-match"));
    const headers = { "cache-control": "max-age=1", etag: '"e1"' };
    if (req.headers.get("if-none-match") === '"e1"') return new Response(null, { status: 304, headers });
    return new Response("the body", { headers });
  });
  const proxy = await startTestProxy(config(origin.addr, "e2e-revalidate"));
  try {
    const url = `${proxy.url}/rv`;
    assert.equal(await curl(url), "the body");
    await sleep(1100);
    const again = await curl("-i", url);
    assert.match(again, /^x-cache-status: revalidated\r$/m);
    assert.ok(again.endsWith("\r\n\r\nthe body"), again);
    assert.deepEqual(asked, [null, '"e1"']);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cache over sockets: status_ttl keeps a 404 without a lifetime; vary_headers ignores a Vary on User-Agent", async () => {
  let n = 0;
  const origin = await startOrigin("st", (req) => {
    n++;
    const path = new URL(req.url).pathname;
    if (path === "/gone") return new Response(`not here ${n}`, { status: 404 });
    return new Response(`page ${n}`, {
      headers: { "cache-control": "max-age=3600", vary: "Accept-Encoding, User-Agent" },
    });
  });
  const proxy = await startTestProxy(
    config(origin.addr, "e2e-status-vary", 'status_ttl = ["404:1h"]\nvary_headers = ["Accept-Encoding"]'),
  );
  try {
    assert.equal(await curl(`${proxy.url}/gone`), "not here 1");
    await sleep(1100); // past the 1 s an answer without a lifetime gets by default
    const gone = await curl("-i", `${proxy.url}/gone`);
    assert.match(gone, /^HTTP\/1\.1 404 /);
    assert.match(gone, /^x-cache-status: hit\r$/m);
    assert.ok(gone.endsWith("not here 1"));
    assert.equal(await curl("-A", "one", `${proxy.url}/page`), "page 2");
    assert.equal(await curl("-A", "two", `${proxy.url}/page`), "page 2", "another User-Agent: the same entry");
    assert.equal(await curl("-A", "two", "-H", "Accept-Encoding: br", `${proxy.url}/page`), "page 3");
    assert.equal(n, 3);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("cache over sockets: a file cache with cache_max answers from memory once its file is gone", async () => {
  const dir = await Deno.makeTempDir();
  const origin = await countingOrigin();
  const proxy = await startTestProxy(
    config(origin.addr, "e2e-hot", `directory = "${dir}?cache_max=10"`),
  );
  try {
    const url = `${proxy.url}/hot?cc=max-age%3D3600`;
    assert.equal(await curl(url), "body 1");
    const written = async () => {
      const out: string[] = [];
      const walk = async (d: string) => {
        for await (const e of Deno.readDir(d)) {
          if (e.isDirectory) await walk(`${d}/${e.name}`);
          else if (!e.name.endsWith(".tmp")) out.push(`${d}/${e.name}`);
        }
      };
      await walk(dir);
      return out.length === 1 ? out : undefined;
    };
    for (const f of await pollFor("the entry's file", written)) await Deno.remove(f);
    const hit = await curl("-i", url);
    assert.match(hit, /^x-cache-status: hit\r$/m);
    assert.ok(hit.endsWith("body 1"));
    assert.equal(origin.count(), 1);
  } finally {
    await proxy.close();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
