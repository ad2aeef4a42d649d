/**
 * The CLI's lifecycle as an operator sees it: `--autoreload` picks up file
 * edits under load (a route change, a new listen address, a broken edit, a
 * fix) without one failed request, and SIGQUIT lets a slow request finish.
 * The proxy runs from another working directory with an absolute entry
 * module, as the compiled executable would.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, freePort, startEchoOrigin, startOrigin } from "../_support/origin.ts";
import { spawnDeno } from "../_support/process.ts";
import { type Load, startLoad, until } from "../_support/load.ts";
import { versionedConfig as config } from "../_support/configs.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("lifecycle: --autoreload applies edits under load without a failed request; a broken edit keeps the old config", async () => {
  const origin = await startEchoOrigin("main");
  const [p1, p2] = [freePort(), freePort()];
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, config(origin.addr, "a", [p1]));
  const child = spawnDeno(["run", "-A", "--unstable-net", `${ROOT}mod.ts`, "start", "-c", file, "--autoreload"], {
    cwd: dir,
  });
  const version = async (port = p1) => {
    const res = await fetch(`http://127.0.0.1:${port}/v`);
    return ((await res.json()) as Echo).headers["x-version"];
  };
  let load: Load | undefined;
  try {
    await child.waitFor(/listening on/);
    load = startLoad(`http://127.0.0.1:${p1}/load`);
    const figures: string[] = [];
    await Deno.writeTextFile(file, config(origin.addr, "b", [p1]));
    figures.push(`route change ${await until(async () => await version() === "b")} ms`);
    await Deno.writeTextFile(file, config(origin.addr, "b", [p1, p2]));
    figures.push(`new address ${await until(async () => await version(p2) === "b")} ms`);
    await Deno.writeTextFile(file, config(origin.addr, "c", [p1, p2]).replace("upstream =", "upstrem ="));
    await child.waitFor(/reload \(file change\) failed, the current config keeps serving/);
    assert.match(child.output(), /pingap\.toml:\d+:\d+ {2}locations\.api\.upstrem/, "the error names file, line, key");
    assert.equal(await version(), "b", "the old config keeps serving");
    await Deno.writeTextFile(file, config(origin.addr, "c", [p1, p2]));
    figures.push(`fixed edit ${await until(async () => await version() === "c")} ms`);
    console.log(`from file write to served: ${figures.join(", ")}`);
    const { ok, failures } = await load.stop();
    assert.deepEqual(failures, [], "no failed request");
    assert.ok(ok > 50, `requests flowed (${ok})`);
    assert.equal(await child.stop(), 0);
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    await load?.stop();
    await child.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lifecycle: SIGQUIT during a 2 s request lets it complete with 200, then the process exits 0", async () => {
  const origin = await startOrigin("slow", async () => {
    await new Promise((r) => setTimeout(r, 2000));
    return new Response("slow but whole");
  });
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, config(origin.addr, "a", [port]));
  const child = spawnDeno(["run", "-A", "--unstable-net", `${ROOT}mod.ts`, "start", "-c", file], { cwd: dir });
  try {
    await child.waitFor(/listening on/);
    const pending = fetch(`http://127.0.0.1:${port}/slow`);
    await new Promise((r) => setTimeout(r, 300));
    Deno.kill(child.pid, "SIGQUIT");
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "slow but whole");
    assert.equal(await child.exited(), 0);
    assert.match(child.output(), /shutting down/);
  } finally {
    await child.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
