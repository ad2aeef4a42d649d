import assert from "node:assert/strict";
import { inspectCertificate, nameCovers } from "./certificate_inspect.ts";
import { makeTestPki } from "../tests/_support/certs.ts";

Deno.test("nameCovers() matches exact names and one wildcard label", () => {
  assert.ok(nameCovers("a.test", "A.test"));
  assert.ok(nameCovers("*.test", "a.test"));
  assert.ok(nameCovers("*.test", "*.test"));
  assert.ok(!nameCovers("*.test", "a.b.test"));
  assert.ok(!nameCovers("a.test", "*.test"));
});

Deno.test("inspectCertificate() reports a mismatched key, expiry, a future start and an uncovered domain", async () => {
  const pki = await makeTestPki([
    { name: "a.test" },
    { name: "old.test", startDays: -20, days: -2 },
    { name: "new.test", startDays: 3, days: 30 },
  ]);
  try {
    const a = pki.leaves["a.test"]!, old = pki.leaves["old.test"]!, fresh = pki.leaves["new.test"]!;
    const ok = inspectCertificate("a", { domains: ["a.test"] }, { cert: a.cert, key: a.key });
    assert.deepEqual(ok.diagnostics, []);
    assert.deepEqual(ok.certificate?.domains, ["a.test"]);
    const codes = (r: ReturnType<typeof inspectCertificate>) =>
      r.diagnostics.map((d) => `${d.code}@${d.path.join(".")}`);
    assert.deepEqual(codes(inspectCertificate("a", {}, { cert: a.cert, key: old.key })), [
      "certificate-key-mismatch@certificates.a.tls_key",
    ]);
    assert.deepEqual(codes(inspectCertificate("o", {}, { cert: old.cert, key: old.key })), [
      "certificate-expired@certificates.o.tls_cert",
    ]);
    assert.deepEqual(codes(inspectCertificate("n", {}, { cert: fresh.cert, key: fresh.key })), [
      "certificate-not-yet-valid@certificates.n.tls_cert",
    ]);
    const uncovered = inspectCertificate("a", { domains: ["a.test", "b.test"] }, { cert: a.cert, key: a.key });
    assert.deepEqual(codes(uncovered), ["certificate-domain@certificates.a.domains.1"]);
    assert.match(uncovered.diagnostics[0]!.message, /does not cover domain "b\.test"/);
    // ACME certificates: expiry is a warning (renewal is on its way).
    const acme = inspectCertificate("o", { acme: "lets_encrypt" }, { cert: old.cert, key: old.key });
    assert.equal(acme.diagnostics[0]?.severity, "warning");
    // The CA is not a leaf, and a leaf is not a CA.
    assert.deepEqual(codes(inspectCertificate("x", { is_ca: true }, { cert: a.cert, key: a.key })), [
      "certificate-not-ca@certificates.x.is_ca",
    ]);
    // Chain blocks after the leaf, and tls_chain.
    const chained = inspectCertificate("a", {}, { cert: a.cert + pki.ca.cert, key: a.key, chain: pki.ca.cert });
    assert.equal(chained.certificate?.chain.length, 2);
  } finally {
    await pki.remove();
  }
});
