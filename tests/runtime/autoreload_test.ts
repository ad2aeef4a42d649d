/**
 * `--autoreload` keeps watching whatever way the config is replaced
 * (issue 15, finding 7 "Autoreload stops"): a file renamed over the config
 * (`sed -i`, vim, atomic writers), and a new config directory moved into
 * place, then edited in place. The proxy runs as the CLI in its own
 * process; each change shows in the response.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, freePort, type Origin, startEchoOrigin } from "../_support/origin.ts";
import { type Child, spawnDeno } from "../_support/process.ts";
import { until } from "../_support/load.ts";
import { versionedConfig as config } from "../_support/configs.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function version(port: number): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/v`);
  return ((await res.json()) as Echo).headers["x-version"];
}

/** Runs the CLI with `--autoreload` on `conf` (a file or a directory) until `test` is done. */
async function withAutoreload(
  conf: string,
  dir: string,
  origin: Origin,
  test: (child: Child) => Promise<void>,
): Promise<void> {
  const child = spawnDeno(["run", "-A", "--unstable-net", `${ROOT}mod.ts`, "start", "-c", conf, "--autoreload"], {
    cwd: dir,
  });
  try {
    await child.waitFor(/listening on/);
    await test(child);
    assert.equal(await child.stop(), 0);
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    await child.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("autoreload: a config file renamed over (atomic write, sed -i) is applied, twice", async () => {
  const origin = await startEchoOrigin("main");
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, config(origin.addr, "a", [port]));
  await withAutoreload(file, dir, origin, async () => {
    assert.equal(await version(port), "a");
    // What atomic writers do: a temporary file beside it, renamed over the config.
    await Deno.writeTextFile(`${dir}/.pingap.toml.tmp`, config(origin.addr, "b", [port]));
    await Deno.rename(`${dir}/.pingap.toml.tmp`, file);
    await until(async () => await version(port) === "b");
    // `sed -i` does the same (its own temporary file).
    const sed = await new Deno.Command("sed", { args: ["-i", "s/X-Version:b/X-Version:c/", file] }).output();
    assert.ok(sed.success, "sed -i ran");
    await until(async () => await version(port) === "c");
    // An edit in place still works on the file that replaced the original.
    await Deno.writeTextFile(file, config(origin.addr, "d", [port]));
    await until(async () => await version(port) === "d");
  });
});

Deno.test("autoreload: a config directory replaced by rename is applied, and so are edits inside the new one", async () => {
  const origin = await startEchoOrigin("main");
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const conf = `${dir}/conf`;
  const write = async (into: string, v: string) => {
    await Deno.mkdir(into, { recursive: true });
    await Deno.writeTextFile(`${into}/pingap.toml`, config(origin.addr, v, [port]));
  };
  await write(conf, "a");
  await withAutoreload(conf, dir, origin, async () => {
    assert.equal(await version(port), "a");
    for (const [i, v] of ["b", "c"].entries()) {
      // A new directory moved into place: the old one out of the way, the new one renamed to its name.
      await write(`${dir}/conf.new`, v);
      await Deno.rename(conf, `${dir}/conf.old${i}`);
      await Deno.rename(`${dir}/conf.new`, conf);
      await until(async () => await version(port) === v);
    }
    // The watch follows the new directory: an edit of a file inside it is applied.
    await write(conf, "d");
    await until(async () => await version(port) === "d");
  });
});

Deno.test("reload: a SIGHUP sent as soon as the proxy says it listens is applied, not lost", async () => {
  const origin = await startEchoOrigin("main");
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, config(origin.addr, "a", [port]));
  const child = spawnDeno(["run", "-A", "--unstable-net", `${ROOT}mod.ts`, "start", "-c", file], { cwd: dir });
  try {
    await child.waitFor(/listening on/);
    // Before the fix, the SIGHUP listener came after the certificate digest and ACME start: this one was lost.
    await Deno.writeTextFile(file, config(origin.addr, "b", [port]));
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\): Location\(api\) is modified/, 10_000);
    assert.equal(await version(port), "b");
    assert.equal(await child.stop(), 0);
  } finally {
    await child.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
