import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { ConfigReadError, parseSources } from "../../compiler/mod.ts";
import {
  b64,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  parseEtcdUrl,
  prefixRangeEnd,
  readEtcdSources,
  redact,
  unb64,
} from "./mod.ts";
import { splitRaw, splitSources } from "./split.ts";

Deno.test("parseEtcdUrl: inventory §11 row 47", () => {
  const c = parseEtcdUrl("etcd://127.0.0.1:2379/pingap?timeout=10s&connect_timeout=5s&user=abc&password=pwd");
  assert.equal(c.timeoutMs, 10_000);
  assert.equal(c.connectTimeoutMs, 5_000);
  assert.equal(c.user, "abc");
  assert.equal(c.password, "pwd");
  assert.deepEqual(c.hosts, ["127.0.0.1:2379"]);
  assert.deepEqual(c.endpoints, ["http://127.0.0.1:2379"]);
  assert.equal(c.base, "/pingap");
  assert.equal(c.prefix, "/pingap/");
  assert.deepEqual(c.notes, []);
});

Deno.test("parseEtcdUrl: hosts, base, defaults, notes", () => {
  const c = parseEtcdUrl("etcd://h1:2379,h2:2380/a/b/?enable_history=true&tls=true&user=only");
  assert.deepEqual(c.hosts, ["h1:2379", "h2:2380"]);
  assert.deepEqual(c.endpoints, ["http://h1:2379", "http://h2:2380"]);
  assert.equal(c.prefix, "/a/b/");
  assert.equal(c.timeoutMs, DEFAULT_TIMEOUT_MS);
  assert.equal(c.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
  assert.equal(c.user, undefined, "user without password: no auth (as Pingap)");
  assert.equal(c.enableHistory, true);
  assert.equal(c.notes.length, 3);
  assert.match(c.notes.join("\n"), /enable_history.*ignored/);
  assert.match(c.notes.join("\n"), /tls: unknown/);
  assert.equal(parseEtcdUrl("etcd://h:1").prefix, "/");
  assert.equal(parseEtcdUrl("etcd://h:1?timeout=1m30s").timeoutMs, 90_000);
  assert.equal(parseEtcdUrl("etcd://h:1/p?timeout=1s").connectTimeoutMs, 1000, "capped by timeout");
  assert.deepEqual(parseEtcdUrl("etcd://[::1]:2379/p").endpoints, ["http://[::1]:2379"]);
  assert.throws(() => parseEtcdUrl("etcd:///pingap"), ConfigReadError);
  assert.throws(() => parseEtcdUrl("etcd://h:1/p?timeout=soon&password=secret"), (e) => {
    assert.ok(e instanceof ConfigReadError);
    assert.match(e.message, /timeout/);
    assert.doesNotMatch(e.message, /secret/);
    return true;
  });
  assert.equal(redact("etcd://h/p?user=u&password=x&a=1"), "etcd://h/p?user=u&password=***&a=1");
});

Deno.test("prefixRangeEnd and base64 helpers", () => {
  assert.equal(prefixRangeEnd("/pingap/"), b64("/pingap0"));
  assert.deepEqual([...unb64(prefixRangeEnd("a\xff"))], [0x61, 0xc3, 0xc0], "on UTF-8 bytes");
  assert.equal(new TextDecoder().decode(unb64(b64("é/ü 日本"))), "é/ü 日本");
  const big = new Uint8Array(100_000).map((_, i) => i % 256);
  assert.deepEqual(unb64(b64(big)), big);
});

Deno.test("readEtcdSources: a host that accepts but never answers is left after connect_timeout", async () => {
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const c of silent) held.push(c);
    } catch { /* closed */ }
  })();
  const gateway = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.body?.cancel();
    return Response.json({
      header: { revision: "3" },
      kvs: [{ key: b64("/p/basic.toml"), value: b64('[basic]\nname = "x"\n'), mod_revision: "3" }],
      count: "1",
    });
  });
  try {
    const sp = (silent.addr as Deno.NetAddr).port;
    const gp = (gateway.addr as Deno.NetAddr).port;
    const t0 = performance.now();
    await assert.rejects(readEtcdSources(`etcd://127.0.0.1:${sp}/p?connect_timeout=200ms`), /within 200 ms/);
    const took = performance.now() - t0;
    assert.ok(took >= 190 && took < 2000, `${took} ms`);
    const sources = await readEtcdSources(`etcd://127.0.0.1:${sp},127.0.0.1:${gp}/p?connect_timeout=200ms`);
    assert.deepEqual(sources, [{ file: `etcd://127.0.0.1:${sp}/p/basic.toml`, text: '[basic]\nname = "x"\n' }]);
  } finally {
    silent.close();
    for (const c of held) c.close();
    await accepting;
    await gateway.shutdown();
  }
});

Deno.test("splitRaw: one document per item, section wrapper kept, loads back the same", () => {
  const raw = {
    basic: { name: "p", threads: 2 },
    servers: { web: { addr: "0.0.0.0:80", locations: ["a"] } },
    locations: { a: { upstream: "u", headers: ["x:1"] } },
    upstreams: { u: { addrs: ["127.0.0.1:1"] }, "b.c": { addrs: [] } },
    plugins: { "my:plug": { category: "stats", path: "/s", nested: { deep: { k: 1 } } } },
  };
  const docs = splitRaw(raw);
  assert.deepEqual(docs.map((d) => d.key), [
    "basic.toml",
    "servers/web.toml",
    "locations/a.toml",
    "upstreams/b.c.toml",
    "upstreams/u.toml",
    "plugins/my:plug.toml",
  ]);
  assert.ok(docs[2]!.text.startsWith("[locations.a]\n"), docs[2]!.text);
  assert.ok(docs[3]!.text.startsWith('[upstreams."b.c"]\n'), docs[3]!.text);
  for (const d of docs) assert.ok(d.text.endsWith("]\n") || d.text.endsWith("\n") && !d.text.endsWith("\n\n"));
  const back = parseSources(docs.map((d) => ({ file: d.key, text: d.text })));
  assert.deepEqual(back.diagnostics, []);
  assert.deepEqual(JSON.parse(JSON.stringify(back.raw)), raw);
  assert.deepEqual(JSON.parse(JSON.stringify(parse(docs[0]!.text))), { basic: raw.basic });
  assert.throws(() => splitRaw({ upstreams: { "a/b": {} } }), /invalid config name: "a\/b"/);
});

Deno.test("splitSources: any layout in, refuses broken TOML and duplicates", () => {
  const docs = splitSources([
    { file: "upstreams.toml", text: '[upstreams.a]\naddrs = []\n[upstreams.b]\naddrs = ["1.1.1.1:1"]\n' },
    { file: "basic.toml", text: "[basic]\nlog_level = 'info'\n" },
  ]);
  assert.deepEqual(docs.map((d) => d.key), ["basic.toml", "upstreams/a.toml", "upstreams/b.toml"]);
  assert.throws(() => splitSources([{ file: "x.toml", text: "[a" }]), /x\.toml:1: TOML syntax error/);
  assert.throws(
    () => splitSources([{ file: "x.toml", text: "[upstreams.a]\n" }, { file: "y.toml", text: "[upstreams.a]\n" }]),
    /defined twice/,
  );
});
