/**
 * The admin plugin without sockets (the harness): the gate's refusals by
 * client address and Host, and an isolate that was given no config (a
 * worker, a test) answering config routes with 503.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources } from "../../compiler/mod.ts";
import { planHarness } from "../proxy/harness.ts";
import { loginToken } from "./token.ts";

function plan(authorizations: string) {
  const r = compileSources([{
    file: "t.toml",
    text: `[servers.s]
addr = "127.0.0.1:1"
locations = ["adm"]
[locations.adm]
plugins = ["adm"]
[plugins.adm]
category = "admin"
path = "/x"
authorizations = [${authorizations}]
`,
  }]);
  assert.ok(r.plan, JSON.stringify(r.diagnostics));
  return r.plan;
}

Deno.test("admin without accounts: only this machine, by address (a client elsewhere is 403)", async () => {
  const far = planHarness(plan(""), { client: { hostname: "10.1.2.3", port: 5000 } });
  const near = planHarness(plan(""));
  try {
    const refused = await far.request("http://127.0.0.1/x/api/basic");
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /only this machine/);
    const ok = await near.request("http://127.0.0.1/x/api/basic");
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await far.dispose();
    await near.dispose();
  }
});

Deno.test("admin in an isolate given no config: reads of process facts work, config routes are 503", async () => {
  const h = planHarness(plan(`"${btoa("a:b")}"`));
  try {
    const headers = { authorization: await loginToken({ user: "a", password: "b" }, Math.floor(Date.now() / 1000)) };
    const basic = await h.request("http://127.0.0.1/x/api/basic", { headers });
    assert.equal(basic.status, 200);
    assert.ok("pid" in await basic.json());
    const configs = await h.request("http://127.0.0.1/x/api/configs/upstream", { headers });
    assert.equal(configs.status, 503);
    await configs.body?.cancel();
    // Not the admin's: a longer name than its path goes on (here to no upstream).
    const other = await h.request("http://127.0.0.1/xy", { headers });
    assert.notEqual(other.headers.get("x-frame-options"), "DENY");
    await other.body?.cancel();
  } finally {
    await h.dispose();
  }
});
