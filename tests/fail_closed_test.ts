/**
 * Fail closed, as an operator meets it through the real CLI: a plugin kind
 * this version cannot run is a `check` error at its key path, `start`
 * refuses to serve it, a reload to it keeps the old config, and `-t` checks
 * wherever it appears on the command line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { PLUGINS } from "../compiler/mod.ts";
import { freePort } from "./_support/origin.ts";
import { type Child, spawnDeno } from "./_support/process.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** The smallest valid table of each category without a runtime half. */
export const UNSUPPORTED_PLUGINS: Readonly<Record<string, string>> = {};

/** A kind no version has: refused like a kind without a runtime half, so the tests below run while every kind runs. */
const UNKNOWN_KIND = "teleport";

/** The error `check` gives at the category of a kind it cannot run (`kind` in the table `name`). */
function refusal(name: string, kind: string): RegExp {
  const why = kind === UNKNOWN_KIND
    ? `Unknown plugin category "${kind}"`
    : `Plugin category "${kind}" is not supported by this version`;
  return new RegExp(`plugins\\.${name}\\.category {2}error: ${why}`);
}

/** A config that serves `/` through every unsupported plugin kind and one unknown kind. */
function unsupportedConfig(port: number): string {
  const names = Object.keys(UNSUPPORTED_PLUGINS);
  return [
    `[servers.web]\naddr = "127.0.0.1:${port}"\nlocations = ["all"]\n`,
    `[upstreams.app]\naddrs = ["127.0.0.1:1"]\n`,
    `[locations.all]\npath = "/"\nupstream = "app"\nplugins = [${
      [...names, UNKNOWN_KIND].map((n) => `"${n}"`).join(", ")
    }]\n`,
    ...names.map((n) => `[plugins.${n}]\ncategory = "${n}"\n${UNSUPPORTED_PLUGINS[n]}\n`),
    `[plugins.${UNKNOWN_KIND}]\ncategory = "${UNKNOWN_KIND}"\n`,
  ].join("\n");
}

async function tempConfig(text: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  await Deno.writeTextFile(file, text);
  return file;
}

/** Waits for the child to exit; SIGTERM after `ms` (it was serving instead). */
async function exitOrStop(child: Child, ms = 30_000): Promise<{ code: number; stopped: boolean }> {
  let stopped = false;
  const timer = setTimeout(() => {
    stopped = true;
    void child.stop();
  }, ms);
  const code = await child.exited();
  clearTimeout(timer);
  return { code, stopped };
}

async function refused(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch (e) {
    return e instanceof Deno.errors.ConnectionRefused;
  }
}

Deno.test("fail closed: UNSUPPORTED_PLUGINS lists exactly the kinds the compiler refuses", () => {
  const refused = [...PLUGINS.values()].filter((d) => d.runtime !== true).map((d) => d.category);
  assert.deepEqual(Object.keys(UNSUPPORTED_PLUGINS).sort(), refused.sort());
});

