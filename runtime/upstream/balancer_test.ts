import assert from "node:assert/strict";
import { createBalancer, hash32, hashKey, type HashKeySource } from "./balancer.ts";
import type { Backend } from "./types.ts";

function backend(host: string, weight = 1, port = 80): Backend {
  return { host, port, weight, addr: `${host}:${port}` };
}

/** A deterministic key generator (xorshift32), so the statistics tests never flake. */
function keys(count: number, seed = 0x9e3779b9): string[] {
  let x = seed >>> 0;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.push(`user-${x.toString(36)}-${i}`);
  }
  return out;
}

Deno.test("createBalancer() round robin gives nginx's smooth sequence for weights 5,1,1", () => {
  const lb = createBalancer({ kind: "round_robin" }, [backend("a", 5), backend("b", 1), backend("c", 1)]);
  const seq = Array.from({ length: 14 }, () => lb.pick(undefined)?.host).join("");
  assert.equal(seq, "aabacaa" + "aabacaa");
});

Deno.test("createBalancer() round robin follows weights 1:3 within 10% over 400 picks", () => {
  const lb = createBalancer({ kind: "round_robin" }, [backend("a", 1), backend("b", 3)]);
  const counts = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const b = lb.pick(undefined)!;
    counts.set(b.host, (counts.get(b.host) ?? 0) + 1);
  }
  assert.ok(Math.abs(counts.get("a")! - 100) <= 10, `a=${counts.get("a")}`);
  assert.ok(Math.abs(counts.get("b")! - 300) <= 30, `b=${counts.get("b")}`);
});

Deno.test("createBalancer() round robin skips rejected backends and keeps the others' proportions", () => {
  const lb = createBalancer({ kind: "round_robin" }, [backend("a", 2), backend("b", 1), backend("c", 1)]);
  const seen = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const b = lb.pick(undefined, (x) => x.host !== "a")!;
    seen.set(b.host, (seen.get(b.host) ?? 0) + 1);
  }
  assert.equal(seen.get("a"), undefined);
  assert.equal(seen.get("b"), 200);
  assert.equal(seen.get("c"), 200);
  // A down backend gains no credit while down: once back, no burst.
  const next = Array.from({ length: 4 }, () => lb.pick(undefined)!.host).sort().join("");
  assert.equal(next, "aabc");
  assert.equal(lb.pick(undefined, () => false), undefined);
});

Deno.test("createBalancer() calls accept at most once per backend and stops at the first accepted", () => {
  const lb = createBalancer({ kind: "round_robin" }, [backend("a"), backend("b"), backend("c")]);
  const asked: string[] = [];
  const got = lb.pick(undefined, (b) => {
    asked.push(b.host);
    return b.host === "c";
  });
  assert.equal(got?.host, "c");
  assert.deepEqual(asked, ["a", "b", "c"]);
  const asked2: string[] = [];
  lb.pick(undefined, (b) => {
    asked2.push(b.host);
    return false;
  });
  assert.equal(asked2.length, 3);
  assert.equal(new Set(asked2).size, 3);
});

Deno.test("createBalancer() with no backends picks nothing", () => {
  for (const algo of [{ kind: "round_robin" }, { kind: "least_conn" }, { kind: "hash", by: "path" }] as const) {
    assert.equal(createBalancer(algo, []).pick("k"), undefined);
  }
});

Deno.test("createBalancer() update keeps state of backends that stay and ignores duplicates", () => {
  const lb = createBalancer({ kind: "least_conn" }, [backend("a"), backend("b"), backend("a")]);
  assert.equal(lb.backends.length, 2);
  lb.acquire(backend("a"));
  lb.update([backend("a"), backend("c")]);
  assert.equal(lb.inflight("a:80"), 1);
  assert.equal(lb.inflight("b:80"), 0);
  lb.release(backend("b")); // gone: ignored
  lb.release(backend("a"));
  lb.release(backend("a")); // never below zero
  assert.equal(lb.inflight("a:80"), 0);
});

Deno.test("createBalancer() least_conn picks the idle backend", () => {
  const a = backend("a");
  const b = backend("b");
  const c = backend("c");
  const lb = createBalancer({ kind: "least_conn" }, [a, b, c]);
  lb.acquire(a);
  lb.acquire(b);
  lb.acquire(b);
  assert.equal(lb.pick(undefined)?.host, "c");
  lb.acquire(c);
  // a and c tie at 1; b has 2.
  const picks = new Set([lb.pick(undefined)!.host, lb.pick(undefined)!.host]);
  assert.deepEqual([...picks].sort(), ["a", "c"]);
  // The idle one is skipped when rejected.
  lb.release(a);
  assert.equal(lb.pick(undefined, (x) => x !== a)?.host, "c");
});

Deno.test("createBalancer() least_conn breaks ties by weighted round robin", () => {
  const lb = createBalancer({ kind: "least_conn" }, [backend("a", 5), backend("b", 1), backend("c", 1)]);
  const seq = Array.from({ length: 7 }, () => lb.pick(undefined)?.host).join("");
  assert.equal(seq, "aabacaa");
});

Deno.test("createBalancer() least_conn compares in-flight per weight", () => {
  const a = backend("a", 3);
  const b = backend("b", 1);
  const lb = createBalancer({ kind: "least_conn" }, [a, b]);
  lb.acquire(a);
  lb.acquire(a); // 2/3 < 1/1
  lb.acquire(b);
  assert.equal(lb.pick(undefined)?.host, "a");
});

