/**
 * Hot reload (issue 4): a swap applies every change in place — locations,
 * upstreams, servers' addresses — without a failed request; a broken
 * config on SIGHUP keeps the old plan serving; an unchanged config is a
 * no-op.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { compileToml, startTestProxy } from "../_support/proxy.ts";
import { spawnDeno, START_ARGS } from "../_support/process.ts";
import { freePort } from "../_support/origin.ts";
import { versionedConfig as config } from "../_support/configs.ts";

Deno.test("reload: swaps under load lose no request, apply new values, and add and remove listen addresses", async () => {
  const origin = await startEchoOrigin("main");
  const [p1, p2] = [freePort(), freePort()];
  const proxy = await startTestProxy(config(origin.addr, "v0", [p1]));
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const loop = async () => {
    while (!stop) {
      try {
        const res = await fetch(`http://127.0.0.1:${p1}/x`);
        const echo = await res.json() as Echo;
        if (res.status !== 200) failures.push(`status ${res.status}`);
        else {
          ok++;
          seen.add(echo.headers["x-version"]!);
        }
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  try {
    const loops = [loop(), loop(), loop()];
    for (let v = 1; v <= 5; v++) {
      await new Promise((r) => setTimeout(r, 100));
      await proxy.proxy.swap(compileToml(config(origin.addr, `v${v}`, v === 3 ? [p1, p2] : [p1])));
      if (v === 3) {
        const res = await fetch(`http://127.0.0.1:${p2}/y`);
        assert.equal(((await res.json()) as Echo).headers["x-version"], "v3", "new address serves the new plan");
      }
    }
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(loops);
    assert.deepEqual(failures, [], "no failed request across 5 swaps");
    assert.ok(ok > 50, `requests flowed (${ok})`);
    assert.ok(seen.has("v0") && seen.has("v5"), `old and new values served: ${[...seen]}`);
    await assert.rejects(fetch(`http://127.0.0.1:${p2}/z`), "the removed address no longer accepts");
    assert.equal(proxy.proxy.listening.length, 1);
  } finally {
    stop = true;
    await proxy.close();
    await origin.close();
  }
});

Deno.test("reload: SIGHUP applies a changed file, keeps serving on a broken one, and skips an unchanged one", async () => {
  const origin = await startEchoOrigin("main");
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, config(origin.addr, "a", [port]));
  const child = spawnDeno([...START_ARGS, file]);
  const version = async () => ((await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Echo).headers["x-version"];
  try {
    await child.waitFor(/listening on/);
    assert.equal(await version(), "a");
    await Deno.writeTextFile(file, config(origin.addr, "b", [port]));
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\): Location\(api\) is modified/);
    assert.equal(await version(), "b");
    await Deno.writeTextFile(file, config(origin.addr, "c", [port]).replace("upstream =", "upstrem ="));
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\) failed, the current config keeps serving/);
    assert.match(child.output(), /pingap\.toml:\d+:\d+ {2}locations\.api\.upstrem/);
    assert.equal(await version(), "b");
    await Deno.writeTextFile(file, config(origin.addr, "b", [port]));
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\): config unchanged/);
    assert.equal(await child.stop(), 0);
  } finally {
    await child.stop().catch(() => {});
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
