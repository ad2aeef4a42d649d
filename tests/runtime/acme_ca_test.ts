/**
 * `acme_ca` against a real Pebble: its own file (module state fresh, no `trustAcmeRoots`), so the ACME server's
 * certificate, made by the test's own root, verifies only through the root named by `acme_ca`. (Without the key the
 * same order fails on the unknown issuer, after acme-client's retries: over a minute, so it is not run here.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileToml } from "../_support/proxy.ts";
import { freePort } from "../_support/origin.ts";
import { pebbleBins, startPebble } from "../_support/pebble.ts";
import { createAcmeManager, fileStorage } from "../../runtime/acme/mod.ts";

function plan(directory: string, challtestsrv: string, ca: string) {
  return compileToml(`
[servers.web]
addr = "127.0.0.1:${freePort()}"
locations = ["ping"]
[locations.ping]
path = "/"
plugins = ["pingap:ping"]
[certificates.site]
domains = "*.ca.example.com"
acme = "lets_encrypt"
acme_directory = "${directory}"
dns_challenge = true
dns_provider = "challtestsrv"
dns_service_url = "${challtestsrv}"
acme_ca = "${ca}"
`);
}

Deno.test({
  name: "acme_ca: the ACME server is trusted through the named root only",
  ignore: !pebbleBins,
  async fn() {
    const pebble = await startPebble({ httpPort: freePort() });
    const dir = await Deno.makeTempDir();
    try {
      const caFile = `${dir}/acme-root.pem`;
      await Deno.writeTextFile(caFile, pebble.listenerCa);
      const order = async (name: string, ca: string) => {
        const lines: string[] = [];
        const manager = createAcmeManager({ storage: fileStorage(`${dir}/${name}`), log: (l) => lines.push(l) });
        try {
          manager.update(plan(pebble.directory, pebble.challtestsrv, ca));
          await manager.idle();
          return { cert: manager.current("site"), log: lines.join("\n") };
        } finally {
          await manager.close();
        }
      };
      const issued = await order("ok", caFile);
      assert.ok(issued.cert, issued.log);
      // A root file that is not there: the order fails (logged, retried later), nothing is issued.
      const missing = await order("missing", `${dir}/nope.pem`);
      assert.equal(missing.cert, undefined);
      assert.match(missing.log, /order failed .*nope\.pem/);
    } finally {
      await pebble.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
