/**
 * etcd as a config storage, against a real etcd (Debian `etcd-server`,
 * found or installed by `tests/components.ts`) that each test starts on
 * free 127.0.0.1 ports with a temporary data directory, and stops.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  b64,
  checkConfig,
  EtcdClient,
  readEtcdSnapshot,
  readSources,
  splitSources,
  syncSourcesToEtcd,
  watchEtcd,
  writeEtcdSources,
} from "../runtime/storage/mod.ts";
import { compileSources, ConfigReadError } from "../compiler/mod.ts";
import { requireComponent } from "./components.ts";
import { spawnDeno } from "./_support/process.ts";
import { freePort } from "./_support/origin.ts";
import { type Etcd, put, withEtcd as withEtcdAt } from "./_support/etcd.ts";

const bins = await requireComponent("etcd", { binaries: ["etcd"], aptPackages: ["etcd-server"] });
const EXAMPLES = new URL("../../shared/pingap-examples/examples/", import.meta.url).pathname;
const haveExamples = await Deno.stat(EXAMPLES).then(() => true, () => false);

function withEtcd(fn: (etcd: Etcd) => Promise<void>): Promise<void> {
  return withEtcdAt(bins!.etcd, fn);
}

/** Resolves when `n` calls have been counted (fails after `ms`). */
function counter(): { fn: () => void; count: () => number; waitFor(n: number, ms: number): Promise<number> } {
  let count = 0;
  const waiters: (() => void)[] = [];
  return {
    fn() {
      count++;
      for (const w of waiters.splice(0)) w();
    },
    count: () => count,
    async waitFor(n, ms) {
      const t0 = performance.now();
      while (count < n) {
        const left = ms - (performance.now() - t0);
        if (left <= 0) throw new Error(`onChange called ${count} times, wanted ${n} within ${ms} ms`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
      return performance.now() - t0;
    },
  };
}

const CONFIG: Record<string, string> = {
  "basic.toml": '[basic]\nname = "etcd-test"\n',
  "servers/web.toml": '[servers.web]\naddr = "127.0.0.1:6188"\nlocations = ["lo"]\n',
  "locations/lo.toml": '[locations.lo]\nupstream = "up"\npath = "/"\n',
  "upstreams/up.toml": '[upstreams.up]\naddrs = ["127.0.0.1:5000"]\n',
};

async function putConfig(etcd: Etcd, base = "/pingap/", config = CONFIG): Promise<void> {
  for (const [key, text] of Object.entries(config)) await put(etcd, base + key, text);
}

const ignore = !bins;

Deno.test({
  name: "etcd: a config kept as per-item keys compiles, diagnostics name the key",
  ignore,
  fn: () =>
    withEtcd(async (etcd) => {
      await putConfig(etcd);
      // Neighbours of the prefix are not part of the config.
      await put(etcd, "/pingap-history/upstreams/up.toml/1-1", "not = [toml");
      await put(etcd, "/pingapx/basic.toml", "not = [toml");
      const url = etcd.url();
      const sources = await readSources(url);
      assert.deepEqual(
        sources.map((s) => s.file),
        Object.keys(CONFIG).sort().map((k) => `etcd://127.0.0.1:${etcd.port}/pingap/${k}`),
      );
      const ok = await checkConfig(url);
      assert.equal(ok.exitCode, 0, JSON.stringify(ok.diagnostics));
      assert.equal(ok.plan?.basic.name, "etcd-test");
      assert.equal(ok.plan?.upstreams[0]?.name, "up");
      assert.equal(compileSources(sources).plan?.hash, ok.plan?.hash);

      // A bad value in one key: the diagnostic's file is that key, the line is the value's.
      const bad = `etcd://127.0.0.1:${etcd.port}/pingap/upstreams/bad.toml`;
      await put(etcd, "/pingap/upstreams/bad.toml", '[upstreams.bad]\n\naddrs = "127.0.0.1:5001"\n');
      const r = await checkConfig(url);
      assert.equal(r.exitCode, 1);
      const d = r.diagnostics.find((d) => d.severity === "error");
      assert.ok(d, JSON.stringify(r.diagnostics));
      assert.equal(d.file, bad, JSON.stringify(d));
      assert.equal(d.line, 3, JSON.stringify(d));

      // A TOML syntax error in another key is reported there.
      await put(etcd, "/pingap/upstreams/bad.toml", '[upstreams.bad]\naddrs = ["127.0.0.1:5001"\n');
      const s = await checkConfig(url);
      assert.equal(s.exitCode, 1);
      assert.equal(s.diagnostics[0]?.code, "toml-syntax");
      assert.equal(s.diagnostics[0]?.file, bad);

      // The same item in two keys: both named.
      await put(etcd, "/pingap/upstreams/bad.toml", '[upstreams.up]\naddrs = ["127.0.0.1:5001"]\n');
      const dup = await checkConfig(url);
      assert.equal(dup.exitCode, 1);
      const dd = dup.diagnostics.find((d) => d.code === "duplicate-item");
      assert.ok(dd, JSON.stringify(dup.diagnostics));
      assert.equal(dd.file, `etcd://127.0.0.1:${etcd.port}/pingap/upstreams/up.toml`);
      assert.equal(dd.related?.[0]?.file, bad);
    }),
});

Deno.test({
  name: "etcd: read errors are ConfigReadErrors (nothing stored, no etcd, failover to the next host)",
  ignore,
  fn: () =>
    withEtcd(async (etcd) => {
      const empty = await checkConfig(etcd.url("nothing-here"));
      assert.equal(empty.exitCode, 2);
      assert.match(empty.readError ?? "", /holds no key under "\/nothing-here\/"/);

      const dead = freePort();
      await assert.rejects(
        readSources(`etcd://127.0.0.1:${dead}/pingap?connect_timeout=2s`),
        (e) => e instanceof ConfigReadError && /no etcd host answered/.test(e.message),
      );
      const bad = await checkConfig(`etcd://127.0.0.1:${etcd.port}/pingap?timeout=soon`);
      assert.equal(bad.exitCode, 2);
      assert.match(bad.readError ?? "", /timeout/);

      await putConfig(etcd);
      const both = await readSources(`etcd://127.0.0.1:${dead},127.0.0.1:${etcd.port}/pingap`);
      // Sources are named after the first host of the URL.
      assert.equal(both[0]?.file, `etcd://127.0.0.1:${dead}/pingap/basic.toml`);
      assert.equal(both.length, 4);

      // A prefix larger than one page is read whole, at one revision.
      const many: Record<string, string> = {};
      for (let i = 0; i < 300; i++) {
        const n = String(i).padStart(3, "0");
        many[`upstreams/u${n}.toml`] = `[upstreams.u${n}]\naddrs = ["127.0.0.1:${5000 + i}"]\n`;
      }
      await putConfig(etcd, "/big/", many);
      const snap = await readEtcdSnapshot(etcd.url("big"));
      assert.equal(snap.sources.length, 300);
      assert.ok(snap.revision > 300);
      assert.equal(compileSources(snap.sources).plan?.upstreams.length, 300);
    }),
});

Deno.test({
  name: "etcd: user and password authenticate; without them etcd refuses",
  ignore,
  fn: () =>
    withEtcd(async (etcd) => {
      await putConfig(etcd);
      const admin = new EtcdClient(etcd.url());
      await admin.call("/auth/user/add", { name: "root", password: "rootpw" });
      await admin.call("/auth/user/grant", { user: "root", role: "root" });
      await admin.call("/auth/user/add", { name: "abc", password: "pwd" });
      await admin.call("/auth/role/add", { name: "pingap" });
      await admin.call("/auth/role/grant", {
        name: "pingap",
        perm: { permType: "READWRITE", key: b64("/pingap/"), range_end: b64("/pingap0") },
      });
      await admin.call("/auth/user/grant", { user: "abc", role: "pingap" });
      await admin.call("/auth/enable", {});

      const r = await checkConfig(etcd.url("pingap", "timeout=10s&connect_timeout=5s&user=abc&password=pwd"));
      assert.equal(r.exitCode, 0, r.readError ?? "");
      const none = await checkConfig(etcd.url());
      assert.equal(none.exitCode, 2);
      assert.match(none.readError ?? "", /user name is empty/);
      const wrong = await checkConfig(etcd.url("pingap", "user=abc&password=nope"));
      assert.equal(wrong.exitCode, 2);
      assert.match(wrong.readError ?? "", /authentication failed/);
      assert.doesNotMatch(wrong.readError ?? "", /nope/, "the password is not shown");

      // Writes and watches authenticate too.
      const url = etcd.url("pingap", "user=abc&password=pwd");
      const calls = counter();
      const watch = watchEtcd(url, calls.fn, { onError: () => {} });
      try {
        await new Promise((r) => setTimeout(r, 300));
        await writeEtcdSources(url, [{ key: "upstreams/x.toml", text: '[upstreams.x]\naddrs = ["127.0.0.1:1"]\n' }]);
        await calls.waitFor(1, 2000);
      } finally {
        await watch.close();
      }
      assert.equal((await readSources(url)).length, 5);
    }),
});

Deno.test({
  name: "etcd: --sync round trip of the examples keeps the plan hash (or, with refused plugin kinds, the same errors)",
  ignore: ignore || !haveExamples,
  fn: () =>
    withEtcd(async (etcd) => {
      for (const example of ["api-gateway", ...[...Deno.readDirSync(EXAMPLES)].map((e) => e.name).sort()]) {
        const dir = `${EXAMPLES}${example}`;
        const fromDir = await readSources(dir);
        const expected = compileSources(fromDir);
        const url = etcd.url(`sync/${example}`);
        const keys = await syncSourcesToEtcd(url, fromDir);
        assert.ok(keys.every((k) => k.startsWith(`/sync/${example}/`)), keys.join());
        assert.deepEqual(keys.map((k) => k.slice(`/sync/${example}/`.length)), splitSources(fromDir).map((d) => d.key));
        const back = await readSources(url);
        assert.equal(back.length, keys.length);
        for (const s of back) {
          const key = s.file.slice(`etcd://127.0.0.1:${etcd.port}/sync/${example}/`.length);
          if (key === "basic.toml") continue;
          const [section, name] = key.replace(/\.toml$/, "").split("/");
          assert.ok(s.text.startsWith(`[${section}.`), `${key} keeps its section wrapper:\n${s.text}`);
          assert.ok(s.text.includes(name!), key);
        }
        const compiled = compileSources(back);
        if (!expected.plan) {
          // Examples with plugin kinds this version refuses: the same errors come back.
          const errors = (r: typeof compiled) =>
            r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.path.join(".")}`).sort();
          assert.deepEqual(errors(compiled), errors(expected), example);
          continue;
        }
        assert.ok(compiled.plan, `${example}: ${JSON.stringify(compiled.diagnostics)}`);
        assert.equal(compiled.plan.hash, expected.plan.hash, example);
      }

      // prune: keys the new config does not hold are removed.
      const url = etcd.url("sync/api-gateway");
      await put(etcd, "/sync/api-gateway/upstreams/stale.toml", '[upstreams.stale]\naddrs = ["127.0.0.1:1"]\n');
      assert.ok((await readSources(url)).some((s) => s.file.endsWith("/stale.toml")));
      await syncSourcesToEtcd(url, await readSources(`${EXAMPLES}api-gateway`), { prune: true });
      assert.ok(!(await readSources(url)).some((s) => s.file.endsWith("/stale.toml")));
    }),
});

Deno.test({
  name: "etcd: the CLI's --sync copies a directory into etcd and etcd back into a directory and a file",
  ignore,
  fn: () =>
    withEtcd(async (etcd) => {
      const cli = async (...args: string[]) => {
        const child = spawnDeno(["run", "-A", "mod.ts", ...args]);
        return { code: await child.exited(), output: child.output() };
      };
      const original = compileSources(await readSources("conf/")).plan!;
      const url = etcd.url("migrate");
      const up = await cli("-c", "conf/", "--sync", url);
      assert.equal(up.code, 0, up.output);
      assert.match(up.output, /copied conf\/ to etcd:/);
      const out = await Deno.makeTempDir();
      try {
        const down = await cli("-c", url, "--sync", `${out}/dir`);
        assert.equal(down.code, 0, down.output);
        assert.ok((await Deno.stat(`${out}/dir/servers`)).isDirectory, "one file per item");
        const file = await cli("-c", url, "--sync", `${out}/all.toml`);
        assert.equal(file.code, 0, file.output);
        for (const copy of [`${out}/dir`, `${out}/all.toml`]) {
          const plan = compileSources(await readSources(copy)).plan;
          assert.equal(plan?.hash, original.hash, `${copy} compiles to the same plan`);
        }
        const broken = `${out}/broken.toml`;
        await Deno.writeTextFile(broken, '[servers.s]\naddr = "127.0.0.1:1"\nlocations = ["missing"]\n');
        const refused = await cli("-c", broken, "--sync", `${out}/never`);
        assert.equal(refused.code, 1, "a config with errors is not copied");
        assert.equal(await Deno.stat(`${out}/never`).catch(() => null), null);
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    }),
});

Deno.test({
  name: "etcd: watch fires on put and delete, and reconnects after etcd restarts",
  ignore,
  fn: () =>
    withEtcd(async (etcd) => {
      await putConfig(etcd);
      const calls = counter();
      const errors: string[] = [];
      let connected = 0;
      const watch = watchEtcd(etcd.url(), calls.fn, {
        onError: (e, ms) => errors.push(`${e.message} (retry in ${ms} ms)`),
        onConnected: () => connected++,
      });
      try {
        const t0 = Date.now();
        while (connected === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
        assert.equal(connected, 1, errors.join("\n"));
        assert.equal(calls.count(), 0, "no call for the first connection");

        await put(etcd, "/pingap/upstreams/up.toml", '[upstreams.up]\naddrs = ["127.0.0.1:5001"]\n');
        const ms = await calls.waitFor(1, 2000);
        assert.ok(ms < 2000);
        // A burst is one call.
        for (let i = 0; i < 5; i++) await put(etcd, `/pingap/upstreams/b${i}.toml`, `[upstreams.b${i}]\naddrs = []\n`);
        await calls.waitFor(2, 2000);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(calls.count(), 2);
        // Keys next to the prefix are not watched.
        await put(etcd, "/pingap-history/x", "y");
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(calls.count(), 2);
        // Deletes count.
        await fetch(`${etcd.endpoint}/v3/kv/deleterange`, {
          method: "POST",
          body: JSON.stringify({ key: b64("/pingap/upstreams/b0.toml") }),
        }).then((r) => r.text());
        await calls.waitFor(3, 2000);
        const revision = watch.revision;
        assert.ok(revision > 0);

        // etcd goes away and comes back on the same ports and data.
        await etcd.stop();
        await new Promise((r) => setTimeout(r, 1200));
        assert.ok(errors.length >= 1, "the lost stream is reported");
        await etcd.start();
        const t1 = Date.now();
        while (connected < 2 && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 20));
        assert.equal(connected, 2, errors.join("\n"));
        assert.equal(calls.count(), 3, "no change while away: no call");
        await put(etcd, "/pingap/upstreams/up.toml", '[upstreams.up]\naddrs = ["127.0.0.1:5002"]\n');
        await calls.waitFor(4, 2000);
        assert.ok(watch.revision > revision);
      } finally {
        await watch.close();
      }
    }),
});

Deno.test({
  name: "etcd: changes made while the watch is away are delivered (resume, afterRevision, compaction)",
  ignore,
  fn: () =>
    withEtcd(async (etcd) => {
      await putConfig(etcd);
      const snap = await readEtcdSnapshot(etcd.url());
      // Changes after the read, before the watch starts: delivered through afterRevision.
      await put(etcd, "/pingap/upstreams/up.toml", '[upstreams.up]\naddrs = ["127.0.0.1:5001"]\n');
      const calls = counter();
      let connected = 0;
      const watch = watchEtcd(etcd.url(), calls.fn, {
        afterRevision: snap.revision,
        minBackoffMs: 4000,
        onError: () => {},
        onConnected: () => connected++,
      });
      try {
        await calls.waitFor(1, 2000);
        assert.equal(connected, 1);
        // etcd restarts and takes a put before the watch (backing off for 4 s) is back.
        await etcd.stop();
        await etcd.start();
        await put(etcd, "/pingap/upstreams/up.toml", '[upstreams.up]\naddrs = ["127.0.0.1:5002"]\n');
        assert.equal(connected, 1, "the put was made while the watch was away");
        await calls.waitFor(2, 10_000);
        assert.equal(connected, 2);
      } finally {
        await watch.close();
      }

      // The revision to resume from was compacted away: one call, then watching from now.
      const old = (await readEtcdSnapshot(etcd.url())).revision;
      await put(etcd, "/pingap/upstreams/up.toml", '[upstreams.up]\naddrs = ["127.0.0.1:5003"]\n');
      await put(etcd, "/other/key", "v");
      const now = (await readEtcdSnapshot(etcd.url("other"))).revision;
      await new EtcdClient(etcd.url()).call("/kv/compaction", { revision: String(now), physical: true });
      const compacted = counter();
      const errors: string[] = [];
      const w2 = watchEtcd(etcd.url(), compacted.fn, {
        afterRevision: old,
        minBackoffMs: 10,
        onError: (e) => errors.push(e.message),
      });
      try {
        await compacted.waitFor(1, 3000);
        assert.ok(errors.some((m) => /compacted/.test(m)), errors.join("\n"));
        await put(etcd, "/pingap/upstreams/up.toml", '[upstreams.up]\naddrs = ["127.0.0.1:5004"]\n');
        await compacted.waitFor(2, 2000);
      } finally {
        await w2.close();
      }
    }),
});
