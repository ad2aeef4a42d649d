/**
 * Why `ocsp_stapling` is declared not applied: Deno's `node:tls` server (rustls underneath) never emits `OCSPRequest`
 * and its secure context takes no OCSP response, so nothing can be stapled. A real client asking for the status
 * (`openssl s_client -status`) of a certificate that names a responder gets none. When this test fails, Deno has
 * gained the hook: apply `ocsp_stapling` (fetch from the AIA responder, cache to nextUpdate, staple) and drop the
 * `unapplied` reason in compiler/schema/certificate.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createSecureContext, createServer } from "node:tls";
import { makeTestPki } from "../../tests/_support/certs.ts";

Deno.test({
  name: "platform: Deno's node:tls gives no OCSPRequest event and staples nothing (ocsp_stapling stays unapplied)",
  sanitizeResources: false,
  async fn() {
    const pki = await makeTestPki([{ name: "localhost", ocspUrl: "http://127.0.0.1:9/" }]);
    const leaf = pki.leaves.localhost!;
    let asked = 0;
    const ctx = createSecureContext({ cert: leaf.cert, key: leaf.key });
    const server = createServer({ SNICallback: (_n, cb) => cb(null, ctx) }, (s) => s.end());
    server.on(
      "OCSPRequest",
      (_cert: Uint8Array, _issuer: Uint8Array, cb: (e: Error | null, r?: Uint8Array) => void) => {
        asked++;
        cb(null);
      },
    );
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port))
    );
    try {
      const out = await new Deno.Command("openssl", {
        args: [
          "s_client",
          "-connect",
          `127.0.0.1:${port}`,
          "-servername",
          "localhost",
          "-status",
          "-CAfile",
          pki.ca.certFile,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.match(text, /Verify return code: 0 \(ok\)/, "the handshake completed");
      assert.match(text, /OCSP response: no response sent/);
      assert.equal(asked, 0, "Deno now emits OCSPRequest: ocsp_stapling can be applied");
    } finally {
      await new Promise((r) => server.close(r));
      await pki.remove();
    }
  },
});
