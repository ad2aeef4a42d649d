/**
 * The proxy serving a config kept in a real etcd (Debian `etcd-server`):
 * a key change is served without a restart, and while etcd is away for 5 s
 * the last good config keeps serving every request; the watch then resumes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { requireComponent } from "../components.ts";
import { put, withEtcd } from "../_support/etcd.ts";
import { type Echo, freePort, startEchoOrigin } from "../_support/origin.ts";
import { spawnDeno } from "../_support/process.ts";
import { type Load, startLoad, until } from "../_support/load.ts";

const bins = await requireComponent("etcd", { binaries: ["etcd"], aptPackages: ["etcd-server"] });

Deno.test({
  name: "etcd serving: a key change is served, and 5 s without etcd lose no request",
  ignore: !bins,
  fn: () =>
    withEtcd(bins!.etcd, async (etcd) => {
      const origin = await startEchoOrigin("main");
      const port = freePort();
      const location = (version: string) =>
        `[locations.api]\npath = "/"\nupstream = "main"\nproxy_set_headers = ["X-Version:${version}"]\n`;
      await put(etcd, "/pingap/servers/s.toml", `[servers.s]\naddr = "127.0.0.1:${port}"\nlocations = ["api"]\n`);
      await put(etcd, "/pingap/upstreams/main.toml", `[upstreams.main]\naddrs = ["${origin.addr}"]\n`);
      await put(etcd, "/pingap/locations/api.toml", location("a"));
      const child = spawnDeno(["run", "-A", "--unstable-net", "mod.ts", "start", "-c", etcd.url()]);
      const version = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/v`);
        return ((await res.json()) as Echo).headers["x-version"];
      };
      let load: Load | undefined;
      try {
        await child.waitFor(/listening on/);
        assert.equal(await version(), "a");
        load = startLoad(`http://127.0.0.1:${port}/load`);
        await put(etcd, "/pingap/locations/api.toml", location("b"));
        const changed = await until(async () => await version() === "b");
        await etcd.stop();
        const before = load.ok();
        await new Promise((r) => setTimeout(r, 5000));
        assert.ok(load.ok() > before + 50, `requests kept flowing without etcd (${load.ok() - before})`);
        assert.match(child.output(), /etcd watch: /, "the lost watch is reported");
        await etcd.start();
        await put(etcd, "/pingap/locations/api.toml", location("c"));
        const resumed = await until(async () => await version() === "c");
        console.log(`key change served after ${changed} ms; after etcd came back, ${resumed} ms`);
        const { failures } = await load.stop();
        assert.deepEqual(failures, [], "no failed request");
        assert.equal(await child.stop(), 0);
      } finally {
        await load?.stop();
        await child.stop();
        await origin.close();
      }
    }),
});
