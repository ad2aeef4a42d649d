/**
 * Client certificates (`tls_client_ca`, `tls_client_auth`; Pingap 0.16): the proxy in its own process, curl as the
 * client with and without `--cert`. `require` refuses a client without a certificate at the handshake; `optional`
 * lets it in; a certificate from another CA is refused either way. The certificate shown is in the access log's
 * `{:tls_client_subject}`, `{:tls_client_fingerprint}`, `{:tls_client_serial}`, `{:tls_client_verified}`, in
 * Pingap's form, over HTTP/1.1 and h2 by ALPN. `check --live` reports a CA file that cannot be read or holds no
 * certificate, at the key.
 *
 * @module
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { type MadeCert, makeTestPki } from "./_support/certs.ts";
import { echoHandler, freePort, startOrigin } from "./_support/origin.ts";
import { pollFor } from "./_support/poll.ts";
import { spawnDeno } from "./_support/process.ts";

const RUN = ["run", "-A", "--unstable-net", "--unstable-no-legacy-abort", "mod.ts", "start", "-c"];
const LOG_FORMAT = "{path}|{:tls_client_subject}|{:tls_client_fingerprint}|{:tls_client_serial}|{:tls_client_verified}";

/** curl to `https://localhost:<port><path>`: the status, or the exit code when no response came (handshake refused). */
async function curlTls(
  port: number,
  path: string,
  ca: string,
  cert?: MadeCert,
  http2 = false,
): Promise<{ status?: number; code: number }> {
  const args = [
    "-s",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
    "--cacert",
    ca,
    "--resolve",
    `localhost:${port}:127.0.0.1`,
    ...(cert ? ["--cert", cert.certFile, "--key", cert.keyFile] : []),
    ...(http2 ? ["--http2"] : []),
    `https://localhost:${port}${path}`,
  ];
  const out = await new Deno.Command("curl", { args, stdout: "piped", stderr: "null" }).output();
  const status = Number(new TextDecoder().decode(out.stdout));
  return out.code === 0 && status > 0 ? { status, code: 0 } : { code: out.code };
}

