/**
 * A reload whose new generation cannot be built (a listener that cannot bind, a certificate that does not load)
 * changes nothing: the old generation serves on with its certificates, and every part the failed build took (a
 * listener it opened, an upstream, a server's metrics, an access-log file, config certificates) is given back. The
 * parts are passed to `serve()` so the test can look at them; the test sanitizers fail on a socket left open.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, startOrigin } from "../../tests/_support/origin.ts";
import { compileToml } from "../../tests/_support/proxy.ts";
import { makeTestPki } from "../../tests/_support/certs.ts";
import { serve } from "./serve.ts";
import { createUpstreams } from "../upstream/provider.ts";
import { MetricsRegistries } from "../observe/metrics/mod.ts";
import { AccessLogFiles } from "../observe/log/access_sink.ts";
import { CertificateError, CertStore } from "../tls/mod.ts";

/** A config: server `web` on `port` tagging requests with `tag`, certificate `cert`, and `extra` as given. */
function config(o: { port: number; origin: string; tag: string; cert: { file: string; key: string }; extra?: string }) {
  return `
[servers.web]
addr = "127.0.0.1:${o.port}"
locations = ["a"]
prometheus_metrics = "/metrics"

[locations.a]
upstream = "o"
proxy_set_headers = ["X-Tag:${o.tag}"]

[upstreams.o]
addrs = ["${o.origin}"]

[certificates.c]
tls_cert = "${o.cert.file}"
tls_key = "${o.cert.key}"
${o.extra ?? ""}`;
}

/** Can `port` be bound now (nothing holds it)? */
function free(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("generation: a reload that cannot bind a listener or load a certificate leaves the old one serving and leaks nothing", async () => {
  const origin = await startOrigin("o", (req) => new Response(req.headers.get("x-tag")));
  const pki = await makeTestPki([{ name: "a.test" }, { name: "b.test" }]);
  const a = pki.leaves["a.test"]!, b = pki.leaves["b.test"]!;
  const [port, fresh, held] = [freePort(), freePort(), freePort()];
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: held });
  const dir = await Deno.makeTempDir();
  const upstreams = createUpstreams();
  const metrics = new MetricsRegistries();
  const accessLogs = new AccessLogFiles();
  const certificates = new CertStore();
  const proxy = await serve(
    compileToml(config({ port, origin: origin.addr, tag: "one", cert: { file: a.certFile, key: a.keyFile } })),
    { upstreams, env: { stats: () => ({}) }, metrics, accessLogs, certificates },
  );
  const tag = async () => await (await fetch(`http://127.0.0.1:${port}/`)).text();
  const before = { upstreams: upstreams.registry.keys(), leaf: certificates.get("c")?.certificate.leaf };
  try {
    assert.equal(await tag(), "one");
    // A new server with a metrics registry, an access-log file, a new upstream and two addresses: the first binds, the
    // second is held by another socket. The certificate changes to b's.
    const extra = `
[servers.extra]
addr = "127.0.0.1:${fresh},127.0.0.1:${held}"
locations = ["x"]
prometheus_metrics = "/metrics"
access_log = "${dir}/extra.log {status}"

[locations.x]
path = "/x"
upstream = "o2"

[upstreams.o2]
addrs = ["${origin.addr}"]
`;
    const unbindable = compileToml(
      config({ port, origin: origin.addr, tag: "two", cert: { file: b.certFile, key: b.keyFile }, extra }),
    );
    await assert.rejects(proxy.swap(unbindable), Deno.errors.AddrInUse);
    assert.equal(await tag(), "one", "the old generation serves");
    assert.ok(free(fresh), "the listener the failed build opened is closed");
    assert.deepEqual(metrics.live(), ["web"], "the new server's metrics were released");
    assert.equal(accessLogs.size, 0, "the new server's access-log file was closed");
    assert.deepEqual(upstreams.registry.keys(), before.upstreams, "the new upstream was released");
    assert.equal(certificates.get("c")?.certificate.leaf, before.leaf, "the old certificate is back");
    assert.equal(certificates.lookup("b.test"), undefined);

    // A certificate that does not load (b's certificate with a's key): nothing is built at all.
    const badCert = compileToml(
      config({ port, origin: origin.addr, tag: "three", cert: { file: b.certFile, key: a.keyFile } }),
    );
    await assert.rejects(proxy.swap(badCert), CertificateError);
    assert.equal(await tag(), "one");
    assert.equal(certificates.get("c")?.certificate.leaf, before.leaf);
    assert.deepEqual(metrics.live(), ["web"]);

    // The proxy is whole: the next good reload applies.
    await proxy.swap(
      compileToml(config({ port, origin: origin.addr, tag: "four", cert: { file: b.certFile, key: b.keyFile } })),
    );
    assert.equal(await tag(), "four");
    assert.equal(certificates.lookup("b.test")?.name, "c");
  } finally {
    await proxy.shutdown();
    await upstreams.dispose();
    blocker.close();
    await origin.close();
    await pki.remove();
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(metrics.live(), [], "a stopped proxy holds no metrics");
});

