/**
 * The quick-start config as Pingap builds it from the flags, compiled by
 * the real compiler: the Let's Encrypt shape (no network here; the CLI
 * tests serve the plain and TLS shapes), the defaults, and the lookup of
 * the certificate and key files.
 *
 * @module
 */
import assert from "node:assert/strict";
import { checkQuickStart, resolveTlsFiles } from "./quick_start.ts";

Deno.test("quick start without a certificate: one plain server on 0.0.0.0:80, no TLS, any host", async () => {
  const r = await checkQuickStart({ upstream: "192.168.1.1:3000, 192.168.1.2:3000" });
  assert.equal(r.exitCode, 0, JSON.stringify(r.diagnostics));
  const plan = r.plan!;
  assert.deepEqual(plan.servers.map((s) => [s.name, s.addrs.map((a) => `${a.hostname}:${a.port}`)]), [
    ["pingap", ["0.0.0.0:80"]],
  ]);
  assert.ok(!plan.servers[0]!.globalCertificates);
  assert.ok(!plan.servers[0]!.enabledH2);
  assert.match(plan.servers[0]!.accessLog!.format, /"{referer}" "{user_agent}"/, "access_log = combined");
  assert.deepEqual(plan.upstreams[0]!.backends.map((b) => `${b.host}:${b.port}`), [
    "192.168.1.1:3000",
    "192.168.1.2:3000",
  ]);
  assert.deepEqual(plan.locations[0]!.hosts, []);
  assert.equal(plan.certificates.length, 0);
  assert.equal(r.acmeBase, undefined);
});

Deno.test("quick start with --domain and no --cert: Let's Encrypt, TLS on 0.0.0.0:443, a plain :80 for http-01", async () => {
  const r = await checkQuickStart({ upstream: "192.168.1.1:3000", domain: "pingap.io, www.pingap.io" });
  assert.equal(r.exitCode, 0, JSON.stringify(r.diagnostics));
  const plan = r.plan!;
  const cert = plan.certificates.find((c) => c.name === "pingap")!;
  assert.equal(cert.acme, "lets_encrypt");
  assert.deepEqual(cert.domains, ["pingap.io", "www.pingap.io"]);
  assert.equal(cert.isDefault, true);
  const servers = new Map(plan.servers.map((s) => [s.name, s]));
  assert.equal(servers.get("pingap")!.addrs[0]!.port, 443);
  assert.equal(servers.get("pingap")!.globalCertificates, true);
  assert.equal(servers.get("pingap")!.enabledH2, true);
  assert.equal(servers.get("lets_encrypt")!.addrs[0]!.port, 80);
  assert.equal(plan.locations[0]!.hosts.length, 2);
  assert.match(r.acmeBase!, /\/\.pingap\/acme\/pingap\.io_www\.pingap\.io\.toml$/);
  // With --addr on port 80 there is a listener for the challenge already.
  const on80 = await checkQuickStart({ upstream: "192.168.1.1:3000", domain: "pingap.io", addr: "0.0.0.0:80" });
  assert.deepEqual(on80.plan!.servers.map((s) => s.name), ["pingap"]);
});

Deno.test("--cert and --key: a directory is searched by Pingap's names, the key beside the certificate, --key wins", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/tls.crt`, "cert");
    await Deno.writeTextFile(`${dir}/tls.key`, "key");
    assert.deepEqual(await resolveTlsFiles(dir, undefined), { cert: `${dir}/tls.crt`, key: `${dir}/tls.key` });
    assert.deepEqual(await resolveTlsFiles(`${dir}/tls.crt`, undefined), {
      cert: `${dir}/tls.crt`,
      key: `${dir}/tls.key`,
    });
    await Deno.writeTextFile(`${dir}/other.key`, "key");
    assert.deepEqual(await resolveTlsFiles(`${dir}/tls.crt`, `${dir}/other.key`), {
      cert: `${dir}/tls.crt`,
      key: `${dir}/other.key`,
    });
    assert.deepEqual(await resolveTlsFiles(`${dir}/tls.crt`, `${dir}/missing.key`), {
      error: `--key: private key ${dir}/missing.key does not exist`,
    });
    const r = await checkQuickStart({ upstream: "127.0.0.1:1", cert: dir });
    const cert = r.plan!.certificates[0]!;
    assert.equal(cert.tlsCert, `${dir}/tls.crt`);
    assert.equal(cert.tlsKey, `${dir}/tls.key`);
    assert.equal(cert.domains, undefined, "no --domain: the certificate serves its own names");
    assert.equal(r.plan!.servers[0]!.addrs[0]!.port, 443);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
