import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { unmaskImport } from "./import_secrets.ts";
import { SECRET_PLACEHOLDER } from "./secrets.ts";

const stored = {
  certificates: { site: { tls_cert: "CERT", tls_key: "KEY" } },
  storages: { token: { category: "secret", value: "s3cret" } },
};

Deno.test("unmaskImport: placeholders take the stored value of the same item and key; other text as it is", () => {
  const text = `[certificates.site]\ntls_cert = "CERT2"\ntls_key = "${SECRET_PLACEHOLDER}"\n\n` +
    `[storages.token]\ncategory = "secret"\nvalue = "${SECRET_PLACEHOLDER}"\n`;
  const out = unmaskImport(text, stored);
  assert.ok("text" in out);
  assert.deepEqual(JSON.parse(JSON.stringify(parse(out.text))), {
    certificates: { site: { tls_cert: "CERT2", tls_key: "KEY" } },
    storages: { token: { category: "secret", value: "s3cret" } },
  });
  const plain = "# kept\n[basic]\nname = 'x'\n";
  assert.deepEqual(unmaskImport(plain, stored), { text: plain });
});

Deno.test("unmaskImport: a placeholder with nothing stored to keep is named", () => {
  const text = `[certificates.other]\ntls_key = "${SECRET_PLACEHOLDER}"\n`;
  assert.deepEqual(unmaskImport(text, stored), { missing: "certificates.other.tls_key" });
});
