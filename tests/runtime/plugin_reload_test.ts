/**
 * A running proxy's reload keeps the plugin instances whose config did not change (their state goes on, as in
 * Pingap) and makes the changed ones anew; requests over a real socket are answered by each generation's plugins.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, type Plan } from "../../compiler/mod.ts";
import { startProxy } from "../../runtime/mod.ts";

function planOf(text: string): Plan {
  const { plan, diagnostics } = compileSources([{ file: "t.toml", text }]);
  assert.ok(plan, JSON.stringify(diagnostics));
  return plan;
}

const config = (path: string, data: string) => `
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]
[locations.l]
path = "${path}"
plugins = ["m", "pingap:ping"]
[plugins.m]
category = "mock"
data = "${data}"
`;

Deno.test("plugin reload: unchanged instances are kept by a running proxy's swap, changed ones made anew", async () => {
  const proxy = await startProxy(planOf(config("/", "one")), { log: () => {} });
  try {
    const url = `http://127.0.0.1:${proxy.listening[0]!.port}/x`;
    assert.equal(await (await fetch(url)).text(), "one");
    const mock = proxy.active.plugins.get("m");
    const ping = proxy.active.plugins.get("pingap:ping");
    assert.ok(mock && ping);
    // Only the location changed: both plugins are the same instances.
    await proxy.swap(planOf(config("/x", "one")));
    assert.equal(proxy.active.plugins.get("m"), mock);
    assert.equal(proxy.active.plugins.get("pingap:ping"), ping);
    // The mock's data changed: a new mock, the same ping.
    await proxy.swap(planOf(config("/x", "two")));
    assert.notEqual(proxy.active.plugins.get("m"), mock);
    assert.equal(proxy.active.plugins.get("pingap:ping"), ping);
    assert.equal(await (await fetch(url)).text(), "two");
  } finally {
    await proxy.shutdown();
  }
});
