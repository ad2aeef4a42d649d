/**
 * Plugin state across a reload: an instance whose name and compiled config are unchanged is kept (its state goes on,
 * as in Pingap), a changed one is made anew and the old one disposed with its generation; a kept instance is
 * disposed when the last generation holding it is.
 */
import { responseWith } from "../http/response_build.ts";
import assert from "node:assert/strict";
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { planHarness } from "../proxy/harness.ts";
import { runtimePlugin } from "./contract.ts";
import { PluginInstances } from "./instances.ts";
import { RUNTIME_PLUGINS } from "./registry.ts";
import { planOf } from "./_test_utils.ts";

/** A test-only half for category `ping`: answers its path with how many times it did, and records its disposal. */
function countingRegistry(disposed: string[]) {
  const counting = runtimePlugin(PLUGIN_DEFINITIONS.ping, (plan, _env, self) => {
    let count = 0;
    return {
      request: (ctx) => ctx.path === plan.path ? responseWith(String(++count), { status: 200 }) : undefined,
      dispose: () => void disposed.push(self.name),
    };
  });
  return new Map([...RUNTIME_PLUGINS, ["ping", counting]]);
}

const config = (bPath: string) => `
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[locations.l]
plugins = ["a", "b"]
[plugins.a]
category = "ping"
path = "/a"
[plugins.b]
category = "ping"
path = "${bPath}"
`;

Deno.test("instances: an unchanged plugin keeps its state across a reload; a changed one starts anew", async () => {
  const disposed: string[] = [];
  const h = planHarness(planOf(config("/b")), { plugins: countingRegistry(disposed) });
  const text = async (url: string) => await (await h.request(url)).text();
  try {
    assert.equal(await text("http://t/a"), "1");
    assert.equal(await text("http://t/a"), "2");
    assert.equal(await text("http://t/b"), "1");
    const a = h.active.plugins.get("a");
    await h.reload(planOf(config("/bb")));
    assert.deepEqual(disposed, ["b"], "the changed plugin's old instance went with its generation");
    assert.equal(h.active.plugins.get("a"), a, "the same instance");
    assert.equal(await text("http://t/a"), "3", "its count went on");
    assert.equal(await text("http://t/bb"), "1", "the changed plugin starts anew");
  } finally {
    await h.dispose();
  }
  assert.deepEqual(disposed, ["b", "a", "b"], "the last generation holding an instance disposes it");
});

Deno.test("instances: an activation that fails lets go of what it took from the previous generation", () => {
  const disposed: string[] = [];
  const registry = countingRegistry(disposed);
  const env = { stats: () => ({}) };
  const first = PluginInstances.build(planOf(config("/b")).plugins, registry, env);
  const next = planOf(config("/bb")).plugins;
  // "b" changed and its half is missing: the build throws after it took "a" from the first generation.
  assert.throws(() => PluginInstances.build(next, new Map([...registry].filter(([c]) => c !== "ping")), env, first));
  assert.deepEqual(disposed, [], "nothing the first generation holds was disposed");
  first.dispose();
  first.dispose();
  assert.deepEqual(disposed, ["a", "b"], "disposed once");
});

Deno.test("instances: the real registry's halves are kept through a reload that changes only a location", async () => {
  const base = `
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[plugins.m]
category = "mock"
data = "mocked"
`;
  const h = planHarness(planOf(`${base}[locations.l]\nplugins = ["m", "pingap:ping"]\n`));
  try {
    const m = h.active.plugins.get("m");
    const ping = h.active.plugins.get("pingap:ping");
    await h.reload(planOf(`${base}[locations.l]\npath = "/x"\nplugins = ["m", "pingap:ping"]\n`));
    assert.equal(h.active.plugins.get("m"), m);
    assert.equal(h.active.plugins.get("pingap:ping"), ping);
    await h.reload(planOf(base.replace('"mocked"', '"changed"') + `[locations.l]\nplugins = ["m"]\n`));
    assert.notEqual(h.active.plugins.get("m"), m);
    assert.equal(await (await h.request("http://t/x")).text(), "changed");
  } finally {
    await h.dispose();
  }
});
