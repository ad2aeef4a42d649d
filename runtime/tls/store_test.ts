import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { makeTestPki } from "../../tests/_support/certs.ts";
import { compileToml } from "../../tests/_support/proxy.ts";
import { CaMinter } from "./ca.ts";
import { CertificateError, loadPlanCertificates } from "./mod.ts";
import { CertStore } from "./store.ts";
import { mintedName, pickBySni } from "./sni.ts";
import { checkValidity, startValidityChecker } from "./validity.ts";
import { Registry } from "prom-client";

Deno.test("pickBySni() tries the exact name, the wildcard one label up, then the default", () => {
  const index = new Map([["a.test", "exact"], ["*.test", "wild"], ["*.b.test", "wild-b"], ["*", "default"]]);
  assert.equal(pickBySni(index, "a.test"), "exact");
  assert.equal(pickBySni(index, "X.TEST"), "wild");
  assert.equal(pickBySni(index, "c.b.test"), "wild-b");
  assert.equal(pickBySni(index, "c.d.b.test"), "default", "a wildcard covers one label only");
  assert.equal(pickBySni(index, undefined), "default");
  assert.equal(pickBySni(new Map([["a.test", 1]]), "b.test"), undefined);
  assert.equal(mintedName("a.b.example.com"), "*.b.example.com");
  assert.equal(mintedName("Example.com"), "example.com");
});

Deno.test("CertStore: put, replaceConfig with undo, runtime certificates win and stay across reloads", async () => {
  const pki = await makeTestPki([{ name: "a.test" }, { name: "a2", dns: ["a.test", "b.test"] }, {
    name: "old",
    days: -1,
    startDays: -5,
  }]);
  try {
    const store = new CertStore();
    const a = pki.leaves["a.test"]!, a2 = pki.leaves["a2"]!;
    const viaConfig = (await import("../../compiler/mod.ts")).inspectCertificate("cfg", {
      is_default: true,
    }, { cert: a.cert, key: a.key }).certificate!;
    const undo = store.replaceConfig([viaConfig]);
    assert.equal(store.lookup("a.test")?.name, "cfg");
    assert.equal(store.lookup("zzz")?.name, "cfg", "default");
    store.put("acme", { cert: a2.cert, key: a2.key });
    assert.equal(store.lookup("a.test")?.name, "acme", "a put certificate wins for its names");
    assert.equal(store.lookup("b.test")?.name, "acme");
    store.replaceConfig([viaConfig]);
    assert.equal(store.lookup("b.test")?.name, "acme", "it stays across a reload");
    assert.ok(store.delete("acme"));
    assert.equal(store.lookup("a.test")?.name, "cfg");
    const ctx = await store.context("a.test");
    assert.ok(ctx);
    store.replaceConfig([{ ...viaConfig }]);
    assert.equal(await store.context("a.test"), ctx, "an unchanged certificate keeps its TLS context across a reload");
    assert.notEqual(await store.context("a.test", { minVersion: "TLSv1.3" }), ctx, "one context per version limits");
    undo();
    assert.equal(store.lookup("a.test"), undefined, "undo restores the store as it was");
    assert.throws(() => store.put("bad", { cert: a.cert, key: a2.key }), /does not match/);
    const old = pki.leaves["old"]!;
    assert.throws(() => store.put("old", { cert: old.cert, key: old.key }), /expired/);
    assert.throws(() => store.put("x", { cert: a.cert, key: a.key, domains: ["c.test"] }), /does not cover/);
    assert.ok(await store.context("a.test") === undefined);
  } finally {
    await pki.remove();
  }
});

