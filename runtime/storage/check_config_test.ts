import assert from "node:assert/strict";
import { checkConfig } from "./check_config.ts";
import { makeTestPki } from "../../tests/_support/certs.ts";

Deno.test("checkConfig({ live: true }) reports certificate problems with file, line and key path", async () => {
  const pki = await makeTestPki([{ name: "a.test" }, { name: "b.test" }]);
  const file = `${pki.dir}/pingap.toml`;
  await Deno.writeTextFile(
    file,
    `[certificates.a]\ntls_cert = "${pki.leaves["a.test"]!.certFile}"\ntls_key = "${pki.leaves["b.test"]!.keyFile}"\n` +
      `domains = ["a.test", "c.test"]\n`,
  );
  try {
    const offline = await checkConfig(file);
    assert.equal(offline.exitCode, 0, "certificates are read only with --live");
    const live = await checkConfig(file, { live: true });
    assert.equal(live.exitCode, 1);
    assert.deepEqual(live.diagnostics.map((d) => [d.code, d.path.join("."), d.line]), [
      ["certificate-key-mismatch", "certificates.a.tls_key", 3],
      ["certificate-domain", "certificates.a.domains.1", 4],
    ]);
    // The other forms: base64 of PEM, and PEM text in the TOML.
    const a = pki.leaves["a.test"]!;
    await Deno.writeTextFile(file, `[certificates.a]\ntls_cert = "${btoa(a.cert)}"\ntls_key = """\n${a.key}"""\n`);
    const forms = await checkConfig(file, { live: true });
    assert.deepEqual(forms.diagnostics, []);
    assert.equal(forms.exitCode, 0);
  } finally {
    await pki.remove();
  }
});