Deno.test("generation: a listener a reload opens takes its server's settings from the new plan", async () => {
  const [p1, p2] = [freePort(), freePort()];
  const server = (name: string, port: number, extra = "") =>
    `[servers.${name}]\naddr = "127.0.0.1:${port}"\nlocations = ["m"]\n${extra}\n`;
  const mock = `[locations.m]\npath = "/"\nplugins = ["m"]\n[plugins.m]\ncategory = "mock"\ndata = "ok"\n`;
  const upstreams = createUpstreams();
  const proxy = await serve(compileToml(server("s", p1) + mock), { upstreams, env: { stats: () => ({}) } });
  try {
    // A new server whose idle connections are closed after 1 s (the front end's default is 60 s).
    await proxy.swap(compileToml(server("s", p1) + server("t", p2, `downstream_read_timeout = "1s"`) + mock));
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: p2 });
    try {
      // Nothing sent: the connection waits for a request head until the server's read timeout closes it.
      const read = conn.read(new Uint8Array(64)).catch(() => null);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"still open">((r) => timer = setTimeout(() => r("still open"), 10_000));
      const got = await Promise.race([read, late]);
      clearTimeout(timer);
      assert.equal(got, null, "closed by the new server's downstream_read_timeout");
    } finally {
      conn.close();
    }
  } finally {
    await proxy.shutdown();
    await upstreams.dispose();
  }
});

Deno.test("generation: a reload keeps the metrics and the access-log file of a server it keeps", async () => {
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const toml = (data: string) => `
[servers.web]
addr = "127.0.0.1:${port}"
locations = ["m"]
prometheus_metrics = "/metrics"
access_log = "${dir}/access.log?rolling=never {status} {path}"

[locations.m]
path = "/m"
plugins = ["m"]

[plugins.m]
category = "mock"
data = "${data}"
`;
  const upstreams = createUpstreams();
  const metrics = new MetricsRegistries();
  const accessLogs = new AccessLogFiles();
  const proxy = await serve(compileToml(toml("one")), { upstreams, env: { stats: () => ({}) }, metrics, accessLogs });
  const get = async (path: string) => await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  try {
    for (let i = 0; i < 3; i++) assert.equal(await get("/m/a"), "one");
    await proxy.swap(compileToml(toml("two")));
    assert.equal(await get("/m/b"), "two");
    const text = await get("/metrics");
    const total = text.match(/^pingap_http_requests_total\{location="m",server="web"\} (\d+)$/m)?.[1];
    assert.equal(total, "4", "the counters carry on across the reload");
    assert.equal(accessLogs.size, 1, "one writer for the file, kept by the new generation");
  } finally {
    await proxy.shutdown();
    await upstreams.dispose();
  }
  assert.equal(accessLogs.size, 0, "a stopped proxy holds no file");
  const lines = (await Deno.readTextFile(`${dir}/access.log`)).trim().split("\n");
  assert.deepEqual(lines.slice(0, 4), ["200 /m/a", "200 /m/a", "200 /m/a", "200 /m/b"]);
  await Deno.remove(dir, { recursive: true });
});