Deno.test("loadPlanCertificates() fails with the key path, and leaves the store unchanged", async () => {
  const pki = await makeTestPki([{ name: "a.test" }, { name: "b.test" }]);
  const a = pki.leaves["a.test"]!, b = pki.leaves["b.test"]!;
  const toml = (key: string, domains = `["a.test"]`) => `
[certificates.a]
tls_cert = "${a.certFile}"
tls_key = "${key}"
domains = ${domains}
`;
  const certStore = new CertStore();
  try {
    const undo = await loadPlanCertificates(compileToml(toml(a.keyFile)), certStore, () => {});
    assert.equal(certStore.lookup("a.test")?.name, "a");
    await assert.rejects(loadPlanCertificates(compileToml(toml(b.keyFile)), certStore, () => {}), (e: unknown) => {
      assert.ok(e instanceof CertificateError);
      assert.match(e.message, /certificates\.a\.tls_key: Key of certificate "a" does not match the certificate/);
      return true;
    });
    await assert.rejects(
      loadPlanCertificates(compileToml(toml(a.keyFile, `["a.test", "c.test"]`)), certStore, () => {}),
      /certificates\.a\.domains\[1\]: Certificate "a" does not cover domain "c\.test"/,
    );
    await assert.rejects(
      loadPlanCertificates(compileToml(toml("/nonexistent.key")), certStore, () => {}),
      /tls_key: Cannot read/,
    );
    assert.equal(certStore.lookup("a.test")?.name, "a", "failed loads change nothing");
    undo();
    assert.equal(certStore.lookup("a.test"), undefined);
  } finally {
    await pki.remove();
  }
});

Deno.test("CaMinter mints a leaf per name signed by the CA, caches it and cleans up unused ones", async () => {
  const pki = await makeTestPki();
  try {
    const minter = new CaMinter({ cert: pki.ca.cert, key: pki.ca.key });
    const leaf = await minter.leaf("x.y.test");
    assert.equal(leaf.name, "*.y.test");
    assert.equal(await minter.leaf("z.y.test"), leaf, "cached per minted name");
    const x = new X509Certificate(leaf.cert);
    assert.ok(x.verify(new X509Certificate(pki.ca.cert).publicKey), "signed by the CA");
    assert.equal(x.subjectAltName, "DNS:*.y.test");
    assert.match(x.subject, /O=Pingap Test/);
    assert.ok(Date.parse(x.validTo) <= Date.parse(new X509Certificate(pki.ca.cert).validTo));
    assert.equal(minter.size, 1);
    minter.cleanup();
    assert.equal(minter.size, 1, "marked stale first");
    minter.cleanup();
    assert.equal(minter.size, 0, "dropped when still unused at the next cleanup");
  } finally {
    await pki.remove();
  }
});

Deno.test("validity checker warns about certificates within buffer_days: log, tls_validity, gauges", async () => {
  const pki = await makeTestPki([{ name: "soon.test", days: 3 }, { name: "later.test", days: 30 }]);
  try {
    const store = new CertStore();
    const { inspectCertificate } = await import("../../compiler/mod.ts");
    const inspect = (name: string, cfg: { buffer_days?: number; acme?: string } = {}) =>
      inspectCertificate(name, cfg, { cert: pki.leaves[name]!.cert, key: pki.leaves[name]!.key }).certificate!;
    store.replaceConfig([inspect("soon.test"), inspect("later.test")]);
    assert.deepEqual(checkValidity(store.list()).map((w) => w.name), ["soon.test"]);
    store.replaceConfig([inspect("soon.test", { acme: "lets_encrypt" }), inspect("later.test", { buffer_days: 40 })]);
    assert.deepEqual(checkValidity(store.list()).map((w) => w.name), ["later.test"], "ACME skipped, buffer_days used");
    const sent: unknown[] = [], logged: string[] = [];
    const registry = new Registry();
    const checker = startValidityChecker({
      certificates: () => store.list(),
      notify: (n) => sent.push(n),
      log: (l) => logged.push(l),
      registry,
    });
    checker.stop();
    assert.equal(sent.length, 1);
    assert.deepEqual({ ...sent[0] as object, message: "" }, { category: "tls_validity", level: "warn", message: "" });
    assert.match(
      logged[0]!,
      /certificate "later\.test" \(later\.test\) will be expired on \d{4}-\d\d-\d\d, in 29 days/,
    );
    const text = await registry.metrics();
    assert.match(text, /pingap_certificate_expiring\{name="later.test"\} 1/);
    assert.match(text, /pingap_certificate_expiring\{name="soon.test"\} 0/);
    assert.match(text, /pingap_certificate_not_after_seconds\{name="soon.test"\} \d{10}/);
  } finally {
    await pki.remove();
  }
});
