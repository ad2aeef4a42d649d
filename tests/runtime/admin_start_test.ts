/**
 * `--admin` over real sockets, as Pingap's Docker recipe uses it
 * (`PINGAP_ADMIN_ADDR=0.0.0.0:80/pingap`): the admin mounted under a path
 * on the server already listening on that address, with a directory config
 * whose layout the writes keep and whose history sits beside it; and a
 * config with errors, which starts with the admin alone so it can be
 * fixed there (as Pingap).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, freePort, startEchoOrigin } from "../_support/origin.ts";
import { spawnDeno, startWithAdmin } from "../_support/process.ts";
import { rawExchange, rawJson } from "../_support/proxy.ts";
import { until } from "../_support/load.ts";
import { loginToken } from "../../runtime/admin/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ACCOUNT = { user: "u", password: "p" };

async function headers(): Promise<Record<string, string>> {
  return { authorization: await loginToken(ACCOUNT, Math.floor(Date.now() / 1000)) };
}

Deno.test("--admin on a server's own address: mounted under its path beside the routes; a directory keeps its layout", async () => {
  const a = await startEchoOrigin("a");
  const b = await startEchoOrigin("b");
  const port = freePort();
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/conf`);
  await Deno.writeTextFile(
    `${dir}/conf/servers.toml`,
    `[servers.web]\naddr = "127.0.0.1:${port}"\nlocations = ["app"]\n`,
  );
  await Deno.writeTextFile(`${dir}/conf/locations.toml`, `[locations.app]\npath = "/"\nupstream = "a"\n`);
  await Deno.writeTextFile(
    `${dir}/conf/upstreams.toml`,
    `[upstreams.a]\naddrs = ["${a.addr}"]\n\n[upstreams.b]\naddrs = ["${b.addr}"]\n`,
  );
  const child = spawnDeno(["run", "-A", "--unstable-net", `${ROOT}mod.ts`, "start", "-c", `${dir}/conf`], {
    cwd: dir,
    env: {
      PINGAP_ADMIN_ADDR: `127.0.0.1:${port}/pingap`,
      PINGAP_ADMIN_USER: ACCOUNT.user,
      PINGAP_ADMIN_PASSWORD: ACCOUNT.password,
    },
  });
  const web = `http://127.0.0.1:${port}`;
  try {
    await child.waitFor(/server web listening on/);
    assert.doesNotMatch(child.output(), /pingap:admin listening/);
    const served = async () => ((await (await fetch(`${web}/x`)).json()) as Echo).name;
    assert.equal(await served(), "a");
    // `/pingapx` is a route of the server, not the admin's.
    assert.equal(((await (await fetch(`${web}/pingapx`)).json()) as Echo).name, "a");
    const basic = await fetch(`${web}/pingap/api/basic`, { headers: await headers() });
    assert.equal(basic.status, 200);
    await basic.body?.cancel();
    const r = await fetch(`${web}/pingap/api/configs/location/app`, {
      method: "POST",
      headers: await headers(),
      body: JSON.stringify({ path: "/", upstream: "b" }),
    });
    assert.equal(r.status, 204, await r.text());
    assert.equal(await served(), "b");
    // Rewritten where it was; the other files untouched; the history beside the directory, not in it.
    assert.match(await Deno.readTextFile(`${dir}/conf/locations.toml`), /upstream = "b"/);
    assert.match(await Deno.readTextFile(`${dir}/conf/upstreams.toml`), /\[upstreams\.b\]/);
    const history = JSON.parse(await Deno.readTextFile(`${dir}/conf.history/locations/app.json`));
    assert.deepEqual(history.map((e: { user: string }) => e.user), ["u", ""]);
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    await child.stop();
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--admin with a broken config: the admin alone starts, and a fix through it serves", async () => {
  const a = await startEchoOrigin("a");
  const port = freePort();
  const adminPort = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  const good = `[servers.web]\naddr = "127.0.0.1:${port}"\nlocations = ["app"]\n\n[locations.app]\npath = "/"\n` +
    `upstream = "a"\n\n[upstreams.a]\naddrs = ["${a.addr}"]\n`;
  await Deno.writeTextFile(file, good.replace('upstream = "a"', 'upstream = "missing"'));
  const child = startWithAdmin(file, `u:p@127.0.0.1:${adminPort}`, dir);
  try {
    await child.waitFor(/pingap:admin listening on/);
    assert.match(child.output(), /starting with the admin alone/);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
    const r = await fetch(`http://127.0.0.1:${adminPort}/api/configs/import`, {
      method: "POST",
      headers: await headers(),
      body: good,
    });
    assert.equal(r.status, 204, await r.text());
    const res = await fetch(`http://127.0.0.1:${port}/x`);
    assert.equal(((await res.json()) as Echo).name, "a");
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    await child.stop();
    await a.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an admin plugin of the config, without --admin, in worker isolates (threads = 2): a write is served", async () => {
  const a = await startEchoOrigin("a");
  const b = await startEchoOrigin("b");
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(
    file,
    `[servers.web]\naddr = "127.0.0.1:${port}"\nthreads = 2\nlocations = ["app", "adm"]\n\n` +
      `[locations.app]\npath = "/"\nupstream = "a"\n\n[locations.adm]\npath = "/adm"\nplugins = ["adm"]\n\n` +
      `[plugins.adm]\ncategory = "admin"\npath = "/adm"\nauthorizations = ["${btoa("u:p")}"]\n\n` +
      `[upstreams.a]\naddrs = ["${a.addr}"]\n\n[upstreams.b]\naddrs = ["${b.addr}"]\n`,
  );
  const child = spawnDeno(["run", "-A", "--unstable-net", `${ROOT}mod.ts`, "start", "-c", file], { cwd: dir });
  const web = `http://127.0.0.1:${port}`;
  try {
    await child.waitFor(/with 2 workers/);
    const served = async () => ((await (await fetch(`${web}/x`)).json()) as Echo).name;
    assert.equal(await served(), "a");
    const r = await fetch(`${web}/adm/api/configs/location/app`, {
      method: "POST",
      headers: await headers(),
      body: JSON.stringify({ path: "/", upstream: "b" }),
    });
    assert.equal(r.status, 204, await r.text());
    // Every worker swaps to it (the one that answered, at once; the others at the same time): fresh connections,
    // whichever worker takes them, are served by the new plan.
    const fresh = async () => {
      const res = await rawExchange(port, "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      return res ? rawJson<Echo>(res).name : undefined;
    };
    await until(async () => (await Promise.all([1, 2, 3, 4, 5, 6].map(fresh))).every((n) => n === "b"));
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    await child.stop();
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});