Deno.test({
  name:
    "fail closed: check gives exactly one error per plugin of every kind without a runtime half (and an unknown kind), at its category",
}, async () => {
  const file = await tempConfig(unsupportedConfig(freePort()));
  try {
    const child = spawnDeno(["run", "--allow-read", "--allow-env", "mod.ts", "check", "-c", file]);
    const { code } = await exitOrStop(child);
    const out = child.output();
    assert.equal(code, 1, out);
    const errors = out.split("\n").filter((l) => l.includes(" error: "));
    const kinds = [...Object.keys(UNSUPPORTED_PLUGINS), UNKNOWN_KIND];
    const refused = [...PLUGINS.values()].filter((d) => d.runtime !== true).map((d) => d.category);
    assert.deepEqual(
      Object.keys(UNSUPPORTED_PLUGINS).sort(),
      refused.sort(),
      "UNSUPPORTED_PLUGINS lists every kind the compiler refuses",
    );
    assert.equal(errors.length, kinds.length, out);
    for (const kind of kinds) {
      const at = errors.filter((e) => e.includes(`  plugins.${kind}.category  `));
      assert.equal(at.length, 1, `${kind}:\n${out}`);
      assert.match(at[0]!, refusal(kind, kind));
      assert.ok(at[0]!.startsWith(`${file}:`), at[0]!);
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test({
  name: "fail closed: start on a config with unsupported plugins exits 1 and serves nothing",
}, async () => {
  const port = freePort();
  const file = await tempConfig(unsupportedConfig(port));
  const child = spawnDeno(["run", "-A", "--unstable-net", "--unstable-no-legacy-abort", "mod.ts", "start", "-c", file]);
  try {
    const { code, stopped } = await exitOrStop(child);
    assert.ok(!stopped, `start served instead of refusing:\n${child.output()}`);
    assert.equal(code, 1, child.output());
    assert.doesNotMatch(child.output(), /listening on/);
    assert.match(child.output(), refusal(UNKNOWN_KIND, UNKNOWN_KIND));
    assert.ok(await refused(port), "nothing listens on the port");
  } finally {
    await child.stop();
    await Deno.remove(file);
  }
});

Deno.test({
  name: "fail closed: a reload to a config with an unsupported plugin is refused and the old config keeps serving",
}, async () => {
  const port = freePort();
  const config = (body: string, plugins: string) =>
    `[servers.web]\naddr = "127.0.0.1:${port}"\nlocations = ["root"]\n\n` +
    `[locations.root]\npath = "/"\nplugins = [${plugins}]\n\n` +
    `[plugins.page]\ncategory = "mock"\ndata = "${body}"\n\n` +
    `[plugins.auth]\ncategory = "${UNKNOWN_KIND}"\n`;
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  // The first config defines auth but does not use it: still refused, so start with mock only.
  await Deno.writeTextFile(file, config("old", '"page"').replace(/\[plugins\.auth\][^]*$/, ""));
  const child = spawnDeno(["run", "-A", "--unstable-net", "--unstable-no-legacy-abort", "mod.ts", "start", "-c", file]);
  try {
    await child.waitFor(/listening on/);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "old");
    await Deno.writeTextFile(file, config("new, served to anyone", '"auth", "page"'));
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\) failed, the current config keeps serving/);
    assert.match(child.output(), refusal("auth", UNKNOWN_KIND));
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "old");
  } finally {
    await child.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

for (const args of [["start", "-c", "CONF", "-t"], ["-t", "start", "-c", "CONF"], ["start", "--test", "-c", "CONF"]]) {
  Deno.test(`-t means check wherever it appears: mod.ts ${args.join(" ")} exits 0/1 and serves nothing`, async () => {
    const port = freePort();
    const good = await tempConfig(
      `[servers.web]\naddr = "127.0.0.1:${port}"\nlocations = ["ping"]\n\n` +
        `[locations.ping]\npath = "/"\nplugins = ["pingap:ping"]\n`,
    );
    const bad = await tempConfig(unsupportedConfig(port));
    try {
      for (const [file, want] of [[good, 0], [bad, 1]] as const) {
        const child = spawnDeno([
          "run",
          "-A",
          "--unstable-net",
          "--unstable-no-legacy-abort",
          `${ROOT}mod.ts`,
          ...args.map((a) => a === "CONF" ? file : a),
        ]);
        const { code, stopped } = await exitOrStop(child);
        assert.ok(!stopped, `it served instead of checking:\n${child.output()}`);
        assert.equal(code, want, child.output());
        assert.doesNotMatch(child.output(), /listening on/);
        if (want === 0) assert.match(child.output(), /OK/);
        assert.ok(await refused(port), "nothing listens on the port");
      }
    } finally {
      await Deno.remove(good);
      await Deno.remove(bad);
    }
  });
}