Deno.test("createBalancer() hash is sticky for a key", () => {
  const lb = createBalancer({ kind: "hash", by: "path" }, [backend("a"), backend("b"), backend("c"), backend("d")]);
  for (const key of keys(50)) {
    const first = lb.pick(key)!.addr;
    for (let i = 0; i < 20; i++) assert.equal(lb.pick(key)!.addr, first);
  }
  const one = lb.pick("/same")!.addr;
  for (let i = 0; i < 1000; i++) assert.equal(lb.pick("/same")!.addr, one);
});

Deno.test("createBalancer() hash spreads 10,000 keys over 4 equal backends within 25%", () => {
  const lb = createBalancer({ kind: "hash", by: "path" }, [
    backend("10.0.0.1"),
    backend("10.0.0.2"),
    backend("10.0.0.3"),
    backend("10.0.0.4"),
  ]);
  const counts = new Map<string, number>();
  for (const key of keys(10_000)) {
    const b = lb.pick(key)!;
    counts.set(b.addr, (counts.get(b.addr) ?? 0) + 1);
  }
  assert.equal(counts.size, 4);
  for (const [addr, n] of counts) assert.ok(n >= 1875 && n <= 3125, `${addr}: ${n}`);
});

Deno.test("createBalancer() hash follows weights", () => {
  const lb = createBalancer({ kind: "hash", by: "path" }, [backend("10.0.0.1", 1), backend("10.0.0.2", 3)]);
  let heavy = 0;
  for (const key of keys(10_000)) if (lb.pick(key)!.host === "10.0.0.2") heavy++;
  assert.ok(heavy > 7000 && heavy < 8000, `heavy=${heavy}`);
});

Deno.test("createBalancer() hash moves between 10% and 30% of keys when a 5th backend is added", () => {
  const four = [backend("10.0.0.1"), backend("10.0.0.2"), backend("10.0.0.3"), backend("10.0.0.4")];
  const lb = createBalancer({ kind: "hash", by: "url" }, four);
  const ks = keys(10_000, 12345);
  const before = ks.map((k) => lb.pick(k)!.addr);
  lb.update([...four, backend("10.0.0.5")]);
  let moved = 0;
  ks.forEach((k, i) => {
    const now = lb.pick(k)!.addr;
    if (now !== before[i]) {
      moved++;
      // Keys only move to the new backend.
      assert.equal(now, "10.0.0.5:80");
    }
  });
  assert.ok(moved >= 1000 && moved <= 3000, `moved=${moved}`);
  // Removing it again restores the old mapping exactly.
  lb.update(four);
  ks.forEach((k, i) => assert.equal(lb.pick(k)!.addr, before[i]));
});

Deno.test("createBalancer() hash walks the ring past unhealthy backends, trying each once", () => {
  const lb = createBalancer({ kind: "hash", by: "path" }, [backend("a"), backend("b"), backend("c"), backend("d")]);
  for (const key of keys(200)) {
    const home = lb.pick(key)!;
    const asked: string[] = [];
    const next = lb.pick(key, (b) => {
      asked.push(b.addr);
      return b !== home;
    })!;
    assert.notEqual(next.addr, home.addr);
    assert.deepEqual(asked, [home.addr, next.addr]);
    // The fallback is sticky too.
    assert.equal(lb.pick(key, (b) => b !== home)!.addr, next.addr);
  }
  const asked: string[] = [];
  assert.equal(
    lb.pick("k", (b) => {
      asked.push(b.addr);
      return false;
    }),
    undefined,
  );
  assert.equal(asked.length, 4);
  assert.equal(new Set(asked).size, 4);
});

Deno.test("hash32() is FNV-1a with a fmix32 finish over UTF-8", () => {
  assert.equal(hash32("abc"), hash32("abc"));
  assert.notEqual(hash32("a-1"), hash32("a-2"));
  // Same bytes, same hash: UTF-8 encoding done inline.
  const manual = (s: string) => {
    let h = 0x811c9dc5;
    for (const byte of new TextEncoder().encode(s)) h = Math.imul(h ^ byte, 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  };
  for (const s of ["", "abc", "é", "日本", "😀x", "\ud800"]) assert.equal(hash32(s), manual(s), s);
});

Deno.test("hashKey() reads the request part of each hash strategy (vectors 48-49)", () => {
  const url = new URL("http://x/vicanso/pingap?id=1234");
  const headers = new Headers({ "user-agent": "pingap/0.1.1", cookie: "deviceId=abc" });
  const req: HashKeySource = {
    path: url.pathname,
    uri: url.pathname + url.search,
    clientIp: "1.1.1.1",
    header: (n) => headers.get(n),
    cookie: (n) => /(?:^|;\s*)deviceId=([^;]*)/.exec(headers.get("cookie") ?? "")?.[n === "deviceId" ? 1 : 99],
    query: (n) => url.searchParams.get(n),
  };
  assert.equal(hashKey({ kind: "hash", by: "url" }, req), "/vicanso/pingap?id=1234");
  assert.equal(hashKey({ kind: "hash", by: "ip" }, req), "1.1.1.1");
  assert.equal(hashKey({ kind: "hash", by: "header", name: "user-agent" }, req), "pingap/0.1.1");
  assert.equal(hashKey({ kind: "hash", by: "cookie", name: "deviceId" }, req), "abc");
  assert.equal(hashKey({ kind: "hash", by: "query", name: "id" }, req), "1234");
  assert.equal(hashKey({ kind: "hash", by: "path" }, req), "/vicanso/pingap");
  assert.equal(hashKey({ kind: "hash", by: "header", name: "x-missing" }, req), "");
  assert.equal(hashKey({ kind: "hash", by: "query", name: "missing" }, req), "");
  assert.equal(hashKey({ kind: "round_robin" }, req), undefined);
  assert.equal(hashKey({ kind: "least_conn" }, req), undefined);
});