Deno.test({
  name: "client certificates: require refuses a client without one, optional lets it in, a foreign one is refused; " +
    "the access log has its subject, SHA-256, serial and true",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const pki = await makeTestPki([{ name: "localhost" }, { name: "device-42", client: true }]);
    const other = await makeTestPki([{ name: "intruder", client: true }]);
    const origin = await startOrigin("o", echoHandler("o"));
    const req = freePort(), opt = freePort(), h2 = freePort();
    const conf = `${dir}/pingap.toml`;
    await Deno.writeTextFile(
      conf,
      `
[upstreams.o]
addrs = ["${origin.addr}"]

[locations.l]
upstream = "o"

[servers.req]
addr = "127.0.0.1:${req}"
global_certificates = true
tls_client_ca = "${pki.ca.certFile}"
access_log = "${dir}/req.log?rolling=never ${LOG_FORMAT}"
locations = ["l"]

[servers.opt]
addr = "127.0.0.1:${opt}"
global_certificates = true
tls_client_ca = "${pki.ca.certFile}"
tls_client_auth = "optional"
access_log = "${dir}/opt.log?rolling=never ${LOG_FORMAT}"
locations = ["l"]

[servers.h2]
addr = "127.0.0.1:${h2}"
global_certificates = true
enabled_h2 = true
tls_client_ca = "${pki.ca.certFile}"
access_log = "${dir}/h2.log?rolling=never ${LOG_FORMAT}"
locations = ["l"]

[certificates.local]
tls_cert = "${pki.leaves.localhost!.certFile}"
tls_key = "${pki.leaves.localhost!.keyFile}"
is_default = true
`,
    );
    const child = spawnDeno([...RUN, conf]);
    try {
      // Client certificates: node:tls (a Deno.TlsConn cannot ask for them).
      await child.waitFor(new RegExp(`listening on https://127\\.0\\.0\\.1:${req} with node-tls`));
      await child.waitFor(new RegExp(`listening on https://127\\.0\\.0\\.1:${opt}`));
      await child.waitFor(new RegExp(`listening on https://127\\.0\\.0\\.1:${h2}`));
      const ca = pki.ca.certFile, device = pki.leaves["device-42"]!, intruder = other.leaves.intruder!;

      // require
      const none = await curlTls(req, "/req/none", ca);
      assert.ok(none.status === undefined && none.code !== 0, `no certificate: refused (${JSON.stringify(none)})`);
      assert.deepEqual(await curlTls(req, "/req/device", ca, device), { status: 200, code: 0 });
      assert.notEqual((await curlTls(req, "/req/intruder", ca, intruder)).code, 0, "another CA's: refused");
      // optional
      assert.deepEqual(await curlTls(opt, "/opt/none", ca), { status: 200, code: 0 });
      assert.deepEqual(await curlTls(opt, "/opt/device", ca, device), { status: 200, code: 0 });
      assert.notEqual((await curlTls(opt, "/opt/intruder", ca, intruder)).code, 0, "another CA's: refused");

      // HTTP/2 by ALPN
      assert.deepEqual(await curlTls(h2, "/h2/device", ca, device, true), { status: 200, code: 0 });
      assert.notEqual((await curlTls(h2, "/h2/none", ca, undefined, true)).code, 0, "no certificate: refused");

      const x509 = new X509Certificate(device.cert);
      const shown = `CN=device-42|${x509.fingerprint256.replaceAll(":", "").toLowerCase()}|` +
        `${x509.serialNumber.toLowerCase()}|true`;
      const lines = async (file: string) => (await Deno.readTextFile(file).catch(() => "")).trim().split("\n");
      const reqLog = await pollFor("the req access log", async () => {
        const l = await lines(`${dir}/req.log`);
        return l.length >= 1 && l[0] !== "" ? l : undefined;
      });
      assert.deepEqual(reqLog, [`/req/device|${shown}`], "only the admitted request is logged");
      const optLog = await pollFor("the opt access log", async () => {
        const l = await lines(`${dir}/opt.log`);
        return l.length >= 2 ? l : undefined;
      });
      assert.deepEqual(optLog.sort(), [`/opt/device|${shown}`, "/opt/none||||false"]);
      const h2Log = await pollFor("the h2 access log", async () => {
        const l = await lines(`${dir}/h2.log`);
        return l.length >= 1 && l[0] !== "" ? l : undefined;
      });
      assert.deepEqual(h2Log, [`/h2/device|${shown}`]);
      assert.doesNotMatch(child.output(), /intruder/);
    } finally {
      await child.stop();
      await origin.close();
      await pki.remove();
      await other.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("check --live: a tls_client_ca file that cannot be read, or holds no certificate, is an error at the key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const notPem = `${dir}/not-a-ca.pem`;
    await Deno.writeTextFile(notPem, "just text\n");
    const base = '[upstreams.u]\naddrs = ["127.0.0.1:9"]\n[locations.l]\nupstream = "u"\n' +
      '[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\nglobal_certificates = true\n';
    for (
      const [ca, message] of [
        [`${dir}/missing.pem`, /servers\.s\.tls_client_ca\s+error: Cannot read ".*missing\.pem"/],
        [notPem, /servers\.s\.tls_client_ca\s+error: tls_client_ca holds no PEM certificate/],
      ] as const
    ) {
      const file = `${dir}/pingap.toml`;
      await Deno.writeTextFile(file, `${base}tls_client_ca = "${ca}"\n`);
      const offline = spawnDeno(["run", "--allow-read", "--allow-env", "mod.ts", "check", "-c", file]);
      assert.equal(await offline.exited(), 0, `offline check does not read the file: ${offline.output()}`);
      assert.doesNotMatch(offline.output(), /tls_client_ca/, "and no not-applied warning");
      const live = spawnDeno(["run", "-A", "mod.ts", "check", "--live", "-c", file]);
      assert.notEqual(await live.exited(), 0);
      assert.match(live.output(), message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "client certificates: a CA file rewritten in place applies at the next reload; an unreadable one fails the " +
    "start, and a reload to a CA with no certificate is refused while the old CA keeps serving",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const pki = await makeTestPki([{ name: "localhost" }, { name: "device-42", client: true }]);
    const other = await makeTestPki([{ name: "intruder", client: true }]);
    const origin = await startOrigin("o", echoHandler("o"));
    const port = freePort();
    const caFile = `${dir}/client-ca.pem`;
    const conf = `${dir}/pingap.toml`;
    await Deno.writeTextFile(
      conf,
      `[upstreams.o]\naddrs = ["${origin.addr}"]\n[locations.l]\nupstream = "o"\n` +
        `[servers.s]\naddr = "127.0.0.1:${port}"\nglobal_certificates = true\ntls_client_ca = "${caFile}"\n` +
        `locations = ["l"]\n[certificates.local]\ntls_cert = "${pki.leaves.localhost!.certFile}"\n` +
        `tls_key = "${pki.leaves.localhost!.keyFile}"\nis_default = true\n`,
    );
    const start = () => spawnDeno([...RUN, conf]);
    const device = pki.leaves["device-42"]!, intruder = other.leaves.intruder!, ca = pki.ca.certFile;
    try {
      // No CA file yet: the start fails, naming the key.
      const failed = start();
      assert.notEqual(await failed.exited(), 0);
      assert.match(failed.output(), /servers\.s\.tls_client_ca: Cannot read/);

      await Deno.writeTextFile(caFile, pki.ca.cert);
      const child = start();
      try {
        await child.waitFor(/listening on https/);
        assert.equal((await curlTls(port, "/", ca, device)).status, 200);
        assert.equal((await curlTls(port, "/", ca, intruder)).status, undefined);
        // The same config, the CA file rewritten: the reload reads it.
        await Deno.writeTextFile(caFile, other.ca.cert);
        Deno.kill(child.pid, "SIGHUP");
        await child.waitFor(/reload \(SIGHUP\): /);
        assert.equal((await curlTls(port, "/", ca, intruder)).status, 200);
        assert.equal((await curlTls(port, "/", ca, device)).status, undefined);
        // A CA file with no certificate: refused, the old CA serves on.
        await Deno.writeTextFile(caFile, "not a certificate\n");
        Deno.kill(child.pid, "SIGHUP");
        await child.waitFor(/reload \(SIGHUP\) failed: Certificates cannot be served/);
        assert.match(child.output(), /tls_client_ca holds no PEM certificate/);
        assert.equal((await curlTls(port, "/", ca, intruder)).status, 200);
      } finally {
        await child.stop();
      }
    } finally {
      await origin.close();
      await pki.remove();
      await other.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
