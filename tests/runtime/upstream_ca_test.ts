/**
 * Upstream `ca` (Pingap 0.16): a backend whose certificate chains to a
 * private CA is reached when the upstream names that CA, and refused (502)
 * when it does not.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeTestPki } from "../_support/certs.ts";
import { get, startTestProxy } from "../_support/proxy.ts";

Deno.test("upstream ca: a backend signed by a private CA is verified against it", async () => {
  const pki = await makeTestPki([{ name: "api.test" }]);
  const leaf = pki.leaves["api.test"]!;
  const origin = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: leaf.cert, key: leaf.key, onListen() {} },
    () => new Response("from the private backend"),
  );
  const upstream = (ca: string) =>
    `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n[locations.l]\nupstream = "u"\n` +
    `[upstreams.u]\naddrs = ["127.0.0.1:${origin.addr.port}"]\nsni = "api.test"\n${ca}`;
  const withCa = await startTestProxy(upstream(`ca = "${pki.ca.certFile}"\n`));
  const without = await startTestProxy(upstream(""));
  try {
    const ok = await get(`${withCa.url}/`);
    assert.equal(ok.status, 200);
    assert.equal(ok.text, "from the private backend");
    assert.equal((await get(`${without.url}/`)).status, 502);
  } finally {
    await withCa.close();
    await without.close();
    await origin.shutdown();
    await pki.remove();
  }
});
