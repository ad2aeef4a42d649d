/**
 * The admin API on a config kept in a real etcd (Debian `etcd-server`): a
 * write goes to the item's own key (one transaction), is served through
 * the etcd reload, and its history is kept under `/<base>-history/`,
 * outside the prefix that is read and watched; a bad write leaves etcd
 * unchanged.
 *
 * @module
 */
import assert from "node:assert/strict";
import { requireComponent } from "../components.ts";
import { put, withEtcd } from "../_support/etcd.ts";
import { type Echo, freePort, startEchoOrigin } from "../_support/origin.ts";
import { spawnDeno } from "../_support/process.ts";
import { EtcdClient, parseEtcdUrl, unb64 } from "../../runtime/storage/mod.ts";
import { loginToken } from "../../runtime/admin/mod.ts";

const bins = await requireComponent("etcd", { binaries: ["etcd"], aptPackages: ["etcd-server"] });

async function keys(url: string, prefix: string): Promise<Map<string, string>> {
  const { kvs } = await new EtcdClient(parseEtcdUrl(url)).rangePrefix(prefix);
  const d = new TextDecoder();
  return new Map(kvs.map((kv) => [d.decode(unb64(kv.key)), d.decode(unb64(kv.value ?? ""))]));
}

Deno.test({
  name: "admin on etcd: a write to the item's key, served; history outside the prefix; a bad write changes nothing",
  ignore: !bins,
  fn: () =>
    withEtcd(bins!.etcd, async (etcd) => {
      const a = await startEchoOrigin("a");
      const b = await startEchoOrigin("b");
      const port = freePort();
      const adminPort = freePort();
      await put(etcd, "/pingap/servers/s.toml", `[servers.s]\naddr = "127.0.0.1:${port}"\nlocations = ["api"]\n`);
      await put(etcd, "/pingap/upstreams/a.toml", `[upstreams.a]\naddrs = ["${a.addr}"]\n`);
      await put(etcd, "/pingap/upstreams/b.toml", `[upstreams.b]\naddrs = ["${b.addr}"]\n`);
      await put(etcd, "/pingap/locations/api.toml", `[locations.api]\npath = "/"\nupstream = "a"\n`);
      const child = spawnDeno([
        "run",
        "-A",
        "--unstable-net",
        "mod.ts",
        "start",
        "-c",
        etcd.url(),
        "--admin",
        `u:p@127.0.0.1:${adminPort}`,
      ]);
      const api = `http://127.0.0.1:${adminPort}/api`;
      const auth = async () => ({
        authorization: await loginToken({ user: "u", password: "p" }, Math.floor(Date.now() / 1000)),
      });
      const served = async () => ((await (await fetch(`http://127.0.0.1:${port}/x`)).json()) as Echo).name;
      try {
        await child.waitFor(/pingap:admin listening on/);
        assert.equal(await served(), "a");
        const before = await keys(etcd.url(), "/pingap/");
        const bad = await fetch(`${api}/configs/upstream/a`, { method: "DELETE", headers: await auth() });
        assert.equal(bad.status, 400);
        await bad.body?.cancel();
        assert.deepEqual(await keys(etcd.url(), "/pingap/"), before);
        const good = await fetch(`${api}/configs/location/api`, {
          method: "POST",
          headers: await auth(),
          body: JSON.stringify({ path: "/", upstream: "b" }),
        });
        assert.equal(good.status, 204, await good.text());
        assert.equal(await served(), "b");
        const after = await keys(etcd.url(), "/pingap/");
        assert.deepEqual([...after.keys()], [...before.keys()]);
        assert.match(after.get("/pingap/locations/api.toml")!, /upstream = "b"/);
        const history = await keys(etcd.url(), "/pingap-history/");
        assert.deepEqual([...history.keys()], ["/pingap-history/locations/api.json"]);
        const h = await (await fetch(`${api}/config-history/location/api`, { headers: await auth() })).json();
        assert.deepEqual(h.history.map((e: { data: { upstream: string } }) => e.data.upstream), ["b", "a"]);
      } catch (e) {
        console.error(child.output());
        throw e;
      } finally {
        await child.stop();
        await a.close();
        await b.close();
      }
    }),
});
